"""Contact import from CSV on both engines: errors naming line and field, all or
nothing unless bad lines are skipped, updates, consent, accounts by e-mail domain."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.test_campaigns_db import workspace
from webleads.campaigns.contacts import import_contacts, parse_consent
from webleads.db import contacts_import as cdb
from webleads.db.schema import accounts, contacts
from webleads.db.schema_campaigns import contact_consents
from webleads.sites import NewSite

NOW = datetime(2026, 4, 1, 9, tzinfo=UTC)


def count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def add_account(engine: Engine, ws: int, name: str, domain: str) -> int:
    with engine.begin() as conn:
        return int(conn.execute(accounts.insert().values(
            workspace_id=ws, org_key=name.lower(), name=name, domain=domain,
            category="enterprise", visits=1, pageviews=1, engaged_ms=0, first_seen=NOW,
            last_seen=NOW).returning(accounts.c.id)).scalar_one())


BAD = ("email,name,organisation,consent\n"
       "jeanne.martin@acme.fr,Jeanne Martin,Acme,yes\n"
       "not-an-address,Paul,,no\n"
       "paul@acme.fr,Paul," + "x" * 201 + ",peut-être\n"
       "JEANNE.MARTIN@acme.fr,Jeanne,,oui\n"
       ",Nobody,,\n")


def test_errors_name_line_and_field_and_nothing_is_imported(engine: Engine,
                                                            site: NewSite) -> None:
    ws = workspace(engine, site)
    with engine.begin() as conn:
        result = import_contacts(conn, ws, BAD, now=NOW)
    assert [str(e) for e in result.errors] == [
        "line 3, email: 'not-an-address' is not an e-mail address",
        "line 4, organisation: longer than 200 characters",
        "line 4, consent: 'peut-être': write yes or no",
        "line 5, email: jeanne.martin@acme.fr is already on line 2",
        "line 6, email: missing",
        "line 6, consent: write yes or no",
    ]
    assert [(e.code, e.value) for e in result.errors][:4] == [
        ("not_email", "not-an-address"), ("too_long", "200"), ("consent", "peut-être"),
        ("duplicate", "2")]
    assert (result.lines, result.created, result.imported) == (5, 0, False)
    assert count(engine, contacts) == 0 and count(engine, contact_consents) == 0


def test_skip_invalid_imports_the_good_lines(engine: Engine, site: NewSite) -> None:
    ws = workspace(engine, site)
    with engine.begin() as conn:
        result = import_contacts(conn, ws, BAD, now=NOW, skip_invalid=True)
    assert (result.lines, result.created, result.updated, result.skipped) == (5, 1, 0, 4)
    assert len(result.errors) == 6
    with engine.connect() as conn:
        found = cdb.contact_by_email(conn, ws, "jeanne.martin@acme.fr")
    assert found is not None and (found.name, found.organisation, found.consent) == (
        "Jeanne Martin", "Acme", True)


def test_french_headers_semicolons_updates_and_accounts(engine: Engine, site: NewSite) -> None:
    ws = workspace(engine, site)
    acme = add_account(engine, ws, "Acme Industries", "acme.fr")
    first = ("\ufeffCourriel;Nom;Société;Consentement\n"
             "Jeanne.Martin@ACME.fr;Jeanne Martin;Acme;oui\n"
             "paul.durand@gmail.com;Paul Durand;Acme;non\n"
             "lea@unknown-corp.example;Léa;Unknown Corp;Oui\n")
    with engine.begin() as conn:
        result = import_contacts(conn, ws, first, now=NOW)
    assert (result.errors, result.created, result.updated, result.attached) == ((), 3, 0, 1)
    with engine.connect() as conn:
        jeanne = cdb.contact_by_email(conn, ws, "jeanne.martin@acme.fr")
        paul = cdb.contact_by_email(conn, ws, "paul.durand@gmail.com")
        lea = cdb.contact_by_email(conn, ws, "lea@unknown-corp.example")
    assert jeanne and paul and lea
    assert (jeanne.account_id, jeanne.account_name, jeanne.consent) == (acme, "Acme Industries",
                                                                        True)
    # Free mail never names an account, even with an organisation in the file.
    assert (paul.account_id, paul.consent, paul.organisation) == (None, False, "Acme")
    assert lea.account_id is None  # no account with that domain yet
    # A second import: an empty cell keeps the old value; consent follows the file.
    second = "email,name,organisation,consent\njeanne.martin@acme.fr,,,no\n"
    with engine.begin() as conn:
        again = import_contacts(conn, ws, second, now=NOW)
    assert (again.created, again.updated) == (0, 1)
    with engine.connect() as conn:
        jeanne2 = cdb.contact_by_email(conn, ws, "jeanne.martin@acme.fr")
        counts = cdb.count_contacts(conn, ws)
    assert jeanne2 and (jeanne2.name, jeanne2.organisation, jeanne2.consent) == (
        "Jeanne Martin", "Acme", False)
    assert (counts.total, counts.consenting, counts.with_account) == (3, 1, 1)


def test_header_problems(engine: Engine, site: NewSite) -> None:
    ws = workspace(engine, site)
    with engine.begin() as conn:
        missing = import_contacts(conn, ws, "name,organisation\nJeanne,Acme\n", now=NOW)
        empty = import_contacts(conn, ws, "", now=NOW)
    assert [str(e) for e in missing.errors] == ["line 1, email, consent: missing column"]
    assert [e.code for e in empty.errors] == ["missing_column"]


def test_consent_words() -> None:
    for word in ("yes", "Oui", " TRUE ", "1", "o"):
        assert parse_consent(word) is True
    for word in ("no", "NON", "false", "0"):
        assert parse_consent(word) is False


def test_erasing_a_contact_takes_its_consent_and_clicks(engine: Engine, site: NewSite) -> None:
    """The privacy erasure deletes contacts: their consent and tracked clicks go with them
    (ON DELETE CASCADE), their deals stay, without the contact (SET NULL)."""
    from tests.test_campaigns_db import add
    from webleads.db import campaigns as db
    from webleads.db.privacy import unlink_and_delete_contacts
    from webleads.db.schema_campaigns import deals, tracked_clicks

    ws = workspace(engine, site)
    campaign = add(engine, ws, "Salon", "event", utm="salon-2026")
    with engine.begin() as conn:
        import_contacts(conn, ws, "email,consent\njeanne@acme.fr,yes\n", now=NOW)
        jeanne = cdb.contact_by_email(conn, ws, "jeanne@acme.fr")
        assert jeanne is not None
        cdb.insert_click(conn, "n" * 22, workspace_id=ws, campaign_id=campaign.id,
                         contact_id=jeanne.id, now=NOW, expires_at=NOW)
        db.insert_deals(conn, ws, [db.NewDeal(day=NOW.date(), amount_cents=100, currency="EUR",
                                              account_id=None, contact_id=jeanne.id,
                                              campaign_id=campaign.id, ref="r1")], now=NOW)
    with engine.begin() as conn:
        unlink_and_delete_contacts(conn, [jeanne.id])
    assert count(engine, contacts) == count(engine, contact_consents) == 0
    assert count(engine, tracked_clicks) == 0
    with engine.connect() as conn:
        assert conn.execute(sa.select(deals.c.contact_id, deals.c.amount_cents)).all() == [
            (None, 100)]

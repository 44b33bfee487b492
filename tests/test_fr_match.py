"""Matching accounts to French companies, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webleads.db import fr as db
from webleads.db.schema import accounts
from webleads.db.schema_fr import account_fr
from webleads.fr import match
from webleads.fr.sirene import import_establishments, import_units
from webleads.sites import NewSite

FIXTURES = Path(__file__).parent / "fixtures" / "fr"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def companies(engine: Engine) -> Engine:
    import_units(engine, FIXTURES / "StockUniteLegale_utf8.csv", now=NOW)
    import_establishments(engine, FIXTURES / "StockEtablissement_utf8.csv", now=NOW)
    return engine


def add_account(engine: Engine, workspace_id: int, name: str, *, domain: str | None = None,
                country: str | None = "FR", category: str = "enterprise") -> int:
    with engine.begin() as conn:
        return int(conn.execute(sa.insert(accounts).values(
            workspace_id=workspace_id, org_key=f"{name}|{domain}|{country}", name=name,
            domain=domain, category=category, country=country, visits=1, pageviews=1,
            engaged_ms=0, first_seen=NOW, last_seen=NOW,
        ).returning(accounts.c.id)).scalar_one())


def stored(engine: Engine) -> dict[int, tuple[str, float, str]]:
    with engine.connect() as conn:
        return {r.account_id: (r.siren, r.confidence, r.method)
                for r in conn.execute(sa.select(account_fr))}


# (name, domain, country, category) -> (siren or None, lowest, highest confidence, method)
CASES: list[tuple[tuple[str, str | None, str | None, str],
                  tuple[str | None, float, float, str | None]]] = [
    (("Société Générale S.A.", None, "FR", "enterprise"), ("100000001", 0.95, 0.98, "name")),
    (("SOCIETE GENERALE", "societegenerale.fr", None, "enterprise"),
     ("100000001", 0.98, 0.99, "name")),  # name and domain agree
    (("Societe Generalle", None, "FR", "enterprise"), ("100000001", 0.80, 0.90, "name")),
    (("Société Générale", None, "DE", "enterprise"), (None, 0, 0, None)),  # not in France
    (("Société Générale", None, "FR", "isp"), (None, 0, 0, None)),  # not an organisation
    (("ACME Solutions SAS", None, "FR", "enterprise"), ("100000004", 0.90, 0.93, "name")),
    (("L'Oréal", "loreal.com", "FR", "enterprise"), ("100000003", 0.98, 0.99, "name")),
    (("SNCF Voyageurs", None, "FR", "enterprise"), ("100000009", 0.89, 0.91, "name")),
    (("Groupe SNCF", None, "FR", "government"), ("100000009", 0.84, 0.86, "name")),
    (("Petite Boîte", None, "FR", "education"), ("100000012", 0.97, 0.97, "name")),
    (("Techno Diffusion Sarl", None, "RE", "enterprise"), ("100000010", 0.97, 0.97, "name")),
    (("Unknown Widgets", "unknown-widgets.fr", "FR", "enterprise"), (None, 0, 0, None)),
    (("Mega Corp", None, "FR", "enterprise"), (None, 0, 0, None)),  # too far from the name
    (("Something", "mega-corp-france.com", "FR", "enterprise"),
     ("100000011", 0.90, 0.90, "domain")),
    (("sncf.com", "sncf.com", "FR", "enterprise"), ("100000009", 0.80, 0.80, "domain")),
    (("loreal.fr", None, None, "enterprise"), ("100000003", 0.90, 0.90, "domain")),
]


def test_matching_table(companies: Engine, site: NewSite) -> None:
    ws = site.site.workspace_id
    ids = [add_account(companies, ws, name, domain=domain, country=country, category=cat)
           for (name, domain, country, cat), _ in CASES]
    report = match.match_accounts(companies, now=NOW, workspace_id=ws)
    found = stored(companies)
    for account_id, ((name, *_), (siren, low, high, method)) in zip(ids, CASES, strict=True):
        if siren is None:
            assert account_id not in found, name
            continue
        got_siren, confidence, got_method = found[account_id]
        assert (got_siren, got_method) == (siren, method), name
        assert low <= confidence <= high, (name, confidence)
    assert report.examined == len(CASES)
    assert report.skipped == {"not_fr": 1, "not_organisation": 1}
    assert report.unmatched == 2
    assert sum(report.matched.values()) == len(CASES) - 4
    assert report.online == {}


def test_a_near_miss_is_less_sure_than_the_exact_name(companies: Engine, site: NewSite) -> None:
    ws = site.site.workspace_id
    exact = add_account(companies, ws, "Société Générale S.A.")
    near = add_account(companies, ws, "Societe Generalle")
    match.match_accounts(companies, now=NOW)
    found = stored(companies)
    assert found[exact][0] == found[near][0] == "100000001"
    assert found[near][1] < found[exact][1]


def test_ties_prefer_the_active_larger_company(companies: Engine, site: NewSite) -> None:
    # Three units are named ACME SOLUTIONS: one ceased, two active (20-49 and 6-9).
    account = add_account(companies, site.site.workspace_id, "Acme Solutions")
    match.match_accounts(companies, now=NOW, account_id=account)
    siren, confidence, _ = stored(companies)[account]
    assert siren == "100000004"
    assert confidence == pytest.approx(match.EXACT["name"] - match.TIE_PENALTY)
    with companies.connect() as conn:
        found = db.match_of(conn, account)
    assert found is not None
    company, _, method = found
    assert (company.headcount_band, company.postcode, method) == ("12", "69003", "name")


def test_only_the_chosen_account_or_workspace(companies: Engine, site: NewSite) -> None:
    ws = site.site.workspace_id
    first = add_account(companies, ws, "Société Générale")
    second = add_account(companies, ws, "L'Oréal")
    report = match.match_accounts(companies, now=NOW, account_id=second)
    assert report.examined == 1 and list(stored(companies)) == [second]
    report = match.match_accounts(companies, now=NOW, workspace_id=ws + 1000)
    assert report.examined == 0
    match.match_accounts(companies, now=NOW, workspace_id=ws)
    assert set(stored(companies)) == {first, second}


def test_a_surer_match_found_another_way_is_kept(companies: Engine, site: NewSite) -> None:
    account = add_account(companies, site.site.workspace_id, "Societe Generalle")
    with companies.begin() as conn:
        db.save_match(conn, db.AccountMatch(account, "100000002", 0.95, "api", {}), now=NOW)
    report = match.match_accounts(companies, now=NOW)
    assert report.kept == 1
    assert stored(companies)[account] == ("100000002", 0.95, "api")
    # The same method replaces its own earlier answer.
    with companies.begin() as conn:
        assert db.save_match(conn, db.AccountMatch(account, "100000001", 0.5, "api", {}),
                             now=NOW)
    assert stored(companies)[account] == ("100000001", 0.5, "api")


def test_rematching_is_idempotent(companies: Engine, site: NewSite) -> None:
    account = add_account(companies, site.site.workspace_id, "Société Générale S.A.")
    match.match_accounts(companies, now=NOW)
    first = stored(companies)
    match.match_accounts(companies, now=NOW)
    assert stored(companies) == first
    with companies.connect() as conn:
        assert [a.account_id for a in db.accounts_of_company(conn, "100000001")] == [account]


def test_deleting_an_account_deletes_its_match(companies: Engine, site: NewSite) -> None:
    account = add_account(companies, site.site.workspace_id, "Société Générale")
    match.match_accounts(companies, now=NOW)
    with companies.begin() as conn:
        conn.execute(sa.delete(accounts).where(accounts.c.id == account))
    assert stored(companies) == {}


def test_search_lists_similar_names(companies: Engine) -> None:
    with companies.connect() as conn:
        found = match.search(conn, "Société Générale")
    assert [c.company.siren for c in found][:2] == ["100000001", "100000002"]
    assert found[0].confidence == 1.0


@pytest.mark.parametrize(("a", "b", "low", "high"), [
    ("societe generale", "societe generale", 100, 100),
    ("societe generalle", "societe generale", 90, 99),
    ("generale societe", "societe generale", 100, 100),
    ("sg", "sg", 100, 100),
    ("sg", "sa", 0, 0),
    ("mega corp", "mega corp france", 0, 84),
    ("", "x", 0, 0),
])
def test_similarity(a: str, b: str, low: float, high: float) -> None:
    assert low <= match.similarity(a, b) <= high

"""The commands of contacts, tracked links, deals, conversions and summaries, in-process
on both engines, in English and French."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.test_campaigns_cli import cli, text  # noqa: F401 - fixture
from webleads.db.schema_outbox import outbox
from webleads.sites import NewSite
from webleads.users import Users


def test_contacts_links_deals_conversions(cli: Any, site: NewSite, engine: Engine,  # noqa: F811
                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    ended = date.today() - timedelta(days=1)  # yesterday: its summary is due
    assert cli("campaigns", "add", "Salon", "--channel", "event", "--objective", "revenue",
               "--from", (ended - timedelta(days=30)).isoformat(), "--to", ended.isoformat(),
               "--utm-campaign", "salon-2026", "--budget", "1000").exit_code == 0
    people = tmp_path / "contacts.csv"
    people.write_text("email;nom;société;consentement\n"
                      "jeanne@acme.example;Jeanne;Acme;oui\n"
                      "paul@acme.example;Paul;Acme;peut-être\n")
    r = cli("campaigns", "contacts", "import", str(people))
    assert r.exit_code == 1
    assert "line 3, consent: 'peut-être': write yes or no" in text(r.output)
    assert "Nothing imported: 1 error(s)" in text(r.output)
    r = cli("campaigns", "contacts", "import", str(people), "--skip-invalid")
    assert r.exit_code == 0 and "1 contacts added, 0 updated" in text(r.output)
    assert "1 bad line(s) left out" in text(r.output)

    r = cli("campaigns", "contacts", "link", "salon-2026", "Jeanne@acme.example",
            "https://example.com/erp", "--base", "https://t.example/")
    assert r.exit_code == 0, r.output
    until = ended + timedelta(days=91)  # the end of its last day, and 90 days

    assert "https://t.example/r/" in r.output
    assert f"valid until {until.isoformat()}" in text(r.output)
    r = cli("campaigns", "contacts", "link", "salon-2026", "paul@acme.example",
            "https://example.com/erp", "--base", "https://t.example/")
    assert r.exit_code == 2 and "no contact" in text(r.output)
    r = cli("campaigns", "contacts", "link", "salon-2026", "jeanne@acme.example",
            "https://evil.example/", "--base", "https://t.example/")
    assert r.exit_code == 2 and "not on a site of this workspace" in text(r.output)
    out = tmp_path / "links.csv"
    r = cli("campaigns", "contacts", "links", "salon-2026", "https://example.com/erp",
            "--base", "https://t.example", "--output", str(out))
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(out.read_text().splitlines()))
    assert rows[0] == ["email", "name", "organisation", "link"]
    assert [r[:3] for r in rows[1:]] == [["jeanne@acme.example", "Jeanne", "Acme"]]
    assert rows[1][3].startswith("https://t.example/r/")

    r = cli("campaigns", "deals", "add", "--day", "2026-04-02", "--email", "jeanne@acme.example",
            "--amount", "1200,50", "--campaign", "salon-2026")
    assert r.exit_code == 0 and "Deal of 1200.50 EUR on 2026-04-02 saved." in text(r.output)
    r = cli("campaigns", "deals", "add", "--day", "2026-04-02", "--account", "nowhere.example",
            "--amount", "1")
    assert r.exit_code == 2 and "no account with the domain nowhere.example" in text(r.output)
    deals = tmp_path / "deals.csv"
    deals.write_text("jour,courriel,montant,devise,campagne\n"
                     "2026-04-03,jeanne@acme.example,300,EUR,Salon\n")
    for added in ("1 deals added, 0 already there", "0 deals added, 1 already there"):
        r = cli("campaigns", "deals", "import", str(deals))
        assert r.exit_code == 0 and added in text(r.output)
    r = cli("campaigns", "deals", "list")
    assert "1200.50 EUR" in r.output and "jeanne@acme.example" in r.output

    r = cli("campaigns", "conversions", "add", "Demo", "--kind", "event", "--value", "demo")
    assert r.exit_code == 0 and "Conversion 'Demo' (event: demo) added." in text(r.output)
    assert cli("campaigns", "conversions", "add", "X", "--kind", "page").exit_code == 2
    assert "Demo" in cli("campaigns", "conversions", "list").output
    assert cli("campaigns", "conversions", "remove", "demo").exit_code == 0
    assert cli("campaigns", "conversions", "remove", "demo").exit_code == 1
    assert "No conversion defined yet" in text(cli("campaigns", "conversions", "list").output)

    data = json.loads(cli("campaigns", "report", "--json").output)
    [row] = data["campaigns"]
    # Both deals are credited in full to the campaign: 1,500.50 for 1,000 of budget, no cost.
    assert (row["won_deals"], row["revenue_cents"]["linear"], row["roi"]["linear"]) == (
        2, 150050, None)
    report = text(cli("campaigns", "report").output)
    assert "won deals" in report and "1500.50 EUR" in report

    # The campaign ended yesterday: its summary goes to the workspace's admins.
    Users(engine).create("ada@example.com", "correct horse battery", name="Ada",
                         workspace=site.site.workspace_id, role="admin", locale="fr")
    monkeypatch.setenv("WEBLEADS_LANG", "fr")
    r = cli("campaigns", "summaries", "send")
    assert r.exit_code == 0 and "1 bilan(s) par e-mail mis dans la file d'envoi" in text(
        r.output)
    assert "0 bilan(s)" in text(cli("campaigns", "summaries", "send").output)
    with engine.connect() as conn:
        [message] = conn.execute(sa.select(outbox)).all()
    assert message.destination == "ada@example.com" and message.language == "fr"
    r = cli("campaigns", "contacts", "import", str(people))
    assert "Rien n'a été importé : 1 erreur(s)" in text(r.output)

"""The campaign commands in-process on both engines, and their messages in English and
French."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from webleads.campaigns import cli as campaigns_cli
from webleads.campaigns.messages import MESSAGES
from webleads.sites import NewSite

app = typer.Typer()
campaigns_cli.register(app)


def text(output: str) -> str:
    return " ".join(output.split())


@pytest.fixture
def cli(db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("WEBLEADS_DATABASE_URL", db_url)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("WEBLEADS_LANG", raising=False)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


def test_both_languages_have_the_same_keys() -> None:
    assert set(MESSAGES["en"]) == set(MESSAGES["fr"])


def test_add_list_costs_link_report(cli: Any, site: NewSite, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    r = cli("campaigns", "add", "Salon Industrie", "--channel", "event", "--objective", "mqls",
            "--from", "2026-03-01", "--to", "2026-03-31", "--range", "ERP",
            "--budget", "5000", "--utm-campaign", "Salon-2026")
    assert r.exit_code == 0, r.output
    assert "utm_campaign=salon-2026" in text(r.output)
    r = cli("campaigns", "add", "X", "--channel", "event", "--objective", "sales",
            "--from", "2026-03-01", "--to", "2026-03-31")
    assert r.exit_code == 2 and "objective 'sales' is not one of" in text(r.output)
    r = cli("campaigns", "add", "X", "--channel", "event", "--objective", "visits",
            "--from", "2026-03-31", "--to", "2026-03-01")
    assert r.exit_code == 2 and "ends before it starts" in text(r.output)
    r = cli("campaigns", "list")
    assert "Salon Industrie" in r.output and "5000.00 EUR" in r.output

    costs = tmp_path / "costs.csv"
    costs.write_text("day,campaign,amount,currency\n2026-03-01,salon-2026,10,EUR\n"
                     "2026-03-02,salon-2026,ten,EUR\n")
    r = cli("campaigns", "costs", "import", str(costs))
    assert r.exit_code == 1
    assert "line 3, amount: amount 'ten' is not a number" in text(r.output)
    costs.write_text("day,campaign,amount,currency\n2026-03-01,salon-2026,1200.50,EUR\n")
    r = cli("campaigns", "costs", "import", str(costs))
    assert r.exit_code == 0 and "1200.50 EUR" in r.output

    r = cli("campaigns", "link", "salon-2026", "https://example.com/erp", "--source",
            "linkedin", "--medium", "social", "--base", "https://t.example.com/")
    assert r.exit_code == 0, r.output
    assert ("https://example.com/erp?utm_source=linkedin&utm_medium=social"
            "&utm_campaign=salon-2026") in r.output
    assert "https://t.example.com/l/" in r.output
    assert cli("campaigns", "link", "nope", "https://example.com/").exit_code == 1

    r = cli("campaigns", "report", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    [row] = data["campaigns"]
    assert (row["name"], row["cost_cents"], row["mqls"], row["cost_per_mql_cents"]) == (
        "Salon Industrie", 120050, 0, None)
    r = cli("campaigns", "report", "Salon Industrie", "--model", "linear")
    assert r.exit_code == 0 and "Salon Industrie" in r.output and "1200.50 EUR" in r.output
    assert cli("campaigns", "report", "--model", "u-shaped").exit_code == 2

    monkeypatch.setenv("WEBLEADS_LANG", "fr")
    r = cli("campaigns", "report", "--model", "time-decay")
    assert "crédits des conversions MQL : time_decay" in text(r.output)

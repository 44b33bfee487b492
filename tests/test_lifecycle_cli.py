"""The lifecycle commands, in-process on both engines, and their messages in English
and French."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from tests.test_lifecycle_stages import account_id, collect, pages
from webleads.lifecycle import cli as lifecycle_cli
from webleads.lifecycle.messages import MESSAGES
from webleads.scoring import cli as scoring_cli
from webleads.sites import NewSite

app = typer.Typer()
scoring_cli.register(app)
lifecycle_cli.register(app)


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


def test_stage_owners_rules_alerts(cli: Any, engine: Engine, site: NewSite) -> None:
    collect(engine, pages(site.site, "/"))
    acme = str(account_id(engine))
    r = cli("stage", "set", acme, "sql", "--by", "alice", "--reason", "call booked")
    assert r.exit_code == 0, r.output
    assert "anonymous -> sql (by alice)" in text(r.output)
    r = cli("stage", "history", acme)
    assert "alice" in r.output and "call booked" in r.output
    r = cli("stage", "set", acme, "won")
    assert r.exit_code == 2 and "unknown stage 'won'" in text(r.output)
    assert cli("stage", "set", "999", "sql").exit_code == 1

    assert cli("owners", "add", "Ann", "ann@example.com", "--team", "inside",
               "--language", "fr").exit_code == 0
    r = cli("owners", "add", "Bob", "bob@example.com", "--language", "de")
    assert r.exit_code == 2 and "language" in r.output
    assert "ann@example.com" in cli("owners", "list").output

    assert cli("assign", "rule", "add", "territory", "--owner", "ann@example.com",
               "--country", "FR", "--postcode", "75").exit_code == 0
    assert cli("assign", "rule", "add", "round_robin", "--team", "inside").exit_code == 0
    r = cli("assign", "rule", "add", "sector", "--owner", "ann@example.com")
    assert r.exit_code == 2 and "naf" in r.output
    listed = cli("assign", "rule", "list").output
    assert "territory" in listed and "round_robin" in listed

    assert cli("alerts", "add", "hot_page", "--channel", "email", "--destination", "owner",
               "--pages", "/pricing*,/demo*", "--quiet", "20:00-08:00", "--digest"
               ).exit_code == 0
    r = cli("alerts", "add", "score_crosses", "--channel", "slack", "--destination",
            "https://hooks.slack.com/services/x")
    assert r.exit_code == 2 and "--threshold" in r.output
    r = cli("alerts", "add", "hot_page", "--channel", "email", "--destination", "a@b.c",
            "--quiet", "late")
    assert r.exit_code == 2 and "quiet hours" in r.output
    listed = cli("alerts", "list").output
    assert "hot_page" in listed and "/demo*" in listed


def test_late_touch_and_digest(cli: Any, engine: Engine, site: NewSite) -> None:
    collect(engine, pages(site.site, "/"))
    acme = str(account_id(engine))
    assert cli("stage", "set", acme, "mql", "--by", "bob").exit_code == 0
    assert "No account is late" in cli("accounts", "late").output  # touched by the move
    r = cli("account", "touch", acme)
    assert r.exit_code == 0 and "touched" in r.output
    assert cli("account", "touch", "999").exit_code == 1
    r = cli("digest", "send", "--date", "2026-03-01")
    assert r.exit_code == 0 and "0 digests enqueued for 2026-03-01" in r.output
    r = cli("digest", "send", "--date", "yesterday")
    assert r.exit_code == 2 and "--date" in r.output


def test_french(cli: Any, engine: Engine, site: NewSite, monkeypatch: pytest.MonkeyPatch
                ) -> None:
    monkeypatch.setenv("WEBLEADS_LANG", "fr")
    r = cli("owners", "list")
    assert "Aucun responsable" in r.output

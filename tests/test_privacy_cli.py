"""``webleads privacy export|erase|retention|record``, ``webleads purge`` and
``webleads audit`` on a small Typer app of their own (``register(app)``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import typer
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from tests.test_privacy_helpers import ACME, count, hit, store_batch, visit
from webleads.db.schema import contacts, hits
from webleads.privacy.cli import register
from webleads.settings import Settings
from webleads.sites import NewSite

JANE = "jane@acme.example"


@pytest.fixture
def cli(settings: Settings) -> tuple[typer.Typer, dict[str, str]]:
    app = typer.Typer()
    register(app)
    env = {"WEBLEADS_DATABASE_URL": settings.database_url, "WEBLEADS_LANG": "en",
           "WEBLEADS_SECRET_KEY": "test-secret", "COLUMNS": "250"}
    return app, env


def _run(cli: tuple[typer.Typer, dict[str, str]], *args: str, lang: str = "en"
         ) -> tuple[int, str, str]:
    app, env = cli
    result = CliRunner().invoke(app, list(args), env={**env, "WEBLEADS_LANG": lang})
    return result.exit_code, result.stdout, result.stderr


def test_export_erase_and_audit(cli: tuple[typer.Typer, dict[str, str]], engine: Engine,
                                site: NewSite) -> None:
    now = datetime.now(UTC)
    store_batch(engine, visit(site.site, "v-jane", now - timedelta(hours=1), email=JANE))
    code, out, _ = _run(cli, "privacy", "export", JANE, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["contacts"][0]["email"] == JANE and len(data["hits"]) == 4
    code, out, _ = _run(cli, "privacy", "export", JANE, lang="fr")
    assert code == 0 and "Données conservées sur jane@acme.example" in out

    code, _, err = _run(cli, "privacy", "erase", JANE)  # stdin is not a terminal
    assert code == 2 and "--yes" in err
    assert count(engine, contacts) == 1
    code, _, err = _run(cli, "privacy", "erase", "not-an-address", "--yes")
    assert code == 2 and "not an e-mail" in err

    # An unlinked visit that carries the address in its URL (a newsletter link).
    store_batch(engine, [hit(site.site, "v-other", now - timedelta(minutes=5), network=ACME,
                             url="https://example.com/?email=jane%40acme.example")])
    code, out, _ = _run(cli, "privacy", "erase", JANE, "--yes", "--by", "dpo@example.com")
    assert code == 0 and "Erased jane@acme.example" in out
    assert "Found by text search and erased too: 1 hits" in " ".join(out.split())
    assert count(engine, contacts) == 0 and count(engine, hits) == 0
    code, out, _ = _run(cli, "privacy", "erase", JANE, "--yes")
    assert code == 0 and "Nothing is held" in out

    code, out, _ = _run(cli, "audit", "--json", "--last", "10")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [x["action"] for x in lines] == ["privacy.erase", "privacy.erase",
                                            "privacy.export", "privacy.export"]
    assert [x["actor"] for x in lines[:2]] == ["cli", "dpo@example.com"]
    assert JANE not in out
    code, out, _ = _run(cli, "audit")
    assert code == 0 and "privacy.erase" in out


def test_retention_and_purge(cli: tuple[typer.Typer, dict[str, str]], engine: Engine,
                             site: NewSite) -> None:
    key = site.site.key
    now = datetime.now(UTC)
    store_batch(engine, visit(site.site, "v-old", now - timedelta(days=50)))
    store_batch(engine, visit(site.site, "v-new", now - timedelta(days=1)))
    code, out, _ = _run(cli, "privacy", "retention")
    assert code == 0 and f"{key}: hits 400 days, sessions 760 days, contacts 1095" in out
    code, _, err = _run(cli, "privacy", "retention", "--site", key, "--hits-days", "0")
    assert code == 2
    code, out, _ = _run(cli, "privacy", "retention", "--site", key, "--hits-days", "30")
    assert code == 0 and "hits 30 days" in out
    code, _, err = _run(cli, "purge", "--site", "nope")
    assert code == 1 and "No site" in err
    code, out, _ = _run(cli, "purge", "--dry-run")
    assert code == 0 and "3 hits" in out and "dry run" in out
    assert count(engine, hits) == 6
    code, out, _ = _run(cli, "purge", "--site", key, lang="fr")
    assert code == 0 and "3 hits" in out and "purgés" in out
    assert count(engine, hits) == 3
    code, out, _ = _run(cli, "audit", "--json")
    assert [json.loads(x)["action"] for x in out.splitlines()] == ["retention.purge",
                                                                   "retention.set"]


def test_every_message_exists_in_both_languages() -> None:
    from webleads.privacy import messages, record

    assert set(messages.MESSAGES["en"]) == set(messages.MESSAGES["fr"])
    assert set(record._T["en"]) == set(record._T["fr"])

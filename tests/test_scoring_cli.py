"""The scoring commands: scoring export/import, rescore, accounts (list, why, targets)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from tests.test_scoring_db import GLOBEX, T0, hit, ledger, score_batch
from webleads.db.schema import accounts
from webleads.scoring import document
from webleads.scoring.cli import register
from webleads.sites import NewSite

Run = Callable[..., Result]


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Run:
    monkeypatch.setenv("WEBLEADS_DATABASE_URL", db_url)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("WEBLEADS_LANG", raising=False)
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def run(*args: str, lang: str | None = None) -> Result:
        env = {"WEBLEADS_LANG": lang} if lang else None
        return runner.invoke(app, list(args), catch_exceptions=False, env=env)

    return run


@pytest.fixture
def visited(engine: Engine, site: NewSite) -> NewSite:
    s = site.site
    ago = datetime.now(UTC) - timedelta(minutes=10) - T0  # the commands read the clock
    score_batch(engine, [
        hit(s, "a1", ago, path="/pricing", group="crm"),
        hit(s, "a1", ago + timedelta(minutes=1), path="/products/crm", group="crm"),
        hit(s, "a2", ago + timedelta(minutes=2), path="/demo"),
        hit(s, "g1", ago, network=GLOBEX, path="/products/erp", group="erp"),
    ])
    return site


def test_export_then_import_then_rescore(cli: Run, visited: NewSite, engine: Engine,
                                         tmp_path: Path) -> None:
    exported = cli("scoring", "export")
    assert exported.exit_code == 0, exported.output
    config = document.loads(exported.stdout)
    assert [r.name for r in config.rules or []] == [
        r.name for r in document.defaults().rules or []]
    file = tmp_path / "rules.toml"
    file.write_text(exported.stdout.replace("points = 20", "points = 40", 1), encoding="utf-8")
    done = cli("scoring", "import", str(file), "--workspace", "default")
    assert done.exit_code == 0, done.output
    assert "webleads rescore --workspace 1" in done.stdout
    assert [r[7] for r in ledger(engine) if r[3] == "pricing"] == [20]  # not yet rescored
    again = cli("rescore", "--site", visited.site.key)
    assert again.exit_code == 0, again.output
    assert "Workspace 1: 4 hits rescored, 4 ledger lines." in again.stdout
    assert [r[7] for r in ledger(engine) if r[3] == "pricing"] == [40]
    as_json = cli("rescore", "--json")
    assert json.loads(as_json.stdout) == [{"workspace_id": 1, "hits": 4, "lines": 4}]


def test_a_bad_file_names_the_rule_and_the_field(cli: Run, visited: NewSite, engine: Engine,
                                                 tmp_path: Path) -> None:
    file = tmp_path / "bad.toml"
    file.write_text("[[rules]]\nname = 'pricing'\nlabel = 'pricing'\npoints = 'many'\n"
                    "[[rules]]\nname = 'x'\nlabel = 'x'\npoints = 1\n"
                    "when = { path_regex = '(' }\n", encoding="utf-8")
    result = cli("scoring", "import", str(file))
    assert result.exit_code == 1
    assert "rules[1] (pricing): points: expected integer" in result.stderr
    assert "rules[2] (x): when.path_regex: invalid regular expression" in result.stderr
    french = cli("scoring", "import", str(file), lang="fr")
    assert "rules[1] (pricing) : points: attendu : un entier" in french.stderr
    assert "Rien n'est importé : 2 problème(s)" in french.stderr
    missing = cli("scoring", "import", str(tmp_path / "none.toml"))
    assert missing.exit_code == 1 and "Cannot read" in missing.stderr
    assert cli("scoring", "export", "--workspace", "nope").exit_code == 1


def test_accounts_list_targets_and_why(cli: Run, visited: NewSite, engine: Engine) -> None:
    key = visited.site.key
    listed = cli("accounts", "--site", key, "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["grade"], r["stage"], r["committee"]) for r in rows] == [
        ("Acme SA", "C", "engaged", 2), ("Globex Corp", "D", "anonymous", 1)]
    assert rows[0]["reasons"] == ["+25 demo or contact page", "+20 pricing page",
                                  "+5 product page"]
    assert rows[0]["owner"] is None and set(rows[0]["interest"]) == {"crm"}
    assert rows[0]["priority"] == pytest.approx(rows[0]["score"] * 0.5, abs=0.01)

    added = cli("accounts", "target", "add", "globex.example", "Nobody Inc")
    assert added.exit_code == 1
    assert "globex.example: marked as target (Globex Corp)." in added.stdout
    assert "Nobody Inc: no account of workspace 1" in added.stderr
    with engine.connect() as conn:
        assert conn.execute(sa.select(accounts.c.name).where(accounts.c.in_target)
                            ).scalars().all() == ["Globex Corp"]
    rows = json.loads(cli("accounts", "--site", key, "--json", "--limit", "1").stdout)
    assert [(r["name"], r["grade"]) for r in rows] == [("Acme SA", "C")]
    rows = json.loads(cli("accounts", "--site", key, "--json").stdout)
    assert rows[1]["grade"] == "A"

    table = cli("accounts", "--site", key)
    assert table.exit_code == 0
    for word in ("Account", "Score", "Grade", "Priority", "Stage", "Owner", "Acme SA",
                 "engaged", "+25 demo or contact page"):
        assert word in table.stdout
    french = cli("accounts", "--site", key, lang="fr")
    assert "Priorité" in french.stdout and "engagé" in french.stdout

    why = cli("accounts", "why", str(rows[0]["id"]), "--json")
    reasons = json.loads(why.stdout)
    assert [(r["name"], r["points"], r["count"]) for r in reasons] == [
        ("demo-contact", 25, 1), ("pricing", 20, 1), ("product", 5, 1)]
    assert cli("accounts", "why", str(rows[0]["id"])).stdout.splitlines()[0] == \
        "+25 demo or contact page"

    removed = cli("accounts", "target", "remove", "GLOBEX CORP")
    assert removed.exit_code == 0 and "no longer a target" in removed.stdout
    assert cli("accounts", "--site", "nope").exit_code == 1
    assert cli("accounts").exit_code == 2


def test_no_accounts_yet(cli: Run, site: NewSite) -> None:
    result = cli("accounts", "--site", site.site.key)
    assert result.exit_code == 0 and "No account has visited this site yet." in result.stdout

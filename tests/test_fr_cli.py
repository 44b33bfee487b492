"""``webleads fr``: the Typer app run in-process on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from tests.test_fr_recherche import FakeApi, api, result  # noqa: F401 (api is a fixture)
from webleads.db.schema import accounts
from webleads.db.schema_fr import account_fr
from webleads.fr.cli import fr_app
from webleads.sites import NewSite

FIXTURES = Path(__file__).parent / "fixtures" / "fr"
UNITS = str(FIXTURES / "StockUniteLegale_utf8.csv")
ESTABLISHMENTS = str(FIXTURES / "StockEtablissement_utf8.csv")
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``cli(*args, lang=...)`` runs ``webleads fr`` against the test database."""
    monkeypatch.setenv("WEBLEADS_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("WEBLEADS_LANG", raising=False)
    runner = CliRunner()

    def run(*args: str, lang: str = "C.UTF-8") -> Result:
        monkeypatch.setenv("LANG", lang)
        return runner.invoke(fr_app, list(args), catch_exceptions=False)

    return run


def text(output: str) -> str:
    return " ".join(output.split())


def add_account(engine: Engine, workspace_id: int, name: str, country: str = "FR") -> int:
    with engine.begin() as conn:
        return int(conn.execute(sa.insert(accounts).values(
            workspace_id=workspace_id, org_key=name, name=name, category="enterprise",
            country=country, visits=1, pageviews=1, engaged_ms=0, first_seen=NOW,
            last_seen=NOW).returning(accounts.c.id)).scalar_one())


def test_import_units_reports_and_skips_bad_lines(cli: Any, tmp_path: Path) -> None:
    errors = tmp_path / "errors.tsv"
    got = cli("import-units", UNITS, "--errors-file", str(errors))
    assert got.exit_code == 0, got.output
    assert ("23 lines read: 14 companies imported or updated, 0 left out by the filters "
            "(0 of them already known and refreshed), 1 without a public name, 8 bad lines "
            "skipped.") in text(got.stdout)
    assert "line 16: siren = '12345': not 9 digits" in text(got.stderr)
    assert "line 22: (line) = '7 fields, 35 expected': wrong number of fields" in text(
        got.stderr)
    assert f"Every bad line is listed in {errors}" in text(got.stderr)
    lines = errors.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "line\tfield\treason\tvalue" and len(lines) == 9
    assert lines[1] == "16\tsiren\tnot_9_digits\t12345"


def test_import_units_with_filters_in_french(cli: Any) -> None:
    got = cli("import-units", UNITS, "--active-only", "--min-headcount", "11",
              lang="fr_FR.UTF-8")
    assert got.exit_code == 0, got.output
    assert "23 lignes lues : 8 entreprises importées" in text(got.stdout)
    assert "ligne 17 : trancheEffectifsUniteLegale = '99' : tranche d'effectif inconnue" in \
        text(got.stderr)


def test_strict_and_bad_options(cli: Any, tmp_path: Path) -> None:
    got = cli("import-units", UNITS, "--strict")
    assert got.exit_code == 1
    assert "line 16: siren = '12345': not 9 digits" in text(got.stderr)
    assert "Stopped at the first bad line (--strict)" in text(got.stderr)
    got = cli("import-units", UNITS, "--min-headcount", "99")
    assert got.exit_code == 2 and "not an INSEE band code" in text(got.stderr)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    got = cli("import-units", str(other))
    assert got.exit_code == 1 and "missing columns: siren, denominationUniteLegale" in text(
        got.stderr)


def test_establishments_need_the_units_first(cli: Any) -> None:
    got = cli("import-establishments", ESTABLISHMENTS)
    assert got.exit_code == 1 and "first run webleads fr import-units" in text(got.stderr)
    assert cli("import-units", UNITS).exit_code == 0
    got = cli("import-establishments", ESTABLISHMENTS)
    assert got.exit_code == 0, got.output
    assert ("12 lines read: 6 head offices stored, 1 head offices of companies that are not "
            "imported, 1 other establishments, 4 bad lines skipped.") in text(got.stdout)


def test_company_by_siren_and_by_name(cli: Any) -> None:
    cli("import-units", UNITS)
    cli("import-establishments", ESTABLISHMENTS)
    got = cli("company", "100 000 001")
    assert got.exit_code == 0, got.output
    out = text(got.stdout)
    for part in ("SOCIETE GENERALE", "64.19Z Other monetary intermediation", "10,000+",
                 "10000000100010 75009 PARIS 9", "active", "stock"):
        assert part in out, part
    got = cli("company", "100000001", lang="fr_FR.UTF-8")
    assert "64.19Z Autres intermédiations monétaires" in text(got.stdout)
    assert "Dénomination" in got.stdout
    got = cli("company", "Acme Solutions", "--json")
    listing = json.loads(got.stdout)
    assert [c["siren"] for c in listing] == ["100000004", "100000014", "100000005"]
    assert listing[0]["naf_label"] == "Computer programming activities"
    got = cli("company", "Acme Solutions")
    assert "ceased" in got.stdout and "Lyon 3EME".upper() in got.stdout
    got = cli("company", "Techno Diffusion", "--json")
    [techno] = json.loads(got.stdout)
    assert (techno["naf"], techno["naf_version"], techno["naf_label"]) == ("62.10A", "NAF2025",
                                                                           None)
    got = cli("company", "Techno Diffusion")
    assert "62.10A (class 62.10: Computer programming activities)" in text(got.stdout)
    got = cli("company", "nothing like it")
    assert got.exit_code == 1 and "No company found for 'nothing like it'" in text(got.stderr)


def test_company_needs_the_schema(cli: Any) -> None:
    got = cli("company", "100000001")
    assert got.exit_code == 1 and "webleads migrate" in text(got.stderr)


def test_match_offline(cli: Any, engine: Engine, site: NewSite, api: FakeApi) -> None:  # noqa: F811
    cli("import-units", UNITS)
    ws = site.site.workspace_id
    sg = add_account(engine, ws, "Société Générale S.A.")
    add_account(engine, ws, "Deutsche Firma", country="DE")
    got = cli("match", "--workspace", "default", "--api-url", api.url)
    assert got.exit_code == 0, got.output
    assert ("2 accounts examined: 1 matched, 0 kept a surer earlier match, 0 without a match, "
            "1 outside France") in text(got.stdout)
    assert "by name: 1" in text(got.stdout)
    assert api.calls == []  # offline unless asked
    with engine.connect() as conn:
        assert conn.execute(sa.select(account_fr.c.account_id, account_fr.c.siren)).all() == [
            (sg, "100000001")]
    got = cli("company", "100000001")
    assert "default / Société Générale S.A. (name, 0.97)" in text(got.stdout)
    got = cli("match", "--workspace", "nope")
    assert got.exit_code == 1 and "No workspace nope" in text(got.stderr)


def test_match_online(cli: Any, engine: Engine, site: NewSite, api: FakeApi) -> None:  # noqa: F811
    api.answers["nantes logiciels"] = [result("200000001", "NANTES LOGICIELS")]
    account = add_account(engine, site.site.workspace_id, "Nantes Logiciels")
    add_account(engine, site.site.workspace_id, "Autre Inconnue")
    got = cli("match", "--online", "--api-url", api.url, "--json")
    assert got.exit_code == 0, got.output
    report = json.loads(got.stdout)
    assert report["matched"] == {"api": 1} and report["online"] == {"ok": 2}
    assert report["online_calls"] == 2 and report["online_gave_up"] is None
    assert [c[1]["q"] for c in api.calls] == ["nantes logiciels", "autre inconnue"]
    got = cli("company", "200000001", "--json")
    [company] = json.loads(got.stdout)
    assert company["source"] == "api" and company["accounts"][0]["account_id"] == account
    # Down: the command still ends well, and says so.
    api.script.append((503, {}, "down"))
    add_account(engine, site.site.workspace_id, "Encore Une")
    got = cli("match", "--online", "--api-url", api.url)
    assert got.exit_code == 0, got.output
    assert "The online API failed (unavailable)" in text(got.stderr)

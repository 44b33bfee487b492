"""The ``webleads`` command line, run in-process on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from typer.testing import CliRunner, Result

from tests.conftest import LiveServer
from webleads import cli as cli_module
from webleads import clikit
from webleads.cli import app
from webleads.db.engine import create_engine
from webleads.db.migrate import head_revision
from webleads.db.sites import site_by_key
from webleads.model import PageGroupRule
from webleads.sites import NewSite

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Engine]]:
    """The engines the commands create; disposed at the end of the test whatever the
    commands did (see ``test_commands_release_their_connections``)."""
    made: list[Engine] = []

    def tracked(*args: Any, **kwargs: Any) -> Engine:
        engine = create_engine(*args, **kwargs)
        made.append(engine)
        return engine

    monkeypatch.setattr(cli_module, "create_engine", tracked)
    monkeypatch.setattr(clikit, "create_engine", tracked)
    yield made
    for engine in made:
        engine.dispose()


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, engines: list[Engine]) -> Any:
    """``cli(*args)`` runs the command against the test database, in English."""
    monkeypatch.setenv("WEBLEADS_DATABASE_URL", db_url)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("COLUMNS", "200")  # rich's tables: room for every column
    monkeypatch.delenv("WEBLEADS_LANG", raising=False)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


def text(output: str) -> str:
    """Console output with rich's line wrapping undone."""
    return " ".join(output.split())


def test_migrate(cli: Any, db_url: str) -> None:
    result = cli("migrate")
    assert result.exit_code == 0, result.output
    engine = create_engine(db_url)
    try:
        assert f"Database at revision {head_revision(engine)}" in text(result.stdout)
        assert "hits" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
    assert cli("migrate").exit_code == 0  # again: nothing to do


@pytest.mark.parametrize("command", [["site", "list"], ["hits", "--site", "wl_nope"]])
def test_read_only_commands_ask_for_migrate_on_an_empty_database(cli: Any, db_url: str,
                                                                 command: list[str]) -> None:
    result = cli(*command)
    assert result.exit_code == 1
    assert "run webleads migrate" in text(result.stderr)
    engine = create_engine(db_url)
    try:
        assert sa.inspect(engine).get_table_names() == []  # nothing created behind our back
    finally:
        engine.dispose()


def test_site_add_json_then_list(cli: Any, db_url: str) -> None:
    result = cli("site", "add", "Example", "--domain", "Example.com",
                 "--page-group", "crm=/crm/**", "--page-group", "pricing = /pricing*",
                 "--base-url", "https://t.example.org/", "--json")
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert made["key"].startswith("wl_") and made["secret"].startswith("wls_")
    assert made["domain"] == "example.com" and made["name"] == "Example"
    assert f'data-site="{made["key"]}"' in made["snippet"]
    assert 'src="https://t.example.org/wl.js"' in made["snippet"]
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            site = site_by_key(conn, made["key"])
    finally:
        engine.dispose()
    assert site is not None
    assert site.page_groups == (PageGroupRule("crm", "/crm/**"),
                                PageGroupRule("pricing", "/pricing*"))

    listed = cli("site", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [{"key": made["key"], "name": "Example",
                                          "domain": "example.com", "identity_mode": "cookie"}]
    table = cli("site", "list")
    assert made["key"] in table.stdout and "example.com" in table.stdout


def test_site_list_when_there_is_none(cli: Any) -> None:
    assert cli("migrate").exit_code == 0
    assert json.loads(cli("site", "list", "--json").stdout) == []
    result = cli("site", "list")
    assert result.exit_code == 0 and "No site yet" in text(result.stdout)


def test_site_add_text_output(cli: Any) -> None:
    result = cli("site", "add", "Example", "--domain", "example.com", "--cookieless")
    assert result.exit_code == 0, result.output
    out = text(result.stdout)
    assert "Site Example created." in out and "Public site key: wl_" in out
    assert "data-cookieless" in out and "<noscript>" in out


INVALID = [
    (["--domain", "not a domain"], "domain: 'not a domain'"),
    (["--domain", "example.com", "--origin", "example.com"], "origin: 'example.com'"),
    (["--domain", "example.com", "--timezone", "Mars/Olympus"], "timezone: 'Mars/Olympus'"),
    (["--domain", "example.com", "--ignore", "offices"], "ignore: 'offices'"),
    (["--domain", "example.com", "--page-group", "crm"], "page group 'crm'"),
    (["--domain", "example.com", "--page-group", "crm=crm/**"], "page group: crm=crm/**"),
    (["--domain", "example.com", "--ip-mode", "plain"], "--ip-mode"),
]


def test_invalid_options_exit_2_naming_the_option(cli: Any) -> None:
    for args, message in INVALID:
        result = cli("site", "add", "Example", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in text(result.stderr), (args, result.stderr)
        assert result.stdout == ""
    assert json.loads(cli("site", "list", "--json").stdout) == []


def test_hits_shows_the_enriched_hit(cli: Any, live_server: LiveServer, site: NewSite) -> None:
    key = site.site.key
    r = httpx.post(f"{live_server.url}/api/collect", timeout=10, headers={
        "content-type": "text/plain", "user-agent": CHROME, "origin": "https://www.example.com",
    }, content=json.dumps({
        "site": key, "type": "pageview", "visitor": "visitor-0001", "title": "Pricing",
        "url": "https://www.example.com/pricing?utm_source=LinkedIn&utm_medium=cpc"
               "&utm_campaign=spring",
    }))
    assert r.status_code == 202, r.text
    result = cli("hits", "--site", key, "--json")
    assert result.exit_code == 0, result.output
    [hit] = json.loads(result.stdout)
    assert hit["type"] == "pageview" and hit["title"] == "Pricing"
    assert hit["url"].startswith("https://www.example.com/pricing")
    assert (hit["utm_source"], hit["utm_campaign"], hit["source_class"]) == (
        "linkedin", "spring", "paid")
    assert (hit["browser"], hit["os"], hit["device_type"]) == ("Chrome", "Windows", "desktop")
    assert hit["ip"] is None and hit["ip_anon"] == "127.0.0.0"
    assert hit["visitor_key"] == "visitor-0001"
    assert hit["ts"].endswith("+00:00")

    table = cli("hits", "--site", key)
    assert table.exit_code == 0, table.output
    assert "pageview" in table.stdout and "Chrome" in table.stdout


def test_hits_of_a_site_without_hits(cli: Any, site: NewSite) -> None:
    result = cli("hits", "--site", site.site.key)
    assert result.exit_code == 0, result.output
    assert "No hit stored yet" in text(result.stdout)
    assert json.loads(cli("hits", "--site", site.site.key, "--json").stdout) == []


def test_hits_of_an_unknown_site_exits_1(cli: Any) -> None:
    assert cli("migrate").exit_code == 0
    result = cli("hits", "--site", "wl_nope")
    assert result.exit_code == 1
    assert "No site has the key wl_nope." in text(result.stderr)


@pytest.mark.parametrize("variable, value", [("LANG", "fr_FR.UTF-8"), ("WEBLEADS_LANG", "fr")])
def test_french_messages(cli: Any, monkeypatch: pytest.MonkeyPatch, variable: str,
                         value: str) -> None:
    monkeypatch.setenv(variable, value)
    assert re.search(r"Base de données à la révision \d{4} ", text(cli("migrate").stdout))
    bad = cli("site", "add", "Exemple", "--domain", "pas un domaine")
    assert bad.exit_code == 2
    assert "Option invalide : domain: 'pas un domaine'" in text(bad.stderr)
    unknown = cli("hits", "--site", "wl_nope")
    assert unknown.exit_code == 1 and "Aucun site n'a la clé wl_nope." in text(unknown.stderr)
    made = cli("site", "add", "Exemple", "--domain", "exemple.fr")
    assert made.exit_code == 0 and "Site Exemple créé." in text(made.stdout)


def test_commands_release_their_connections(cli: Any, engines: list[Engine]) -> None:
    assert cli("migrate").exit_code == 0
    assert cli("hits", "--site", "wl_nope").exit_code == 1
    assert engines
    assert [cast(QueuePool, e.pool).checkedin() for e in engines] == [0] * len(engines)


def test_quarantine_shows_refused_requests(cli: Any, live_server: LiveServer,
                                           site: NewSite) -> None:
    empty = cli("quarantine")
    assert empty.exit_code == 0 and "the quarantine is empty" in text(empty.stdout)
    r = httpx.post(f"{live_server.url}/api/collect", timeout=10, content=b'{"site": 1}',
                   headers={"content-type": "text/plain", "user-agent": CHROME})
    assert r.status_code == 400
    [row] = json.loads(cli("quarantine", "--json").stdout)
    assert (row["status"], row["reason"], row["field"]) == (400, "invalid_field", "$.site")
    assert row["payload"] == '{"site": 1}' and row["endpoint"] == "collect"
    table = cli("quarantine")
    assert "invalid_field" in table.stdout and '{"site": 1}' in table.stdout


def test_site_set_changes_options_and_keeps_the_others(cli: Any, db_url: str) -> None:
    made = json.loads(cli("site", "add", "Example", "--domain", "example.com",
                          "--ignore", "192.0.2.0/24", "--page-group", "crm=/crm/**",
                          "--json").stdout)
    key = made["key"]
    changed = cli("site", "set", key, "--origin", "https://shop.example.org",
                  "--cookieless", "--timezone", "Europe/Paris", "--json")
    assert changed.exit_code == 0, changed.output
    site = json.loads(changed.stdout)
    assert site["origins"] == ["https://shop.example.org"]
    assert site["identity_mode"] == "cookieless" and site["timezone"] == "Europe/Paris"
    assert site["ignored_networks"] == ["192.0.2.0/24"]  # not given: kept
    assert site["page_groups"] == [{"group": "crm", "pattern": "/crm/**"}]
    assert "data-cookieless" in site["snippet"]
    cleared = json.loads(cli("site", "set", key, "--clear-ignore", "--cookie",
                             "--json").stdout)
    assert cleared["ignored_networks"] == [] and cleared["identity_mode"] == "cookie"
    text_out = cli("site", "set", key, "--no-respect-dnt")
    assert "replace the tag" in text(text_out.stdout)
    assert "data-respect-dnt" not in text_out.stdout
    bad = cli("site", "set", key, "--timezone", "Mars/Olympus")
    assert bad.exit_code == 2 and "timezone: 'Mars/Olympus'" in text(bad.stderr)
    nothing = cli("site", "set", key)
    assert nothing.exit_code == 2 and "nothing to change" in text(nothing.stderr)
    unknown = cli("site", "set", "wl_nope", "--name", "x")
    assert unknown.exit_code == 2 and "no site has the key" in text(unknown.stderr)

"""The identification commands: lookup, import networks, data status, overrides, funnel;
and the network step of the pipeline with overrides and published ranges."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from webleads.cli import app
from webleads.enrich.network import make_put_network
from webleads.model import Client, Drop, Network, Site
from webleads.networks.identifier import Identifier
from webleads.networks.overrides import Override, OverrideBook
from webleads.networks.resolver import RangesResolver

FIXTURES = Path(__file__).parent / "fixtures" / "networks"


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        engine: Engine) -> Any:
    monkeypatch.setenv("WEBLEADS_DATABASE_URL", db_url)
    monkeypatch.setenv("WEBLEADS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("WEBLEADS_LANG", raising=False)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``lookup`` needs no database: run it with none configured."""
    monkeypatch.setenv("WEBLEADS_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    monkeypatch.setenv("WEBLEADS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("WEBLEADS_LANG", raising=False)
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_lookup_json_has_one_object_per_address(offline: Any) -> None:
    result = offline("lookup", "--json", "193.51.24.1", "66.249.66.1", "10.1.2.3",
                     "2a01:cb00::1")
    assert result.exit_code == 0, result.output
    by_ip = {o["ip"]: o for o in json_lines(result.stdout)}
    assert set(by_ip) == {"193.51.24.1", "66.249.66.1", "10.1.2.3", "2a01:cb00::1"}
    for needed in ("ip", "asn", "organisation", "category", "confidence", "country",
                   "evidence"):
        assert all(needed in o for o in by_ip.values())
    assert by_ip["193.51.24.1"]["category"] == "education"
    assert by_ip["193.51.24.1"]["asn"] == 2200
    assert by_ip["66.249.66.1"]["category"] == "bot"
    assert by_ip["10.1.2.3"]["category"] == "reserved"
    assert by_ip["2a01:cb00::1"]["category"] == "isp"
    assert by_ip["2a01:cb00::1"]["organisation"] is None  # an ISP is not a company


def test_lookup_names_bad_lines_of_a_file(offline: Any, tmp_path: Path) -> None:
    listing = tmp_path / "ips.txt"
    listing.write_text("# visitors\n90.0.0.1\n\n1.2.3\nnot-an-ip\n", encoding="utf-8")
    result = offline("lookup", "--json", "--file", str(listing))
    assert result.exit_code == 1
    assert [o["ip"] for o in json_lines(result.stdout)] == ["90.0.0.1"]
    assert f"{listing}:4: '1.2.3' is not an IP address" in " ".join(result.stderr.split())
    assert f"{listing}:5: 'not-an-ip'" in " ".join(result.stderr.split())


def test_lookup_with_nothing_to_look_up(offline: Any, tmp_path: Path) -> None:
    result = offline("lookup")
    assert result.exit_code == 2 and "--file" in result.stderr
    missing = offline("lookup", "--file", str(tmp_path / "missing.txt"))
    assert missing.exit_code == 2 and "Cannot read" in missing.stderr


def test_import_then_status_then_lookup(offline: Any, tmp_path: Path) -> None:
    result = offline("import", "networks", str(FIXTURES / "dbip-asn.csv"),
                     "--format", "dbip-asn-csv")
    assert result.exit_code == 0, result.output
    assert "Imported 3 ranges into the asn layer" in " ".join(result.stdout.split())
    status = json.loads(offline("data", "status", "--json").stdout)
    imported = [s for s in status if not s["shipped"]]
    assert [(s["layer"], s["ranges"]) for s in imported] == [("asn", 3)]
    shipped = {s["source"]: s for s in status if s["shipped"]}
    assert {"asn", "country", "ranges", "curated", "freemail"} <= set(shipped)
    assert "DB-IP" in shipped["asn"]["attribution"] and shipped["asn"]["licence"]
    assert shipped["curated"]["ranges"] > 300
    # The import comes before the shipped snapshot: a public address it covers.
    covered = tmp_path / "covered.csv"
    covered.write_text("90.0.0.0,90.0.0.255,64999,Imported Example Org\n", encoding="utf-8")
    assert offline("import", "networks", str(covered), "--format", "dbip-asn-csv").exit_code == 0
    [found] = json_lines(offline("lookup", "--json", "90.0.0.1").stdout)
    assert found["asn"] == 64999 and found["evidence"][0].startswith("asn-dbip-asn-csv")


def test_bad_import_names_the_line_and_keeps_the_previous_data(offline: Any) -> None:
    good = offline("import", "networks", str(FIXTURES / "dbip-asn.csv"),
                   "--format", "dbip-asn-csv")
    assert good.exit_code == 0
    bad = offline("import", "networks", str(FIXTURES / "bad-dbip-asn.csv"),
                  "--format", "dbip-asn-csv")
    assert bad.exit_code == 1
    assert "bad-dbip-asn.csv:3: last_ip" in " ".join(bad.stderr.split())
    status = json.loads(offline("data", "status", "--json").stdout)
    assert [s["ranges"] for s in status if not s["shipped"]] == [3]


def test_registry_import_needs_the_acknowledgement(offline: Any) -> None:
    refused = offline("import", "networks", str(FIXTURES / "ripe-sample.db"),
                      "--format", "rpsl")
    assert refused.exit_code == 2 and "--i-have-the-right" in refused.stderr
    accepted = offline("import", "networks", str(FIXTURES / "ripe-sample.db"),
                       "--format", "rpsl", "--i-have-the-right")
    assert accepted.exit_code == 0, accepted.output
    unknown = offline("import", "networks", str(FIXTURES / "dbip-asn.csv"), "--format", "xls")
    assert unknown.exit_code == 2 and "dbip-asn-csv" in unknown.stderr


def test_overrides_need_an_existing_workspace(cli: Any) -> None:
    result = cli("networks", "override", "add", "203.0.113.0/24", "--role", "isp",
                 "--workspace", "99")
    assert result.exit_code == 1 and "No workspace 99" in " ".join(result.stderr.split())
    invalid = cli("networks", "override", "add", "203.0.113.0/24", "--role", "boss")
    assert invalid.exit_code == 2 and "role" in invalid.stderr


def test_override_file_import_and_list(cli: Any, site: Any) -> None:
    result = cli("import", "networks", str(FIXTURES / "overrides.csv"),
                 "--format", "overrides-csv")
    assert result.exit_code == 0, result.output
    listed = json.loads(cli("networks", "override", "list", "--json").stdout)
    assert {(o["target"], o["role"]) for o in listed} == {
        ("192.0.2.0/26", "customer"), ("AS64510", "competitor"),
        ("198.51.100.16/28", "office"), ("2001:db8:6::/48", "organisation")}
    [found] = json_lines(cli("lookup", "--json", "--workspace", "1", "192.0.2.9").stdout)
    assert (found["organisation"], found["role"], found["confidence"]) == (
        "Acme Industries", "customer", 1.0)
    # Importing the same file again replaces, it does not duplicate.
    assert cli("import", "networks", str(FIXTURES / "overrides.csv"),
               "--format", "overrides-csv").exit_code == 0
    assert len(json.loads(cli("networks", "override", "list", "--json").stdout)) == 4


def test_french_messages(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBLEADS_LANG", "fr")
    result = cli("lookup", "1.2.3")
    assert result.exit_code == 1 and "n'est pas une adresse IP" in result.stderr


# -- the network step --------------------------------------------------------------------

SITE = Site(id=1, workspace_id=1, key="wl_site", name="Example", domain="example.com")


def client(ip: str, site: Site = SITE) -> Client:
    return Client(site=site, ip=ip, user_agent="Mozilla/5.0")


def test_published_crawler_range_drops_and_office_override_drops() -> None:
    step = make_put_network(Identifier.default(), OverrideBook.of([
        Override(workspace_id=1, role="office", cidr="90.0.0.0/24"),
        Override(workspace_id=1, role="customer", cidr="90.0.1.0/24", organisation="Exemple"),
    ]))
    assert step(client("66.249.66.1")) == Drop("bot_network")
    assert step(client("90.0.0.7")) == Drop("ignored_network")
    customer = step(client("90.0.1.7"))
    assert isinstance(customer, Client) and customer.network is not None
    assert (customer.network.org_name, customer.network.role, customer.network.category) == (
        "Exemple", "customer", "enterprise")
    other = Site(id=2, workspace_id=2, key="wl_other", name="Other", domain="other.example")
    isp = step(client("90.0.0.7", site=other))  # another workspace: not its office
    assert isinstance(isp, Client) and isp.network is not None
    assert isp.network.category == "isp" and isp.country == "FR"


def test_overrides_apply_over_any_resolver() -> None:
    resolver = RangesResolver([("198.51.100.0/24", Network(asn=64501, category="isp"))])
    step = make_put_network(resolver, OverrideBook.of([
        Override(workspace_id=1, role="organisation", asn=64501, category="education",
                 organisation="Université Exemple")]))
    result = step(client("198.51.100.3"))
    assert isinstance(result, Client) and result.network is not None
    assert result.network.is_organisation and result.network.org_name == "Université Exemple"


def test_override_book_reloads_when_the_table_changes(engine: Engine, site: Any) -> None:
    from datetime import UTC, datetime

    from webleads.db.overrides import upsert_override

    now = [0.0]
    book = OverrideBook(engine, ttl=10, clock=lambda: now[0])
    assert book.for_workspace(1) is None
    with engine.begin() as conn:
        upsert_override(conn, Override(workspace_id=1, role="isp", cidr="203.0.113.0/24"),
                        now=datetime.now(UTC))
    assert book.for_workspace(1) is None  # within the check interval
    now[0] = 11.0
    found = book.for_workspace(1)
    assert found is not None and found.match("203.0.113.5", None) is not None
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM network_overrides")).scalar() == 1


def test_funnel_command_on_an_empty_site(cli: Any, site: Any) -> None:
    result = cli("funnel", "--site", site.site.key, "--json", "--from", "2026-11-01",
                 "--to", str(date(2026, 11, 30)))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["received"] == 0 and data["identified"] == 0
    assert cli("funnel", "--site", "nope").exit_code == 1
    assert cli("funnel", "--site", site.site.key, "--from", "yesterday").exit_code == 2


def test_override_add_and_remove_reidentify_stored_hits(cli: Any, site: Any) -> None:
    added = cli("networks", "override", "add", "AS64500", "--role", "customer",
                "--organisation", "Exemple SA", "--note", "signed in March")
    assert added.exit_code == 0, added.output
    text = " ".join(added.stdout.split())
    assert "is customer" in text and "Re-identified 0 stored hits" in text
    [listed] = json.loads(cli("networks", "override", "list", "--json").stdout)
    assert (listed["target"], listed["note"]) == ("AS64500", "signed in March")
    removed = cli("networks", "override", "remove", str(listed["id"]), "--no-apply")
    assert removed.exit_code == 0 and "Re-identified" not in removed.stdout
    assert cli("networks", "override", "remove", str(listed["id"])).exit_code == 1
    assert cli("networks", "reidentify").exit_code == 0


def test_identification_never_calls_the_network(offline: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network call: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    result = offline("lookup", "--json", "193.51.24.1", "2a01:cb00::1", "66.249.66.1")
    assert result.exit_code == 0, result.output
    assert len(json_lines(result.stdout)) == 3
    assert offline("data", "status").exit_code == 0

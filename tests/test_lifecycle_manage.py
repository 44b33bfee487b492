"""Managing the lifecycle from the command line, on both engines: alert rules removed,
disabled and enabled; assignment rules removed; owners deactivated and activated; the
stage thresholds and the first-touch SLA shown and changed.  Each change is seen by the
next collected batch (the cached configuration is reloaded), and an id or an e-mail of
another workspace is not found.  Also ``STAGE=HOURS`` parsing (pure)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from tests.test_lifecycle_alerts import messages
from tests.test_lifecycle_cli import app, text
from tests.test_lifecycle_owners import owner_of
from tests.test_lifecycle_stages import ACME, T0, account_id, collect, pages, stage_of
from webleads.db import lifecycle as ldb
from webleads.db.schema_lifecycle import alert_rules, alert_state, digest_events
from webleads.lifecycle import actions
from webleads.model import Network
from webleads.sites import NewSite, create_site


@pytest.fixture
def cli(db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``webleads ...`` in-process on the test database (as in test_lifecycle_cli)."""
    monkeypatch.setenv("WEBLEADS_DATABASE_URL", db_url)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("WEBLEADS_LANG", raising=False)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


def alert_ids(engine: Engine, workspace_id: int) -> list[str]:
    with engine.connect() as conn:
        return [str(r.id) for r in ldb.list_alert_rules(conn, workspace_id)]


def row(output: str, word: str) -> str:
    """The line of a printed table that holds ``word``, without the borders."""
    [line] = [x for x in output.splitlines() if word in x]
    return text(line.replace("│", " ").replace("┃", " "))


def org(i: int) -> Network:
    return Network(asn=65200 + i, as_org=f"O{i}", org_name=f"Org {i}",
                   org_domain=f"org{i}.example", category="enterprise", confidence=0.9,
                   country="FR")


def count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


# -- pure ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("items", "expected"), [
    (["mql=12"], {"mql": 12.0}),
    (["MQL=1.5", "sql=off", "opportunity=72"],
     {"mql": 1.5, "sql": None, "opportunity": 72.0}),
])
def test_parse_sla(items: list[str], expected: dict[str, float | None]) -> None:
    assert actions.parse_sla(items) == expected


@pytest.mark.parametrize(("item", "message"), [
    ("mql", "not of the form mql=24"),
    ("=12", "not of the form"),
    ("mql=", "not of the form"),
    ("won=12", "unknown stage 'won'"),
    ("mql=soon", "'soon' is not a number"),
    ("mql=0", "hours must be > 0"),
    ("mql=-3", "hours must be > 0"),
    ("mql=nan", "hours must be > 0"),
])
def test_parse_sla_names_the_argument(item: str, message: str) -> None:
    with pytest.raises(ValueError, match="STAGE=HOURS") as caught:
        actions.parse_sla([item])
    assert message in str(caught.value)


# -- alert rules ---------------------------------------------------------------------------

def test_disable_enable_remove_an_alert_rule(cli: Any, engine: Engine, site: NewSite
                                             ) -> None:
    s = site.site
    assert cli("alerts", "add", "hot_page", "--channel", "email", "--destination",
               "sales@example.com", "--cooldown", "0").exit_code == 0
    [rid] = alert_ids(engine, s.workspace_id)
    collect(engine, pages(s, "/pricing"))
    assert len(messages(engine)) == 1  # the configuration is now cached

    r = cli("alerts", "disable", rid)
    assert r.exit_code == 0 and f"Alert rule {rid} disabled" in text(r.output)
    assert row(cli("alerts", "list").output, "hot_page").endswith(" no")
    collect(engine, pages(s, "/pricing", at=timedelta(hours=1)))
    assert len(messages(engine)) == 1  # collect saw the change

    r = cli("alerts", "enable", rid)
    assert r.exit_code == 0 and f"Alert rule {rid} enabled" in r.output
    assert row(cli("alerts", "list").output, "hot_page").endswith(" yes")
    collect(engine, pages(s, "/pricing", at=timedelta(hours=2)))
    assert len(messages(engine)) == 2

    r = cli("alerts", "remove", rid)
    assert r.exit_code == 0 and f"Alert rule {rid} removed" in r.output
    assert "No rule yet" in cli("alerts", "list").output
    collect(engine, pages(s, "/pricing", at=timedelta(hours=3)))
    assert len(messages(engine)) == 2
    assert count(engine, alert_state) == 0  # its cooldowns went with it

    for command in ("remove", "disable", "enable"):
        r = cli("alerts", command, rid)
        assert r.exit_code == 1 and f"No alert rule {rid} in this workspace" in text(r.output)
    assert cli("alerts", "disable", "nine").exit_code == 2  # not an id


def test_remove_a_digest_rule_with_waiting_events(cli: Any, engine: Engine, site: NewSite
                                                 ) -> None:
    assert cli("alerts", "add", "hot_page", "--channel", "email", "--destination",
               "sales@example.com", "--digest").exit_code == 0
    collect(engine, pages(site.site, "/pricing"))
    assert count(engine, digest_events) == 1 and count(engine, alert_state) == 1
    [rid] = alert_ids(engine, site.site.workspace_id)
    r = cli("alerts", "remove", rid)
    assert r.exit_code == 0, r.output  # the foreign keys of both engines hold
    assert (count(engine, alert_rules), count(engine, digest_events),
            count(engine, alert_state)) == (0, 0, 0)


# -- owners and assignment rules -----------------------------------------------------------

def test_deactivate_and_activate_an_owner(cli: Any, engine: Engine, site: NewSite) -> None:
    s = site.site
    for name in ("ann", "ben"):
        assert cli("owners", "add", name, f"{name}@example.com", "--team", "inside"
                   ).exit_code == 0
    assert cli("assign", "rule", "add", "round_robin", "--team", "inside").exit_code == 0
    collect(engine, pages(s, "/pricing", network=org(0), visitor="v0"))
    assert owner_of(engine, account_id(engine, "Org 0")) == "ann@example.com"

    r = cli("owners", "deactivate", "ann@example.com")
    assert r.exit_code == 0 and "ann@example.com deactivated" in r.output
    assert row(cli("owners", "list").output, "ann@").endswith(" no")
    for i in (1, 2):  # round robin skips her
        collect(engine, pages(s, "/pricing", network=org(i), visitor=f"v{i}"))
    assert [owner_of(engine, account_id(engine, f"Org {i}")) for i in range(3)] == [
        "ann@example.com", "ben@example.com", "ben@example.com"]  # hers stay hers

    r = cli("owners", "activate", "ann@example.com")
    assert r.exit_code == 0 and "active again" in r.output
    assert row(cli("owners", "list").output, "ann@").endswith(" yes")
    collect(engine, pages(s, "/pricing", network=org(3), visitor="v3"))
    collect(engine, pages(s, "/pricing", network=org(4), visitor="v4"))
    assert {owner_of(engine, account_id(engine, f"Org {i}")) for i in (3, 4)} == {
        "ann@example.com", "ben@example.com"}

    r = cli("owners", "deactivate", "zoe@example.com")
    assert r.exit_code == 1 and "No owner zoe@example.com" in text(r.output)


def test_an_owners_rule_stops_matching_while_they_are_inactive(cli: Any, engine: Engine,
                                                               site: NewSite) -> None:
    assert cli("owners", "add", "Paula", "paula@example.com").exit_code == 0
    assert cli("owners", "add", "Rob", "rob@example.com", "--team", "inside").exit_code == 0
    assert cli("assign", "rule", "add", "territory", "--owner", "paula@example.com",
               "--country", "FR").exit_code == 0
    assert cli("assign", "rule", "add", "round_robin", "--team", "inside").exit_code == 0
    collect(engine, pages(site.site, "/", network=org(0), visitor="v0"))  # cached
    assert cli("owners", "deactivate", "paula@example.com").exit_code == 0
    collect(engine, pages(site.site, "/pricing", network=org(0), visitor="v0"))
    assert owner_of(engine, account_id(engine, "Org 0")) == "rob@example.com"


def test_remove_an_assignment_rule(cli: Any, engine: Engine, site: NewSite) -> None:
    s = site.site
    assert cli("owners", "add", "Paula", "paula@example.com").exit_code == 0
    assert cli("owners", "add", "Rob", "rob@example.com", "--team", "inside").exit_code == 0
    assert cli("assign", "rule", "add", "territory", "--owner", "paula@example.com",
               "--country", "FR").exit_code == 0
    assert cli("assign", "rule", "add", "round_robin", "--team", "inside").exit_code == 0
    with engine.connect() as conn:
        first, _ = ldb.list_assignment_rules(conn, s.workspace_id)
    collect(engine, pages(s, "/"))  # anonymous: no owner, the configuration is cached

    r = cli("assign", "rule", "remove", str(first.id))
    assert r.exit_code == 0 and f"Assignment rule {first.id} removed" in r.output
    listed = cli("assign", "rule", "list").output
    assert "round_robin" in listed and "territory" not in listed
    collect(engine, pages(s, "/pricing", at=timedelta(hours=1)))
    assert owner_of(engine, account_id(engine)) == "rob@example.com"

    r = cli("assign", "rule", "remove", str(first.id))
    assert r.exit_code == 1 and f"No assignment rule {first.id}" in text(r.output)


# -- another workspace ---------------------------------------------------------------------

def test_ids_of_another_workspace_are_not_found(cli: Any, engine: Engine, site: NewSite
                                                ) -> None:
    mine = site.site.workspace_id
    other = create_site(engine, "Other", "other.example", workspace="other").site.workspace_id
    with engine.begin() as conn:
        theirs = actions.add_alert_rule(conn, other, kind="becomes_mql", params={},
                                        channel="email", destination="x@example.com", now=T0)
        actions.add_owner(conn, other, name="Olga", email="olga@example.com", team="t",
                          language="en", now=T0)
        their_rule = actions.add_assignment_rule(conn, other, kind="round_robin",
                                                 conditions={}, owner_email=None, team="t",
                                                 now=T0)
    ws = ("--workspace", str(mine))
    for args in (("alerts", "remove", str(theirs)), ("alerts", "disable", str(theirs)),
                 ("alerts", "enable", str(theirs)),
                 ("assign", "rule", "remove", str(their_rule)),
                 ("owners", "deactivate", "olga@example.com"),
                 ("owners", "activate", "olga@example.com")):
        r = cli(*args, *ws)
        assert r.exit_code == 1 and "in this workspace" in text(r.output), args
        r = cli(*args)  # two workspaces: which one?
        assert r.exit_code == 2 and "--workspace" in r.output, args
    for args in (("stage", "thresholds"), ("stage", "sla"), ("stage", "sla", "mql=2"),
                 ("stage", "thresholds", "--mql", "60")):
        assert cli(*args).exit_code == 2, args
    assert cli("alerts", "remove", str(theirs), "--workspace", "999").exit_code == 1
    with engine.connect() as conn:
        assert [r.enabled for r in ldb.list_alert_rules(conn, other)] == [True]
        assert [o.active for o in ldb.list_owners(conn, other)] == [True]
        assert len(ldb.list_assignment_rules(conn, other)) == 1
    # The other workspace's own commands work.
    assert cli("alerts", "disable", str(theirs), "--workspace", str(other)).exit_code == 0
    r = cli("stage", "thresholds", "--mql", "60", "--workspace", str(other))
    assert r.exit_code == 0 and "MQL at 60" in r.output
    assert "MQL at 50" in cli("stage", "thresholds", "--workspace", str(mine)).output


# -- thresholds and SLA --------------------------------------------------------------------

def test_stage_thresholds(cli: Any, engine: Engine, site: NewSite) -> None:
    r = cli("stage", "thresholds")
    assert r.exit_code == 0
    assert "engaged at a score of 10, MQL at 50" in text(r.output)
    r = cli("stage", "thresholds", "--engaged", "30", "--mql", "40")
    assert r.exit_code == 0 and "engaged at a score of 30, MQL at 40" in text(r.output)
    for args, field in ((("--engaged", "41"), "engaged"), (("--mql", "29"), "mql"),
                        (("--engaged", "-1"), "engaged"), (("--mql", "-5"), "mql"),
                        (("--engaged", "50", "--mql", "45"), "engaged"),
                        (("--mql", "nan"), "mql")):
        r = cli("stage", "thresholds", *args)
        assert r.exit_code == 2 and f"Invalid {field}:" in text(r.output), args
    assert "score of 30, MQL at 40" in text(cli("stage", "thresholds").output)
    r = cli("stage", "thresholds", "--mql", "30")  # equal is fine
    assert r.exit_code == 0 and "30, MQL at 30" in text(r.output)
    assert cli("stage", "thresholds", "--mql", "40").exit_code == 0

    collect(engine, pages(site.site, "/pricing"))             # 20: below 30
    assert stage_of(engine, account_id(engine)) == "anonymous"
    collect(engine, pages(site.site, "/contact", at=timedelta(minutes=1)))  # 45
    assert stage_of(engine, account_id(engine)) == "mql"


def test_stage_sla(cli: Any, engine: Engine, site: NewSite) -> None:
    r = cli("stage", "sla")
    assert r.exit_code == 0 and "first-touch SLA (hours) per stage" in r.output
    assert (row(r.output, "mql"), row(r.output, " sql")) == ("mql 24", "sql 48")
    r = cli("stage", "sla", "mql=2", "opportunity=72", "sql=off")
    assert r.exit_code == 0, r.output
    assert (row(r.output, "mql"), row(r.output, "opportunity")) == ("mql 2", "opportunity 72")
    assert " sql " not in r.output
    with engine.connect() as conn:
        assert ldb.read_settings(conn, site.site.workspace_id).sla_hours == {
            "mql": 2.0, "opportunity": 72.0}
    for bad, field in (("mql=0", "hours must be > 0"), ("won=3", "unknown stage 'won'"),
                       ("mql", "not of the form"), ("mql=soon", "not a number")):
        r = cli("stage", "sla", bad)
        assert r.exit_code == 2 and "STAGE=HOURS" in r.output and field in text(r.output)
    r = cli("stage", "sla", "mql=off", "opportunity=off")
    assert r.exit_code == 0 and "no first-touch SLA" in r.output

    # The SLA is what ``accounts late`` uses.
    assert cli("stage", "thresholds", "--engaged", "30", "--mql", "40").exit_code == 0
    collect(engine, pages(site.site, "/pricing", "/contact"))   # 45: mql at T0
    assert "No account is late" in cli("accounts", "late").output
    assert cli("stage", "sla", "mql=1").exit_code == 0
    late = cli("accounts", "late", "--json").output
    assert '"stage": "mql"' in late and ACME.org_name in late


# -- French --------------------------------------------------------------------------------

def test_french_messages(cli: Any, engine: Engine, site: NewSite,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBLEADS_LANG", "fr")
    r = cli("alerts", "disable", "999")
    assert r.exit_code == 1 and "Aucune règle d'alerte 999" in text(r.output)
    r = cli("assign", "rule", "remove", "999")
    assert r.exit_code == 1 and "Aucune règle d'attribution 999" in text(r.output)
    r = cli("owners", "activate", "x@example.com")
    assert r.exit_code == 1 and "Aucun responsable x@example.com" in text(r.output)
    assert "MQL à partir de 50" in text(cli("stage", "thresholds").output)
    r = cli("stage", "thresholds", "--engaged", "60")
    assert r.exit_code == 2 and "Valeur invalide : engaged" in text(r.output)
    assert "délai de premier contact" in cli("stage", "sla").output
    assert cli("alerts", "add", "becomes_mql", "--channel", "email", "--destination",
               "a@example.com").exit_code == 0
    [rid] = alert_ids(engine, site.site.workspace_id)
    assert "désactivée" in cli("alerts", "disable", rid).output
    assert "activée" in cli("alerts", "enable", rid).output
    assert "supprimée" in cli("alerts", "remove", rid).output

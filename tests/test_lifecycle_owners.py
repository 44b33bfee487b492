"""Owners on both engines: territory, sector (NAF of the French company), target list
and round robin inside a team, first matching rule wins, only once an account is past
anonymous; the first-touch SLA."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tests.test_lifecycle_stages import ACME, GLOBEX, T0, account_id, collect, pages
from webleads.db import lifecycle as ldb
from webleads.db.lifecycle import set_thresholds
from webleads.db.schema import accounts
from webleads.db.schema_fr import account_fr, fr_companies
from webleads.db.schema_lifecycle import account_owners
from webleads.lifecycle import actions, owners
from webleads.lifecycle.stages import Thresholds
from webleads.model import Network
from webleads.sites import NewSite

INITECH = Network(asn=64514, as_org="INITECH", org_name="Initech SARL",
                  org_domain="initech.example", category="enterprise", confidence=0.9,
                  country="FR")
HOOLI = Network(asn=64515, as_org="HOOLI", org_name="Hooli Inc",
                org_domain="hooli.example", category="enterprise", confidence=0.9,
                country="US")


def owner_of(engine: Engine, account: int) -> str | None:
    with engine.connect() as conn:
        found = ldb.account_owner(conn, account)
    return found.email if found else None


def add(conn: Connection, ws: int, name: str, team: str | None = None) -> None:
    actions.add_owner(conn, ws, name=name, email=f"{name}@example.com", team=team,
                      language="en", now=T0)


def french_company(conn: Connection, account: int, *, naf: str, postcode: str) -> None:
    siren = f"{account:09d}"
    conn.execute(sa.insert(fr_companies).values(
        siren=siren, name="X", name_key="x", name_token="x", compact_key="x", naf=naf,
        active=True, postcode=postcode, source="stock", updated_at=T0))
    conn.execute(sa.insert(account_fr).values(account_id=account, siren=siren, confidence=1.0,
                                              method="domain", matched_at=T0))


def test_rules_in_order(engine: Engine, site: NewSite) -> None:
    s, ws = site.site, site.site.workspace_id
    nets = {"acme": ACME, "globex": GLOBEX, "initech": INITECH, "hooli": HOOLI}
    for i, net in enumerate(nets.values()):  # anonymous first: no owner yet
        collect(engine, pages(s, "/", network=net, visitor=f"v{i}"))
    ids = {k: account_id(engine, n.org_name or "") for k, n in nets.items()}
    with engine.begin() as conn:
        for name in ("tina", "sam", "paula", "rob1", "rob2"):
            add(conn, ws, name, team="inside" if name.startswith("rob") else None)
        conn.execute(sa.update(accounts).where(accounts.c.id == ids["hooli"])
                     .values(in_target=True))
        french_company(conn, ids["initech"], naf="62.01Z", postcode="69003")
        french_company(conn, ids["acme"], naf="10.11Z", postcode="75008")
        for kind, cond, who, team in [
            ("target", {"target": True}, "tina@example.com", None),
            ("sector", {"naf": ["62"]}, "sam@example.com", None),
            ("territory", {"countries": ["fr"], "postcodes": ["75", "92"]},
             "paula@example.com", None),
            ("round_robin", {}, None, "inside"),
        ]:
            actions.add_assignment_rule(conn, ws, kind=kind, conditions=cond,
                                        owner_email=who, team=team, now=T0)
    assert all(owner_of(engine, i) is None for i in ids.values())
    for i, net in enumerate(nets.values()):
        collect(engine, pages(s, "/pricing", at=timedelta(hours=1), network=net,
                              visitor=f"v{i}"))
    assert {k: owner_of(engine, i) for k, i in ids.items()} == {
        "hooli": "tina@example.com",      # target list first
        "initech": "sam@example.com",     # NAF 62.01Z
        "acme": "paula@example.com",      # FR, 75008
        "globex": "rob1@example.com",     # the rest: round robin
    }
    # An owner is kept: later rules do not move the account.
    with engine.begin() as conn:
        actions.add_assignment_rule(conn, ws, kind="round_robin", conditions={}, owner_email=None,
                                    team="inside", now=T0)
    collect(engine, pages(s, "/contact", at=timedelta(hours=2), network=GLOBEX, visitor="v1"))
    assert owner_of(engine, ids["globex"]) == "rob1@example.com"


def test_round_robin_inside_a_team(engine: Engine, site: NewSite) -> None:
    s, ws = site.site, site.site.workspace_id
    with engine.begin() as conn:
        for name in ("ann", "ben", "cat"):
            add(conn, ws, name, team="inside")
        add(conn, ws, "dan", team="field")
        actions.add_assignment_rule(conn, ws, kind="round_robin", conditions={},
                                    owner_email=None, team="inside", now=T0)
    got = []
    for i in range(5):
        net = Network(asn=65100 + i, as_org=f"O{i}", org_name=f"Org {i}",
                      org_domain=f"org{i}.example", category="enterprise", confidence=0.9,
                      country="FR")
        collect(engine, pages(s, "/pricing", network=net, visitor=f"v{i}"))
        got.append(owner_of(engine, account_id(engine, f"Org {i}")))
    assert got == [f"{n}@example.com" for n in ("ann", "ben", "cat", "ann", "ben")]
    with engine.connect() as conn:
        bys = conn.execute(sa.select(account_owners.c.by)).scalars().all()
    assert all("round_robin" in b for b in bys)


@pytest.mark.parametrize(("kind", "conditions", "email", "team", "message"), [
    ("territory", {}, "a@example.com", None, "needs countries or postcodes"),
    ("sector", {"naf": []}, "a@example.com", None, "naf: give at least one"),
    ("target", {"target": "yes"}, "a@example.com", None, "target: true or false"),
    ("round_robin", {}, "a@example.com", None, "team"),
    ("territory", {"countries": ["FR"]}, "a@example.com", "x", "exactly one"),
    ("planet", {}, None, "x", "kind"),
    ("territory", {"cities": ["Lyon"]}, "a@example.com", None, "unknown field 'cities'"),
])
def test_bad_rules_name_the_field(kind: str, conditions: dict[str, object], email: str | None,
                                  team: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        owners.check_conditions(kind, conditions, owner=bool(email), team=bool(team))


def test_unknown_owner_and_duplicates(engine: Engine, site: NewSite) -> None:
    ws = site.site.workspace_id
    with engine.begin() as conn:
        add(conn, ws, "ann")
        with pytest.raises(ValueError, match="already an owner"):
            add(conn, ws, "ann")
        with pytest.raises(ValueError, match="email"):
            actions.add_owner(conn, ws, name="x", email="nope", team=None, language="en",
                              now=T0)
        with pytest.raises(ValueError, match="language"):
            actions.add_owner(conn, ws, name="x", email="x@example.com", team=None,
                              language="de", now=T0)
        with pytest.raises(ValueError, match="owner: no owner"):
            actions.add_assignment_rule(conn, ws, kind="target", conditions={"target": True},
                                        owner_email="zed@example.com", team=None, now=T0)


def test_first_touch_sla(engine: Engine, site: NewSite) -> None:
    s, ws = site.site, site.site.workspace_id
    with engine.begin() as conn:
        actions.set_sla(conn, ws, {"engaged": 4, "mql": 24}, now=T0)
        # 20 + 25 + 5 points decay below 50 within hours: a margin for the MQL crossing.
        set_thresholds(conn, ws, now=T0, thresholds=Thresholds(engaged=10, mql=45))
        with pytest.raises(ValueError, match="sla engaged"):
            actions.set_sla(conn, ws, {"engaged": 0}, now=T0)
    collect(engine, pages(s, "/pricing"))                                  # engaged at T0
    collect(engine, pages(s, "/pricing", network=GLOBEX, visitor="v2"))
    acme, globex = account_id(engine), account_id(engine, "Globex Corp")
    with engine.begin() as conn:
        assert actions.late_accounts(conn, now=T0 + timedelta(hours=3)) == []
        late = actions.late_accounts(conn, now=T0 + timedelta(hours=5))
        assert [(x.account_id, x.stage) for x in late] == [(acme, "engaged"),
                                                           (globex, "engaged")]
        assert round(late[0].hours_late) == 1
        actions.touch(conn, acme, now=T0 + timedelta(hours=5))
        with pytest.raises(actions.NotFound):
            actions.touch(conn, 999, now=T0)
        assert [x.account_id for x in actions.late_accounts(
            conn, now=T0 + timedelta(hours=6), workspace_id=ws)] == [globex]
    # A new stage starts a new SLA: touched in engaged, not yet in mql.
    collect(engine, pages(s, "/contact", "/products/a", at=timedelta(hours=7)))
    with engine.begin() as conn:
        late = actions.late_accounts(conn, now=T0 + timedelta(hours=32))
    assert [(x.account_id, x.stage) for x in late] == [(globex, "engaged"), (acme, "mql")]

"""Stages: the automatic transitions (pure table), then the after-batch hook on both
engines: thresholds move accounts forward with history, never back; a manual stage
wins.  Also the helpers the other lifecycle tests use."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webleads.db import lifecycle as ldb
from webleads.db import scoring as sdb
from webleads.db import store
from webleads.db.schema import accounts
from webleads.db.schema_lifecycle import account_stages, stage_history
from webleads.lifecycle import actions, stages
from webleads.lifecycle.hook import after_scoring
from webleads.lifecycle.stages import Thresholds, automatic
from webleads.model import Client, Hit, Network, Site
from webleads.scoring.incremental import score_stored_hits
from webleads.scoring.model import ScoringInput
from webleads.sites import NewSite

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Paris
ACME = Network(asn=64512, as_org="ACME-AS", org_name="Acme SA", org_domain="acme.example",
               category="enterprise", confidence=0.9, country="FR")
GLOBEX = Network(asn=64513, as_org="GLOBEX", org_name="Globex Corp",
                 org_domain="globex.example", category="enterprise", confidence=0.9,
                 country="DE")


def hit(site: Site, path: str, at: timedelta = timedelta(0), *, visitor: str = "v1",
        network: Network | None = ACME) -> Hit:
    client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor_key=visitor,
                    network=network, ip_anon="198.18.0.0", browser="Firefox", os="Linux",
                    device_type="desktop", country=network.country if network else None)
    ts = T0 + at
    return Hit(client=client, type="pageview", ts=ts, received_at=ts,
               url=f"https://example.com{path}", engaged_ms=0, source_class="direct")


def pages(site: Site, *paths: str, at: timedelta = timedelta(0),
          network: Network | None = ACME, visitor: str = "v1") -> list[Hit]:
    return [hit(site, p, at + timedelta(seconds=i), network=network, visitor=visitor)
            for i, p in enumerate(paths)]


def collect(engine: Engine, batch: Sequence[Hit], *, now: datetime | None = None,
            fail: bool = False) -> list[ScoringInput]:
    """Store, score and run the hook in one transaction, as the store does; ``fail``
    rolls the transaction back at the end."""
    now = now or max(h.ts for h in batch)
    try:
        with engine.begin() as conn:
            before = sdb.max_hit_id(conn)
            store.store_hits(conn, list(batch), score=False)
            ws = batch[0].client.site.workspace_id
            site_ids = sorted({h.client.site.id for h in batch})
            items = list(sdb.stored_inputs(conn, ws, site_ids, set(), min_id=before))
            score_stored_hits(conn, items)
            after_scoring(conn, hits=items, now=now, allow_private=True)
            if fail:
                raise RuntimeError("rolled back")
    except RuntimeError:
        if not fail:
            raise
    return items


def account_id(engine: Engine, name: str = "Acme SA") -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(accounts.c.id).where(accounts.c.name == name))
                   .scalar_one())


def stage_of(engine: Engine, account: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(account_stages.c.stage)
                            .where(account_stages.c.account_id == account)).scalar()


def history(engine: Engine, account: int) -> list[tuple[str | None, str, str]]:
    h = stage_history.c
    with engine.connect() as conn:
        return [(r.from_stage, r.to_stage, r.by) for r in conn.execute(
            sa.select(h.from_stage, h.to_stage, h.by).where(h.account_id == account)
            .order_by(h.id))]


# -- pure ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("current", "manual", "score", "expected"), [
    (None, False, 0.0, "anonymous"),
    (None, False, 12.0, "engaged"),
    (None, False, 60.0, "mql"),
    ("anonymous", False, 9.9, None),
    ("anonymous", False, 10.0, "engaged"),
    ("engaged", False, 49.0, None),
    ("engaged", False, 50.0, "mql"),
    ("engaged", False, 1.0, None),     # never back
    ("mql", False, 0.0, None),         # never back
    ("sql", False, 99.0, None),        # past mql: manual only
    ("lost", False, 99.0, None),
    ("disqualified", False, 99.0, None),
    ("anonymous", True, 99.0, None),   # a person set it: left alone
])
def test_automatic_transitions(current: stages.Stage | None, manual: bool, score: float,
                               expected: str | None) -> None:
    move = automatic(1, current, manual, score, Thresholds())
    assert (move.to_stage if move else None) == expected


def test_thresholds_are_checked() -> None:
    with pytest.raises(ValueError, match="engaged <= mql"):
        Thresholds(engaged=60, mql=50)
    with pytest.raises(ValueError, match="unknown stage 'won'"):
        stages.parse_stage("won")


# -- the hook on both engines --------------------------------------------------------------

def test_scores_move_stages_forward_with_history(engine: Engine, site: NewSite) -> None:
    s = site.site
    collect(engine, pages(s, "/"))                         # 0 points
    acme = account_id(engine)
    assert stage_of(engine, acme) == "anonymous"
    assert history(engine, acme) == []
    collect(engine, pages(s, "/pricing", at=timedelta(minutes=5)))  # 20 points
    assert stage_of(engine, acme) == "engaged"
    collect(engine, pages(s, "/contact", "/products/a", "/products/b",
                          at=timedelta(minutes=10)))       # 20 + 25 + 10 = 55
    assert stage_of(engine, acme) == "mql"
    assert history(engine, acme) == [("anonymous", "engaged", "auto"),
                                     ("engaged", "mql", "auto")]
    with engine.connect() as conn:
        lines = ldb.history(conn, acme)
    assert lines[-1].reason.startswith("score ") and lines[-1].reason.endswith(">= 50")
    # Months later the score has decayed; a new visit does not move the account back.
    collect(engine, pages(s, "/", at=timedelta(days=200)))
    assert stage_of(engine, acme) == "mql"
    assert len(history(engine, acme)) == 2


def test_workspace_thresholds(engine: Engine, site: NewSite) -> None:
    with engine.begin() as conn:
        ldb.set_thresholds(conn, site.site.workspace_id, thresholds=Thresholds(30, 40),
                           now=T0)
    collect(engine, pages(site.site, "/pricing"))            # 20: below 30
    assert stage_of(engine, account_id(engine)) == "anonymous"
    collect(engine, pages(site.site, "/contact", at=timedelta(minutes=1)))  # 45
    assert stage_of(engine, account_id(engine)) == "mql"
    assert history(engine, account_id(engine)) == [("anonymous", "mql", "auto")]


def test_a_manual_stage_wins(engine: Engine, site: NewSite) -> None:
    s = site.site
    collect(engine, pages(s, "/"))
    collect(engine, pages(s, "/", network=GLOBEX, visitor="v2"))
    acme, globex = account_id(engine), account_id(engine, "Globex Corp")
    with engine.begin() as conn:
        assert actions.move_stage(conn, acme, "disqualified", by="alice", reason="ISP",
                                  now=T0) == ("anonymous", "disqualified")
        actions.move_stage(conn, globex, "Engaged", by="bob", reason="call", now=T0)
    collect(engine, pages(s, "/pricing", "/contact", "/products/x", at=timedelta(hours=1)))
    collect(engine, pages(s, "/pricing", "/contact", "/products/x", at=timedelta(hours=1),
                          network=GLOBEX, visitor="v2"))
    assert stage_of(engine, acme) == "disqualified"
    assert stage_of(engine, globex) == "engaged"          # manual: not moved to mql
    assert history(engine, acme) == [("anonymous", "disqualified", "alice")]
    assert history(engine, globex) == [("anonymous", "engaged", "bob")]


def test_manual_stage_errors(engine: Engine, site: NewSite) -> None:
    collect(engine, pages(site.site, "/"))
    acme = account_id(engine)
    with engine.begin() as conn:
        with pytest.raises(ValueError, match="unknown stage"):
            actions.move_stage(conn, acme, "won", by="a", reason="", now=T0)
        with pytest.raises(actions.NotFound):
            actions.move_stage(conn, 999, "sql", by="a", reason="", now=T0)


def test_hits_without_account_do_nothing(engine: Engine, site: NewSite) -> None:
    collect(engine, pages(site.site, "/pricing", network=None))
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(account_stages)
                            ).scalar_one() == 0

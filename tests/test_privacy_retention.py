"""Retention and purge: old hits, sessions, visitors and contacts go; the daily
aggregates keep their counts; a dry run changes nothing; reads no longer show them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.test_privacy_helpers import count, dump, store_batch, visit
from webleads.db import funnel, reads
from webleads.db import privacy as db
from webleads.db.engine import read_only
from webleads.db.schema import contacts, hits, sessions, visitors
from webleads.db.schema_privacy import audit_log
from webleads.db.schema_scoring import account_scores, score_ledger
from webleads.privacy import retention, subjects
from webleads.privacy.retention import Retention, purge, purge_job
from webleads.scoring import explain
from webleads.sites import NewSite

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=500)  # beyond the 400 days of raw hits
RECENT = NOW - timedelta(days=10)


def _history(engine: Engine, site: NewSite) -> None:
    s = site.site
    store_batch(engine, visit(s, "v-old", OLD, pages=3))
    store_batch(engine, visit(s, "v-old", OLD + timedelta(days=1), pages=2))
    store_batch(engine, visit(s, "v-both", OLD + timedelta(hours=3), pages=1))
    store_batch(engine, visit(s, "v-both", RECENT, pages=2, email="kept@acme.example"))
    store_batch(engine, visit(s, "v-gone", NOW - timedelta(days=1200), pages=1,
                              email="gone@acme.example"))


def _everything(engine: Engine) -> str:
    return dump(engine)


def test_dry_run_changes_nothing(engine: Engine, site: NewSite) -> None:
    _history(engine, site)
    before = _everything(engine)
    report = purge(engine, now=NOW, dry_run=True)
    assert report.dry_run and report.hits == 8 and report.contacts == 1
    assert report.sessions == 1 and report.visitors == 2
    assert _everything(engine) == before


def test_purge_keeps_aggregates_and_removes_old_rows(engine: Engine, site: NewSite) -> None:
    _history(engine, site)
    s = site.site
    report = purge(engine, now=NOW, by="test")
    # 3 + 2 + 1 old hits, then the 1200-day-old session (1 pageview + identify).
    assert report.hits == 8 and report.sessions == 1
    assert report.contacts == 1 and report.visitors == 2
    cutoff = NOW - timedelta(days=400)
    assert count(engine, hits, hits.c.ts < cutoff) == 0
    assert count(engine, hits) == 3  # the recent visit: 2 pages + identify
    assert count(engine, sessions, sessions.c.last_seen < NOW - timedelta(days=760)) == 0
    assert count(engine, contacts) == 1
    assert "gone@acme.example" not in _everything(engine)
    assert count(engine, visitors, visitors.c.key == "v-old") == 0
    assert count(engine, visitors, visitors.c.key == "v-both") == 1
    with read_only(engine) as conn:
        stats = db.stats_totals(conn, s.id)
        assert sum(h for h, _, _, _ in stats.values()) == 8
        assert stats[OLD.date()] == (4, 4, 2, 0)  # v-old's 3 pages and v-both's 1
        assert stats[(OLD + timedelta(days=1)).date()] == (2, 2, 1, 0)
        # No score line refers to a purged hit, and the sums are those of the lines.
        assert count(engine, score_ledger, score_ledger.c.ts < cutoff) == 0
        sums = conn.execute(sa.select(sa.func.sum(account_scores.c.points))).scalar_one()
        lines = conn.execute(sa.select(sa.func.sum(score_ledger.c.points))).scalar_one()
        assert sums == lines
        entries = conn.execute(sa.select(audit_log.c.action, audit_log.c.actor)).all()
    assert ("retention.purge", "test") in entries
    # A second run finds nothing more, and the aggregates do not move.
    again = purge(engine, now=NOW)
    assert (again.hits, again.sessions, again.contacts, again.visitors) == (0, 0, 0, 0)
    with read_only(engine) as conn:
        assert db.stats_totals(conn, s.id) == stats


def test_reads_do_not_show_purged_data(engine: Engine, site: NewSite) -> None:
    _history(engine, site)
    s = site.site
    purge(engine, now=NOW)
    with read_only(engine) as conn:
        shown = reads.latest_hits(conn, s.id, limit=100)
        assert shown and min(h["ts"] for h in shown) >= RECENT
        old = funnel.funnel(conn, site_id=s.id, start=OLD - timedelta(days=1),
                            end=OLD + timedelta(days=2))
        assert old.stored == 0 and old.identified == 0
        account_id = conn.execute(sa.select(account_scores.c.account_id)).scalar()
        if account_id is not None:
            for reason in explain.why(conn, account_id, NOW):
                assert reason.points >= 0
        lines = conn.execute(sa.select(score_ledger.c.ts)).scalars().all()
        assert all(ts >= NOW - timedelta(days=400) for ts in lines)
        data = subjects.export_subject(conn, "kept@acme.example")
    assert all(h["ts"] >= RECENT.isoformat() for h in data["hits"])
    assert {se["visitor_key"] for se in data["sessions"]} == {"v-both"}


def test_retention_per_site(engine: Engine, site: NewSite) -> None:
    _history(engine, site)
    s = site.site
    retention.set_retention(engine, s.id, Retention(hits_days=5, sessions_days=760,
                                                    contacts_days=1095), by="t", now=NOW)
    report = purge(engine, now=NOW, site_id=s.id)
    assert report.hits == 11  # everything older than 5 days
    assert count(engine, hits) == 0
    with read_only(engine) as conn:
        assert sum(v[0] for v in db.stats_totals(conn, s.id).values()) == 11


def test_purge_job_runs_the_purge(engine: Engine, site: NewSite) -> None:
    _history(engine, site)
    result = purge_job(engine)(NOW)
    assert isinstance(result, retention.PurgeReport) and result.hits == 8

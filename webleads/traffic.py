"""The traffic overview use case: bring the daily rollups of a period up to date, then
read the report (``db/overview.py``).

Refreshing reads in short read transactions and writes in short write transactions
(a few weeks of days each): on SQLite a write transaction holds the one write lock that
the collect writer needs too.  Two pages refreshing the same days at once is harmless:
the second write finds the rows there and leaves them (``rollup_store.save``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy.engine import Engine

from webleads.db import overview as db
from webleads.db import rollup_store, rollups
from webleads.db.engine import read_only
from webleads.db.overview import Report, SiteRef
from webleads.db.sites import workspace_ids
from webleads.periods import LocalTime, Period

LAG = timedelta(seconds=30)  # a received hit is committed within this time
ADVANCE_AFTER = 2000  # hits scanned past the watermark before it moves without a rebuild
WRITE_DAYS = 31  # days built and written per transaction


def overview(engine: Engine, site: SiteRef, period: Period, *, now: datetime) -> Report:
    """The report of ``period`` against the previous period, for ``site``."""
    today = LocalTime(site.timezone).today(now)
    refresh(engine, site, first=period.previous.first, last=period.last, now=now)
    with read_only(engine) as conn, conn.begin():
        return db.report(conn, site=site, period=period, today=today)


def refresh(engine: Engine, site: SiteRef, *, first: date, last: date, now: datetime) -> int:
    """Build the missing or stale rollups of the closed days from ``first`` to ``last``;
    returns how many days were built."""
    tz = site.timezone
    today = LocalTime(tz).today(now)
    last = min(last, today - timedelta(days=1))
    with read_only(engine) as conn, conn.begin():
        known = rollup_store.state(conn, site.id)
        reset = known is None or known.timezone != tz
        if reset:
            scan = rollup_store.Scan({}, 0, rollups.max_hit_id(conn))
        else:
            assert known is not None
            scan = rollup_store.scan(conn, site.id, after_id=known.checked_id, tz=tz,
                                     today=today, recent=now - LAG, now=now)
        stored = {} if reset else rollup_store.built(conn, site.id, first=first,
                                                     last=last, extra=scan.touched)
        stats = rollups.stats_hits(conn, site.id, first, last) if first <= last else {}
    late = {day for day, seen in scan.touched.items()
            if day in stored and _late(stored[day], seen)}
    wanted = [day for day in _days(first, last)
              if day not in stored or day in late
              or stored[day].stats_hits != stats.get(day, 0)]
    elsewhere = sorted(day for day in late if not first <= day <= last)
    checked = scan.settled_id if scan.settled_id is not None else (
        known.checked_id if known else 0)
    if reset:
        with engine.begin() as conn:
            rollup_store.forget(conn, site.id)
            rollup_store.set_state(conn, site.id, timezone=tz, checked_id=checked)
    for chunk in _chunks(wanted, WRITE_DAYS):
        with read_only(engine) as conn, conn.begin():
            days = rollups.build(conn, site_id=site.id, tz=tz, days=chunk)
        with engine.begin() as conn:
            rollup_store.save(conn, site.id, days, now=now)
    moved = known is not None and checked != known.checked_id
    if not reset and (wanted or elsewhere or (moved and scan.count >= ADVANCE_AFTER)):
        with engine.begin() as conn:
            rollup_store.forget(conn, site.id, elsewhere)
            rollup_store.set_state(conn, site.id, timezone=tz, checked_id=checked)
    return len(wanted)


def _late(built: rollup_store.Built, seen: list[tuple[int, datetime]]) -> bool:
    """Is a hit missing from a stored day?  Newer than its build, or received so shortly
    before it that it may not have been committed yet then.  (One received after the
    build got a newer id.)"""
    return any(hit_id > built.built_id
               or built.built_at - LAG < received <= built.built_at
               for hit_id, received in seen)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _chunks(days: list[date], size: int) -> Iterable[list[date]]:
    for i in range(0, len(days), size):
        yield days[i:i + size]


PREBUILD_DAYS = 182  # 90 days and the 90 before them, the longest default comparison


def prebuild(engine: Engine, now: datetime) -> int:
    """Build the rollups every site's overview will need (``webleads serve`` runs it
    hourly), so that the first visit of the Overview page is fast too; returns the
    number of days built.  Idempotent: days already built are skipped."""
    with read_only(engine) as conn, conn.begin():
        refs = [ref for ws in workspace_ids(conn) for ref in db.workspace_sites(conn, ws)]
    built = 0
    for ref in refs:
        today = LocalTime(ref.timezone).today(now)
        built += refresh(engine, ref, first=today - timedelta(days=PREBUILD_DAYS),
                         last=today, now=now)
    return built

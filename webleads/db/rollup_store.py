"""Stored daily rollups: writing, dropping, the staleness checks and reading (the design
is in ``db/schema_rollups.py``; ``db/rollups.py`` builds the days)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db import dialect
from webleads.db.rollups import Counts, Day
from webleads.db.schema_rollups import rollup_days, rollup_dims, rollup_hours, rollup_sites
from webleads.periods import LocalTime
from webleads.sketch import Sketch


@dataclass(frozen=True, slots=True)
class Built:
    """What the staleness checks need of a stored day."""

    built_at: datetime
    built_id: int
    stats_hits: int


@dataclass(frozen=True, slots=True)
class State:
    timezone: str
    checked_id: int


@dataclass(frozen=True, slots=True)
class Scan:
    """Hits received since the watermark: the closed days they touch, and how far the
    watermark may move."""

    touched: Mapping[date, list[tuple[int, datetime]]]  # day -> [(hit id, received_at)]
    count: int
    settled_id: int | None


def save(conn: Connection, site_id: int, days: Sequence[Day], *, now: datetime) -> None:
    """Replace the stored rollups of ``days``.  A page that wrote the same days at the
    same time (PostgreSQL) wins: the rows it holds are kept (same numbers anyway)."""
    if not days:
        return
    forget(conn, site_id, [d.day for d in days])
    conn.execute(_insert(conn, rollup_days), [{
        "site_id": site_id, "day": d.day, "built_at": now, "built_id": d.built_id,
        "stats_hits": d.stats_hits, "visits": d.visits,
        "identified_visits": d.identified_visits,
        "hits": d.hits, "pageviews": d.pageviews, "engaged_ms": d.engaged_ms,
        "visitors": d.visitors.to_bytes(), "accounts": d.accounts.to_bytes(),
    } for d in days])
    hours = [{"site_id": site_id, "day": d.day, "hour": h, "visits": v}
             for d in days for h, v in sorted(d.hours.items())]
    if hours:
        conn.execute(_insert(conn, rollup_hours), hours)
    dims = [{"site_id": site_id, "day": d.day, "kind": k, "value": value, "visits": v,
             "pageviews": p} for d in days for (k, value), (v, p) in sorted(d.dims.items())]
    if dims:
        conn.execute(_insert(conn, rollup_dims), dims)


def _insert(conn: Connection, table: sa.Table) -> Any:
    return dialect.insert(conn, table).on_conflict_do_nothing()


def forget(conn: Connection, site_id: int, days: Sequence[date] | None = None) -> None:
    """Drop the rollups of ``days`` (every day when None): they are built again when a
    page needs them.  Call it after rewriting stored hits in place (re-identification)."""
    for table in (rollup_dims, rollup_hours, rollup_days):
        if days is None:
            conn.execute(sa.delete(table).where(table.c.site_id == site_id))
            continue
        wanted = sorted(set(days))
        for i in range(0, len(wanted), 500):
            conn.execute(sa.delete(table).where(table.c.site_id == site_id,
                                                table.c.day.in_(wanted[i:i + 500])))


def set_state(conn: Connection, site_id: int, *, timezone: str, checked_id: int) -> None:
    stmt = dialect.insert(conn, rollup_sites).values(site_id=site_id, timezone=timezone,
                                                     checked_id=checked_id)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["site_id"], set_={"timezone": timezone, "checked_id": checked_id}))


# -- checking -------------------------------------------------------------------------------

def state(conn: Connection, site_id: int) -> State | None:
    row = conn.execute(sa.select(rollup_sites.c.timezone, rollup_sites.c.checked_id)
                       .where(rollup_sites.c.site_id == site_id)).first()
    return State(row.timezone, int(row.checked_id)) if row else None


def built(conn: Connection, site_id: int, *, first: date, last: date,
          extra: Iterable[date] = ()) -> dict[date, Built]:
    """The stored days from ``first`` to ``last``, and the ``extra`` days."""
    r = rollup_days.c
    cols = (r.day, r.built_at, r.built_id, r.stats_hits)
    rows = list(conn.execute(sa.select(*cols).where(r.site_id == site_id, r.day >= first,
                                                    r.day <= last)))
    others = sorted(d for d in set(extra) if not first <= d <= last)
    for i in range(0, len(others), 500):
        rows += conn.execute(sa.select(*cols).where(r.site_id == site_id,
                                                    r.day.in_(others[i:i + 500])))
    return {row.day: Built(row.built_at, int(row.built_id), int(row.stats_hits))
            for row in rows}


LATE_SQL = (
    "SELECT h.id, h.ts, h.received_at, s.started_at FROM hits h "
    "JOIN sessions s ON s.id = h.session_id "
    # "+ 0": walk the primary key from the watermark, not the site's index of hits.
    "WHERE h.id > ? AND h.site_id + 0 = ? AND (h.ts < ? OR s.started_at < ?)"
)
SINCE_SQL = (
    "SELECT count(*), max(id), "
    "min(CASE WHEN received_at >= ? AND received_at <= ? THEN id END) FROM hits "
    "WHERE id > ? AND site_id + 0 = ?"
)


def scan(conn: Connection, site_id: int, *, after_id: int, tz: str, today: date,
         recent: datetime, now: datetime) -> Scan:
    """Hits above the watermark ``after_id`` that belong to closed days (by their time or
    their session's start).  The watermark may move to just below the first hit received
    from ``recent`` to ``now`` (one still in flight then could get a smaller id than
    those seen)."""
    local = LocalTime(tz)
    stamp, read = dialect.timestamp_converter(conn), dialect.timestamp_reader(conn)
    before = stamp(local.start(today))
    touched: dict[date, list[tuple[int, datetime]]] = {}
    for hit_id, ts, received, started in dialect.fetch_all(
            conn, LATE_SQL, [after_id, site_id, before, before]):
        days = {local.day_hour(read(ts))[0], local.day_hour(read(started))[0]}
        for day in days:
            if day < today:
                touched.setdefault(day, []).append((int(hit_id), read(received)))
    count, top, first_recent = dialect.fetch_all(
        conn, SINCE_SQL, [stamp(recent), stamp(now), after_id, site_id])[0]
    settled = int(first_recent) - 1 if first_recent is not None else (
        int(top) if top is not None else None)
    return Scan(touched, int(count), settled)


# -- reading ----------------------------------------------------------------------------------

def day_rows(conn: Connection, site_id: int, first: date, last: date) -> list[Day]:
    """The stored totals of the days from ``first`` to ``last`` (without hours and dims)."""
    r = rollup_days.c
    return [Day(day=row.day, visits=int(row.visits),
                identified_visits=int(row.identified_visits), hits=int(row.hits),
                pageviews=int(row.pageviews), engaged_ms=int(row.engaged_ms),
                visitors=Sketch.from_bytes(row.visitors),
                accounts=Sketch.from_bytes(row.accounts), stats_hits=int(row.stats_hits),
                built_id=int(row.built_id))
            for row in conn.execute(sa.select(rollup_days).where(
                r.site_id == site_id, r.day >= first, r.day <= last).order_by(r.day))]


def hour_rows(conn: Connection, site_id: int, first: date, last: date
              ) -> list[tuple[date, int, int]]:
    """(day, local hour, visits started) of the stored days."""
    h = rollup_hours.c
    return [(day, int(hour), int(v)) for day, hour, v in conn.execute(
        sa.select(h.day, h.hour, h.visits)
        .where(h.site_id == site_id, h.day >= first, h.day <= last))]


def dim_sums(conn: Connection, site_id: int, first: date, last: date
             ) -> dict[tuple[str, str], Counts]:
    """Visits and page views per dimension value, summed over the stored days."""
    d = rollup_dims.c
    return {(kind, value): (int(v), int(p)) for kind, value, v, p in conn.execute(
        sa.select(d.kind, d.value, sa.func.sum(d.visits), sa.func.sum(d.pageviews))
        .where(d.site_id == site_id, d.day >= first, d.day <= last)
        .group_by(d.kind, d.value))}


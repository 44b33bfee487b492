"""Building the daily rollups from sessions and hits (the design is in
``db/schema_rollups.py``; ``db/rollup_store.py`` stores, checks and reads them, and
``webleads/traffic.py`` decides when to build).

Hits are summed by the database, per day of the site's time zone (a ``CASE`` over the
days' first instants), page URL and page group: a first build over a million hits
hands a few thousand rows to Python.  Sessions come one row each (a tenth of the hits),
for their start hour, their attributes and the distinct-count sketches.  Both scans run
at the driver level: SQLAlchemy's per-row processing would cost more than the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db import dialect
from webleads.db.schema import hits
from webleads.db.schema_privacy import daily_stats
from webleads.periods import LocalTime
from webleads.sketch import Sketch

PAGES_PER_DAY = 1000  # most viewed paths kept per day
VALUE_MAX = 300  # characters of a dimension value
# Visits per kind of dimension come from the session; page views from the hits.
VISIT_KINDS = ("source", "medium", "campaign", "country", "network")
VIEW_KINDS = ("group", "page")
Counts = tuple[int, int]  # (visits, page views)


@dataclass(frozen=True, slots=True)
class Day:
    """One day of one site: a stored rollup, or today computed from the hits."""

    day: date
    visits: int = 0
    identified_visits: int = 0
    hits: int = 0
    pageviews: int = 0
    engaged_ms: int = 0
    visitors: Sketch = Sketch()
    accounts: Sketch = Sketch()
    hours: Mapping[int, int] = field(default_factory=dict)  # local hour -> visits started
    dims: Mapping[tuple[str, str], Counts] = field(default_factory=dict)
    stats_hits: int = 0  # daily_stats hits of the day when it was computed
    built_id: int = 0  # newest hit id when it was computed


SESSIONS_SQL = (
    "SELECT started_at, visitor_key, account_id, source_class, utm_medium, utm_campaign, "
    "country, network_category FROM sessions "
    "WHERE site_id = ? AND started_at >= ? AND started_at < ?"
)
HITS_SQL = (
    "SELECT {day} AS d, CASE WHEN type = 'pageview' THEN 1 ELSE 0 END AS v, "
    "CASE WHEN type = 'pageview' THEN url END AS u, "
    "CASE WHEN type = 'pageview' THEN page_group END AS g, count(*), "
    "coalesce(sum(engaged_ms), 0) FROM hits "
    "WHERE site_id = ? AND ts >= ? AND ts < ? GROUP BY 1, 2, 3, 4"
)


class _Acc:
    __slots__ = ("visits", "identified", "hits", "pageviews", "engaged", "visitors",
                 "accounts", "hours", "dims", "paths", "kinds")

    def __init__(self) -> None:
        self.visits = self.identified = self.hits = self.pageviews = self.engaged = 0
        self.visitors: set[str] = set()
        self.accounts: set[int] = set()
        self.hours = [0] * 24
        self.dims: dict[tuple[str, str], list[int]] = {}
        self.paths: dict[str, int] = {}
        # Visits per (source, medium, campaign, country, network), split at the end.
        self.kinds: dict[tuple[str | None, ...], int] = {}

    def add(self, kind: str, value: str | None, visits: int, views: int) -> None:
        if value is None:
            return
        counts = self.dims.setdefault((kind, value[:VALUE_MAX]), [0, 0])
        counts[0] += visits
        counts[1] += views


@lru_cache(maxsize=4096)
def page_path(url: str) -> str:
    """The path of a page's URL, without query string or fragment (which may name a
    person): "/pricing"."""
    try:
        path = urlsplit(url).path
    except ValueError:
        path = ""
    return (path or "/")[:VALUE_MAX]


def max_hit_id(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(hits.c.id), 0)))
               .scalar_one())


def stats_hits(conn: Connection, site_id: int, first: date, last: date) -> dict[date, int]:
    """Hits and sessions of each day that are no longer stored (``daily_stats``): when it
    changes, the day's rollup counted rows that are gone and is built again."""
    d = daily_stats.c
    return {day: int(n) for day, n in conn.execute(
        sa.select(d.day, sa.func.sum(d.hits + d.sessions))
        .where(d.site_id == site_id, d.day >= first, d.day <= last).group_by(d.day))}


def build(conn: Connection, *, site_id: int, tz: str, days: Sequence[date]) -> list[Day]:
    """The rollups of ``days`` from what is stored now.  Reads ``daily_stats`` and the
    newest hit id before the sessions and hits, so that a purge or a late hit in
    between shows as staleness later rather than as a wrong count."""
    local = LocalTime(tz)
    out: list[Day] = []
    for run in _runs(sorted(set(days))):
        built_id = max_hit_id(conn)
        stats = stats_hits(conn, site_id, run[0], run[-1])
        acc = {day: _Acc() for day in run}
        _add_sessions(conn, acc, local, site_id, run)
        _add_hits(conn, acc, local, site_id, run)
        out += [_day(day, acc[day], stats.get(day, 0), built_id) for day in run]
    return out


def _runs(days: Sequence[date], longest: int = 31) -> Iterable[list[date]]:
    """Consecutive days, in runs of at most ``longest``."""
    run: list[date] = []
    for day in days:
        if run and (day - run[-1] != timedelta(days=1) or len(run) >= longest):
            yield run
            run = []
        run.append(day)
    if run:
        yield run


def _add_sessions(conn: Connection, acc: dict[date, _Acc], local: LocalTime, site_id: int,
                  run: list[date]) -> None:
    stamp, read = dialect.timestamp_converter(conn), dialect.timestamp_reader(conn)
    start, end = local.bounds(run[0], run[-1])
    rows = dialect.fetch_all(conn, SESSIONS_SQL, [site_id, stamp(start), stamp(end)])
    # A timestamp is converted once per minute, not once per row.  SQLite gives text
    # ("YYYY-MM-DD HH:MM:SS.ffffff"), PostgreSQL a datetime.
    slots: dict[Any, tuple[_Acc, int] | None] = {}
    for started, visitor, account, source, medium, campaign, country, network in rows:
        key = started[:16] if isinstance(started, str) else started.replace(
            second=0, microsecond=0)
        if key not in slots:
            day, hour = local.day_hour(read(started))
            slots[key] = (acc[day], hour) if day in acc else None
        slot = slots[key]
        if slot is None:
            continue
        a, hour = slot
        a.visits += 1
        a.hours[hour] += 1
        a.visitors.add(visitor)
        if account is not None:
            a.identified += 1
            a.accounts.add(int(account))
        key = (source or "", medium, campaign, country or "", network or "")
        a.kinds[key] = a.kinds.get(key, 0) + 1


def _add_hits(conn: Connection, acc: dict[date, _Acc], local: LocalTime, site_id: int,
              run: list[date]) -> None:
    stamp = dialect.timestamp_converter(conn)
    starts = [stamp(local.start(day)) for day in run]
    end = stamp(local.start(run[-1] + timedelta(days=1)))
    day = "CASE " + " ".join(f"WHEN ts < ? THEN {i - 1}" for i in range(1, len(run))) + (
        f" ELSE {len(run) - 1} END") if len(run) > 1 else "0"
    sql = HITS_SQL.format(day=day)
    for index, view, url, group, n, engaged in dialect.fetch_all(
            conn, sql, [*starts[1:], site_id, starts[0], end]):
        a = acc[run[int(index)]]
        a.hits += int(n)
        a.engaged += int(engaged)
        if view:
            a.pageviews += int(n)
            path = page_path(url or "")
            a.paths[path] = a.paths.get(path, 0) + int(n)
            a.add("group", group, 0, int(n))


def _day(day: date, a: _Acc, stats: int, built_id: int) -> Day:
    for values, n in a.kinds.items():
        for kind, value in zip(VISIT_KINDS, values, strict=True):
            a.add(kind, value, n, 0)
    dims = {k: (v[0], v[1]) for k, v in a.dims.items()}
    for path, n in sorted(a.paths.items(), key=lambda pn: (-pn[1], pn[0]))[:PAGES_PER_DAY]:
        dims[("page", path)] = (0, n)
    return Day(day=day, visits=a.visits, identified_visits=a.identified, hits=a.hits,
               pageviews=a.pageviews, engaged_ms=a.engaged,
               visitors=Sketch.of(a.visitors), accounts=Sketch.of(a.accounts),
               hours={h: n for h, n in enumerate(a.hours) if n}, dims=dims,
               stats_hits=stats, built_id=built_id)

"""The overview of a site over a period, compared with the previous period of the same
length: totals, the daily line, the hour x weekday heatmap and the top values of each
dimension.

Closed days come from the daily rollups (``db/schema_rollups.py`` describes them and
how they are kept right; ``webleads/traffic.py`` refreshes them before this reads),
today from the hits, computed the same way (``rollups.build``).  The counts of hits
that are no longer stored (``daily_stats``, written by the purge and by erasure) are
added to page views, engaged time and page groups, so that totals survive a purge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db import rollup_store, rollups
from webleads.db.rollups import VIEW_KINDS, VISIT_KINDS, Day
from webleads.db.schema import accounts, hits, sessions, sites
from webleads.db.schema_privacy import daily_stats
from webleads.periods import LocalTime, Period
from webleads.sketch import Sketch

TOP = 50  # values kept per dimension


@dataclass(frozen=True, slots=True)
class SiteRef:
    id: int
    workspace_id: int
    name: str
    domain: str
    timezone: str


@dataclass(frozen=True, slots=True)
class Totals:
    visits: int = 0
    visitors: int = 0
    pageviews: int = 0
    hits: int = 0
    identified_visits: int = 0
    accounts: int = 0  # distinct organisations identified
    new_accounts: int = 0  # of which first seen in the period
    engaged_ms: int = 0

    @property
    def identified_share(self) -> float | None:
        return self.identified_visits / self.visits if self.visits else None

    @property
    def returning_accounts(self) -> int:
        return max(0, self.accounts - self.new_accounts)

    @property
    def engaged_per_visit(self) -> float | None:
        return self.engaged_ms / self.visits if self.visits else None


@dataclass(frozen=True, slots=True)
class Point:
    day: date
    visits: int
    pageviews: int


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    current: Totals
    previous: Totals
    daily: tuple[Point, ...]  # every day of the period
    previous_daily: tuple[Point, ...]  # every day of the previous period
    heatmap: Mapping[tuple[int, int], int]  # (weekday 0 = Monday, hour) -> visits
    # kind -> [(value, count)], most first: visits for VISIT_KINDS, page views for
    # VIEW_KINDS; "" is "unknown" (source, country, network).
    dims: Mapping[str, tuple[tuple[str, int], ...]]


@dataclass(frozen=True, slots=True)
class Purged:
    """Counts of a day's hits that are no longer stored (``daily_stats``)."""

    hits: int = 0
    pageviews: int = 0
    engaged_ms: int = 0
    groups: Mapping[str, int] | None = None  # page group -> page views
    visits: int = 0  # sessions no longer stored, by the day they started


def workspace_sites(conn: Connection, workspace_id: int) -> list[SiteRef]:
    s = sites.c
    return [SiteRef(int(r.id), int(r.workspace_id), r.name, r.domain, r.timezone)
            for r in conn.execute(sa.select(s.id, s.workspace_id, s.name, s.domain,
                                            s.timezone)
                                  .where(s.workspace_id == workspace_id).order_by(s.id))]


def has_data(conn: Connection, site_id: int) -> bool:
    """Has the site ever received a hit (stored, or purged since)?"""
    for table in (hits, daily_stats):
        if conn.execute(sa.select(sa.literal(1)).select_from(table)
                        .where(table.c.site_id == site_id).limit(1)).first():
            return True
    return False


def purged(conn: Connection, site_id: int, first: date, last: date) -> dict[date, Purged]:
    d = daily_stats.c
    found: dict[date, tuple[list[int], dict[str, int]]] = {}
    for day, group, n, views, engaged, visits in conn.execute(
            sa.select(d.day, d.page_group, sa.func.sum(d.hits), sa.func.sum(d.pageviews),
                      sa.func.sum(d.engaged_ms), sa.func.sum(d.sessions))
            .where(d.site_id == site_id, d.day >= first, d.day <= last)
            .group_by(d.day, d.page_group)):
        sums, groups = found.setdefault(day, ([0, 0, 0, 0], {}))
        sums[0] += int(n)
        sums[1] += int(views)
        sums[2] += int(engaged)
        sums[3] += int(visits)
        if group:
            groups[str(group)] = groups.get(str(group), 0) + int(views)
    return {day: Purged(s[0], s[1], s[2], g, s[3]) for day, (s, g) in found.items()}


def new_accounts(conn: Connection, *, site: SiteRef, start: datetime, end: datetime) -> int:
    """Organisations first seen (by the workspace) from ``start`` to ``end`` that
    visited the site in that time: the accounts' first visit moves when a late hit
    comes, so this is counted live, not rolled up."""
    a, s = accounts.c, sessions.c
    where = [a.workspace_id == site.workspace_id, a.first_seen >= start, a.first_seen < end]
    others = conn.execute(sa.select(sa.func.count()).select_from(sites).where(
        sites.c.workspace_id == site.workspace_id, sites.c.id != site.id)).scalar_one()
    if others:  # with one site, an account first seen then visited it then
        where.append(sa.exists().where(s.account_id == a.id, s.site_id == site.id,
                                       s.started_at >= start, s.started_at < end))
    return int(conn.execute(sa.select(sa.func.count()).select_from(accounts)
                            .where(*where)).scalar_one())


def report(conn: Connection, *, site: SiteRef, period: Period, today: date) -> Report:
    """The overview of ``period``; its closed days must be rolled up already."""
    previous = period.previous
    days = {d.day: d for d in rollup_store.day_rows(conn, site.id, previous.first, period.last)
            if d.day < today}
    live: list[Day] = []
    if previous.first <= today <= period.last:
        live = rollups.build(conn, site_id=site.id, tz=site.timezone, days=[today])
        days.update((d.day, d) for d in live)
    gone = purged(conn, site.id, previous.first, period.last)
    current = [days.get(day) or Day(day) for day in period.dates()]
    before = [days.get(day) or Day(day) for day in previous.dates()]

    closed = min(period.last, today - timedelta(days=1))  # stored days end there
    heatmap: dict[tuple[int, int], int] = {}
    hour_rows = rollup_store.hour_rows(conn, site.id, period.first, closed)
    hour_rows += [(d.day, h, v) for d in live if period.first <= d.day <= period.last
                  for h, v in d.hours.items()]
    for day, hour, visits in hour_rows:
        if visits:
            key = (day.weekday(), hour)
            heatmap[key] = heatmap.get(key, 0) + visits

    sums = dict(rollup_store.dim_sums(conn, site.id, period.first, closed))
    for d in live:
        if period.first <= d.day <= period.last:
            for dim, (v, p) in d.dims.items():
                old = sums.get(dim, (0, 0))
                sums[dim] = (old[0] + v, old[1] + p)
    for day, lost in gone.items():
        if period.first <= day <= period.last:
            for group, views in (lost.groups or {}).items():
                old = sums.get(("group", group), (0, 0))
                sums[("group", group)] = (old[0], old[1] + views)
    local = LocalTime(site.timezone)
    fresh = [new_accounts(conn, site=site, start=start, end=end)
             for start, end in (local.bounds(p.first, p.last) for p in (period, previous))]
    return Report(
        period=period, current=_totals(current, gone, fresh[0]),
        previous=_totals(before, gone, fresh[1]),
        daily=_points(current, gone), previous_daily=_points(before, gone),
        heatmap=heatmap, dims=_top(sums))


def _totals(days: Sequence[Day], gone: Mapping[date, Purged], new: int) -> Totals:
    extra = [gone[d.day] for d in days if d.day in gone]
    return Totals(
        visits=sum(d.visits for d in days) + sum(p.visits for p in extra),
        visitors=Sketch.union(d.visitors for d in days).count(),
        pageviews=sum(d.pageviews for d in days) + sum(p.pageviews for p in extra),
        hits=sum(d.hits for d in days) + sum(p.hits for p in extra),
        identified_visits=sum(d.identified_visits for d in days),
        accounts=Sketch.union(d.accounts for d in days).count(),
        new_accounts=new,
        engaged_ms=sum(d.engaged_ms for d in days) + sum(p.engaged_ms for p in extra),
    )


def _points(days: Iterable[Day], gone: Mapping[date, Purged]) -> tuple[Point, ...]:
    none = Purged()
    return tuple(Point(d.day, d.visits + gone.get(d.day, none).visits,
                       d.pageviews + gone.get(d.day, none).pageviews) for d in days)


def _top(sums: Mapping[tuple[str, str], tuple[int, int]]
         ) -> dict[str, tuple[tuple[str, int], ...]]:
    out: dict[str, tuple[tuple[str, int], ...]] = {}
    for kind in (*VISIT_KINDS, *VIEW_KINDS):
        index = 0 if kind in VISIT_KINDS else 1
        values = [(value, counts[index]) for (k, value), counts in sums.items()
                  if k == kind and counts[index]]
        values.sort(key=lambda vc: (-vc[1], vc[0]))
        out[kind] = tuple(values[:TOP])
    return out

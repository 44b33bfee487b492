"""Who is on the sites now: the visits with a hit in the last minutes, with the page
they are on (their latest page view), and who they are (account or network).

One scan of the recent hits (index of hits on ``(site_id, ts)``), then their sessions by
primary key with their accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db.schema import accounts, hits, sessions

MAX_VISITS = 500  # most recent visits listed
AHEAD = timedelta(minutes=2)  # hits stamped in the future by a fast clock still count


@dataclass(frozen=True, slots=True)
class LiveVisit:
    session_id: int
    site_id: int
    last_seen: datetime  # time of its latest hit
    started_at: datetime
    url: str  # latest page viewed ("" when none in the window)
    title: str
    account_id: int | None
    account_name: str | None
    account_domain: str | None
    network_category: str | None
    country: str | None
    source_class: str | None
    source_name: str | None
    utm_campaign: str | None
    pageviews: int
    engaged_ms: int


@dataclass(frozen=True, slots=True)
class LiveOrganisation:
    account_id: int
    name: str
    domain: str | None
    visits: tuple[LiveVisit, ...]  # most recent first

    @property
    def last_seen(self) -> datetime:
        return self.visits[0].last_seen


@dataclass(frozen=True, slots=True)
class LiveNow:
    now: datetime
    recent: datetime  # start of "now" (5 minutes)
    since: datetime  # start of the window (30 minutes)
    visits: tuple[LiveVisit, ...]  # the visits of the window, most recent first
    total: int  # visits in the window (more than listed beyond MAX_VISITS)

    @property
    def active(self) -> tuple[LiveVisit, ...]:
        return tuple(v for v in self.visits if v.last_seen >= self.recent)

    @property
    def organisations(self) -> tuple[LiveOrganisation, ...]:
        grouped: dict[int, list[LiveVisit]] = {}
        for v in self.visits:
            if v.account_id is not None:
                grouped.setdefault(v.account_id, []).append(v)
        return tuple(LiveOrganisation(account_id, vs[0].account_name or "",
                                      vs[0].account_domain, tuple(vs))
                     for account_id, vs in grouped.items())

    def anonymous(self, *, active_only: bool = False) -> dict[str, int]:
        """Visits without an account, per network category ("" when unknown)."""
        counts: dict[str, int] = {}
        for v in self.active if active_only else self.visits:
            if v.account_id is None:
                key = v.network_category or ""
                counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def live(conn: Connection, *, site_ids: Sequence[int], now: datetime, recent: datetime,
         since: datetime) -> LiveNow:
    """The visits of ``site_ids`` with a hit from ``since`` on (``recent`` <= now marks
    those active now)."""
    if not site_ids:
        return LiveNow(now, recent, since, (), 0)
    h = hits.c
    latest: dict[int, tuple[datetime, str, str]] = {}  # session -> (last ts, url, title)
    for session_id, ts, kind, url, title in conn.execute(
            sa.select(h.session_id, h.ts, h.type, h.url, h.title)
            .where(h.site_id.in_(list(site_ids)), h.ts >= since, h.ts <= now + AHEAD)
            .order_by(h.ts, h.id)):
        before = latest.get(int(session_id))
        if kind == "pageview" or before is None:
            page = (url or "", title or "") if kind == "pageview" else ("", "")
        else:
            page = (before[1], before[2])
        latest[int(session_id)] = (ts, *page)
    order = sorted(latest, key=lambda sid: latest[sid][0], reverse=True)
    shown = order[:MAX_VISITS]
    s, a = sessions.c, accounts.c
    rows = {}
    for i in range(0, len(shown), 500):
        for row in conn.execute(
                sa.select(s.id, s.site_id, s.started_at, s.account_id, a.name, a.domain,
                          s.network_category, s.country, s.source_class, s.source_name,
                          s.utm_campaign, s.pageviews, s.engaged_ms)
                .select_from(sessions.outerjoin(accounts, a.id == s.account_id))
                .where(s.id.in_(shown[i:i + 500]))):
            rows[int(row.id)] = row
    visits = []
    for sid in shown:
        if sid not in rows:
            continue
        row = rows[sid]
        ts, url, title = latest[sid]
        visits.append(LiveVisit(
            session_id=sid, site_id=int(row.site_id), last_seen=ts,
            started_at=row.started_at, url=url, title=title,
            account_id=None if row.account_id is None else int(row.account_id),
            account_name=row.name, account_domain=row.domain,
            network_category=row.network_category, country=row.country,
            source_class=row.source_class, source_name=row.source_name,
            utm_campaign=row.utm_campaign, pageviews=int(row.pageviews),
            engaged_ms=int(row.engaged_ms)))
    return LiveNow(now, recent, since, tuple(visits), len(order))

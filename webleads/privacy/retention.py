"""Retention per site and the purge job (``webleads purge``, and ``serve``'s periodic jobs).

Per site (``site_retention``; a site without a row keeps the defaults below):

- raw hits older than ``hits_days`` are deleted; first, their counts are added to the
  anonymous daily aggregates (``daily_stats``), so that overview numbers survive;
- sessions whose last hit is older than ``sessions_days`` are deleted with their hits
  (aggregated first too);
- visitors (the identifier: cookie id or daily hash) not seen for ``IDENTIFIER_DAYS``
  (13 months, the CNIL's limit for an audience-measurement identifier) are deleted;
- contacts (per workspace) not seen for ``contacts_days`` are deleted after their
  sessions, hits, visitors and score lines are unlinked from them.  A workspace's
  contacts follow the shortest ``contacts_days`` of its sites.

Scores: the score lines of purged hits are deleted in the purge, and the score sums of
every touched workspace are then rebuilt from the remaining lines (``rebuild_sums``,
exact integer sums; no rescan of hits).  Account counters (visits, pageviews, engaged
time) are aggregates and are kept.

Every step works in pages of ``batch_size`` rows, one transaction per page: a run can stop
anywhere and be run again.  ``visitors`` in ``daily_stats`` is approximate: distinct per
day and dimensions within one run (a visitor counted in two runs, or under two
dimensions, is counted twice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import Engine

from webleads.db import privacy as db
from webleads.db import scoring as scoring_db
from webleads.db.engine import read_only
from webleads.privacy.audit import record_audit
from webleads.privacy.modes import check_retention

HITS_DAYS = 400  # about 13 months
SESSIONS_DAYS = 760  # 25 months: the CNIL's limit for audience-measurement data
CONTACTS_DAYS = 1095  # 3 years without any sign of the person (CNIL, B2B prospects)
IDENTIFIER_DAYS = 395  # 13 months: the life of the cookie, and of a visitor row
MAX_DAYS = 36500
BATCH = 5000
SEEN_MAX = 1_000_000  # visitors remembered per run for the distinct counts


@dataclass(frozen=True, slots=True)
class Retention:
    hits_days: int = HITS_DAYS
    sessions_days: int = SESSIONS_DAYS
    contacts_days: int = CONTACTS_DAYS


def retention_of(row: db.SiteRow) -> Retention:
    return Retention(row.hits_days or HITS_DAYS, row.sessions_days or SESSIONS_DAYS,
                     row.contacts_days or CONTACTS_DAYS)


def set_retention(engine: Engine, site_id: int, retention: Retention, *, by: str,
                  now: datetime) -> None:
    for days in (retention.hits_days, retention.sessions_days, retention.contacts_days):
        if not 1 <= days <= MAX_DAYS:
            raise ValueError(f"retention periods are 1 to {MAX_DAYS} days, not {days}")
    with engine.begin() as conn:
        rows = db.site_rows(conn, site_id=site_id)
        # The audience mode keeps hits and sessions 25 months at most (privacy/modes.py).
        check_retention(conn, site_id, hits_days=retention.hits_days,
                        sessions_days=retention.sessions_days)
        db.set_retention(conn, site_id, hits_days=retention.hits_days,
                         sessions_days=retention.sessions_days,
                         contacts_days=retention.contacts_days)
        record_audit(conn, workspace_id=rows[0].workspace_id if rows else None, actor=by,
                     action="retention.set", target=f"site:{site_id}",
                     details={"hits_days": retention.hits_days,
                              "sessions_days": retention.sessions_days,
                              "contacts_days": retention.contacts_days}, now=now)


# -- daily aggregates ------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def aggregate(rows: Iterable[Mapping[str, Any]], timezones: Mapping[int, str],
              seen: set[tuple[Any, ...]] | None = None) -> list[dict[str, Any]]:
    """The ``daily_stats`` rows of hits: per site, day (in the site's time zone) and
    dimensions.  ``seen`` remembers visitors across pages of one run."""
    seen = set() if seen is None else seen
    if len(seen) > SEEN_MAX:
        seen.clear()
    sums: dict[tuple[Any, ...], list[int]] = {}
    for h in rows:
        site_id = int(h["site_id"])
        day = h["ts"].astimezone(_zone(timezones.get(site_id, "UTC"))).date()
        key = (site_id, day, h["page_group"] or "", h["source_class"] or "",
               h["country"] or "", h["network_category"] or "")
        s = sums.setdefault(key, [0, 0, 0, 0])
        s[0] += 1
        s[1] += h["type"] == "pageview"
        s[3] += int(h["engaged_ms"] or 0)
        if (*key, h["visitor_key"]) not in seen:
            seen.add((*key, h["visitor_key"]))
            s[2] += 1
    return [{"site_id": k[0], "day": k[1], "page_group": k[2], "source_class": k[3],
             "country": k[4], "network_category": k[5], "hits": v[0], "pageviews": v[1],
             "visitors": v[2], "engaged_ms": v[3], "sessions": 0} for k, v in sums.items()]


def aggregate_sessions(rows: Iterable[Mapping[str, Any]], timezones: Mapping[int, str]
                       ) -> list[dict[str, Any]]:
    """The ``daily_stats`` rows of deleted sessions: how many started each day (in the
    site's time zone) from each source, so that the overview's visits still add up."""
    sums: dict[tuple[Any, ...], int] = {}
    for r in rows:
        site_id = int(r["site_id"])
        day = r["started_at"].astimezone(_zone(timezones.get(site_id, "UTC"))).date()
        key = (site_id, day, r.get("source_class") or "")
        sums[key] = sums.get(key, 0) + 1
    return [{"site_id": k[0], "day": k[1], "page_group": "", "source_class": k[2],
             "country": "", "network_category": "", "hits": 0, "pageviews": 0,
             "visitors": 0, "engaged_ms": 0, "sessions": n} for k, n in sums.items()]


# -- the purge ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SitePurge:
    site_id: int
    key: str
    hits_before: datetime
    hits: int
    sessions: int
    visitors: int


@dataclass(frozen=True, slots=True)
class PurgeReport:
    dry_run: bool
    sites: tuple[SitePurge, ...] = ()
    contacts: int = 0
    workspaces_rescored: tuple[int, ...] = field(default=())

    @property
    def hits(self) -> int:
        return sum(s.hits for s in self.sites)

    @property
    def sessions(self) -> int:
        return sum(s.sessions for s in self.sites)

    @property
    def visitors(self) -> int:
        return sum(s.visitors for s in self.sites)


def purge(engine: Engine, *, now: datetime, site_id: int | None = None,
          dry_run: bool = False, by: str = "purge", batch_size: int = BATCH) -> PurgeReport:
    """Apply the retention of one site (and its workspace's contacts), or of every site."""
    with read_only(engine) as conn:
        site_list = db.site_rows(conn, site_id=site_id)
        all_sites = db.site_rows(conn)
    timezones = {s.id: s.timezone for s in all_sites}
    done: list[SitePurge] = []
    touched: set[int] = set()
    seen: set[tuple[Any, ...]] = set()
    for site in site_list:
        result = _purge_site(engine, site, now=now, dry_run=dry_run, batch_size=batch_size,
                             timezones=timezones, seen=seen)
        done.append(result)
        if result.hits or result.sessions:
            touched.add(site.workspace_id)
    contacts = 0
    for ws in sorted({s.workspace_id for s in site_list}):
        days = min(retention_of(s).contacts_days for s in all_sites if s.workspace_id == ws)
        n = _purge_contacts(engine, ws, before=now - timedelta(days=days), dry_run=dry_run,
                            batch_size=batch_size)
        contacts += n
        if n:
            touched.add(ws)
    if not dry_run:
        for ws in sorted(touched):
            with engine.begin() as conn:
                scoring_db.rebuild_sums(conn, ws)
        _audit(engine, done, contacts, by=by, now=now, site_list=site_list)
    return PurgeReport(dry_run, tuple(done), contacts, tuple(sorted(touched)) if not dry_run
                       else ())


def _purge_site(engine: Engine, site: db.SiteRow, *, now: datetime, dry_run: bool,
                batch_size: int, timezones: Mapping[int, str], seen: set[tuple[Any, ...]]
                ) -> SitePurge:
    keep = retention_of(site)
    hits_before = now - timedelta(days=keep.hits_days)
    sessions_before = now - timedelta(days=keep.sessions_days)
    visitors_before = now - timedelta(days=IDENTIFIER_DAYS)
    if dry_run:
        with read_only(engine) as conn:
            return SitePurge(
                site.id, site.key, hits_before,
                db.count_old_hits(conn, site.id, before=hits_before),
                db.count_old_sessions(conn, site.id, before=sessions_before),
                db.delete_stale_visitors(conn, site.id, before=visitors_before, dry_run=True))
    hits = sessions = 0
    with engine.begin() as conn:
        db.delete_ledger_before(conn, site.id, before=hits_before)
    while True:
        with engine.begin() as conn:
            rows = db.old_hits(conn, site.id, before=hits_before, limit=batch_size)
            if not rows:
                break
            db.add_daily_stats(conn, aggregate(rows, timezones, seen))
            db.delete_hits(conn, [int(r["id"]) for r in rows])
            hits += len(rows)
    while True:
        with engine.begin() as conn:
            ids = db.old_sessions(conn, site.id, before=sessions_before,
                                  limit=max(1, batch_size // 10))
            if not ids:
                break
            rows = db.hits_of_sessions(conn, ids)
            db.add_daily_stats(conn, aggregate(rows, timezones, seen)
                               + aggregate_sessions(db.sessions_started(conn, ids), timezones))
            db.delete_ledger_of_sessions(conn, ids)
            db.delete_hits(conn, [int(r["id"]) for r in rows])
            db.delete_sessions(conn, ids)
            hits += len(rows)
            sessions += len(ids)
    with engine.begin() as conn:
        visitors = db.delete_stale_visitors(conn, site.id, before=visitors_before)
    return SitePurge(site.id, site.key, hits_before, hits, sessions, visitors)


def _purge_contacts(engine: Engine, workspace_id: int, *, before: datetime, dry_run: bool,
                    batch_size: int) -> int:
    if dry_run:
        with read_only(engine) as conn:
            return db.count_stale_contacts(conn, workspace_id, before=before)
    n = 0
    while True:
        with engine.begin() as conn:
            ids = db.stale_contacts(conn, workspace_id, before=before, limit=batch_size)
            if not ids:
                return n
            db.unlink_and_delete_contacts(conn, ids)
            n += len(ids)


def _audit(engine: Engine, done: list[SitePurge], contacts: int, *, by: str, now: datetime,
           site_list: list[db.SiteRow]) -> None:
    workspace_of = {s.id: s.workspace_id for s in site_list}
    with engine.begin() as conn:
        for s in done:
            if s.hits or s.sessions or s.visitors:
                record_audit(conn, workspace_id=workspace_of[s.site_id], actor=by,
                             action="retention.purge", target=f"site:{s.key}",
                             details={"hits": s.hits, "sessions": s.sessions,
                                      "visitors": s.visitors,
                                      "hits_before": s.hits_before.isoformat()}, now=now)
        if contacts:
            record_audit(conn, workspace_id=None, actor=by, action="retention.purge",
                         target="contacts", details={"contacts": contacts}, now=now)


def purge_job(engine: Engine) -> Callable[[datetime], object]:
    """The periodic job of ``serve``: ``Job("purge", 3600, purge_job(engine))``."""
    def run(now: datetime) -> PurgeReport:
        return purge(engine, now=now, by="purge job")
    return run

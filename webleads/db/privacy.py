"""SQL of the privacy features: retention settings, purge, data subjects, audit log.

Everything here runs in the caller's transaction; ``webleads/privacy/`` decides what to
delete and when, and keeps transactions bounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db import dialect
from webleads.db.schema import accounts, contacts, hits, quarantine, sessions, sites, visitors
from webleads.db.schema_lifecycle import account_stages, alert_rules, digest_events, owners
from webleads.db.schema_outbox import delivery_attempts, outbox
from webleads.db.schema_privacy import audit_log, daily_stats, site_retention
from webleads.db.schema_scoring import account_scores, contact_scores, score_ledger

CHUNK = 500  # ids per IN list

# The columns of a hit that the daily aggregates need.
AGG_COLUMNS = (hits.c.id, hits.c.site_id, hits.c.session_id, hits.c.visitor_key, hits.c.ts,
               hits.c.type, hits.c.engaged_ms, hits.c.page_group, hits.c.source_class,
               hits.c.country, hits.c.network_category, hits.c.account_id)


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), CHUNK):
        yield wanted[start:start + CHUNK]


# -- sites and retention -----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SiteRow:
    id: int
    workspace_id: int
    key: str
    name: str
    domain: str
    timezone: str
    identity_mode: str
    ip_mode: str
    respect_dnt: bool
    store_raw_ip: bool
    hits_days: int | None  # None: the defaults
    sessions_days: int | None
    contacts_days: int | None
    privacy_mode: str = "b2b"
    consent: str = "ignore"


def site_rows(conn: Connection, *, site_id: int | None = None) -> list[SiteRow]:
    s, r = sites.c, site_retention.c
    stmt = (sa.select(s.id, s.workspace_id, s.key, s.name, s.domain, s.timezone,
                      s.identity_mode, s.ip_mode, s.respect_dnt, s.store_raw_ip, r.hits_days,
                      r.sessions_days, r.contacts_days, s.privacy_mode, s.consent)
            .select_from(sites.outerjoin(site_retention, r.site_id == s.id)).order_by(s.id))
    if site_id is not None:
        stmt = stmt.where(s.id == site_id)
    return [SiteRow(int(x.id), int(x.workspace_id), x.key, x.name, x.domain, x.timezone,
                    x.identity_mode, x.ip_mode, bool(x.respect_dnt), bool(x.store_raw_ip),
                    x.hits_days, x.sessions_days, x.contacts_days, x.privacy_mode, x.consent)
            for x in conn.execute(stmt)]


def site_id_by_key(conn: Connection, key: str) -> int | None:
    found = conn.execute(sa.select(sites.c.id).where(sites.c.key == key)).scalar_one_or_none()
    return None if found is None else int(found)


def set_retention(conn: Connection, site_id: int, *, hits_days: int, sessions_days: int,
                  contacts_days: int) -> None:
    values = {"hits_days": hits_days, "sessions_days": sessions_days,
              "contacts_days": contacts_days}
    stmt = dialect.insert(conn, site_retention).values(site_id=site_id, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["site_id"], set_=values))


# -- purge ----------------------------------------------------------------------------------

def old_hits(conn: Connection, site_id: int, *, before: datetime, limit: int
             ) -> list[Mapping[str, Any]]:
    stmt = (sa.select(*AGG_COLUMNS).where(hits.c.site_id == site_id, hits.c.ts < before)
            .order_by(hits.c.id).limit(limit))
    return [dict(r._mapping) for r in conn.execute(stmt)]


def count_old_hits(conn: Connection, site_id: int, *, before: datetime) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(hits).where(
        hits.c.site_id == site_id, hits.c.ts < before)).scalar_one())


def old_sessions(conn: Connection, site_id: int, *, before: datetime, limit: int) -> list[int]:
    s = sessions.c
    stmt = (sa.select(s.id).where(s.site_id == site_id, s.last_seen < before)
            .order_by(s.id).limit(limit))
    return [int(i) for i in conn.execute(stmt).scalars()]


def count_old_sessions(conn: Connection, site_id: int, *, before: datetime) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(sessions).where(
        sessions.c.site_id == site_id, sessions.c.last_seen < before)).scalar_one())


def sessions_started(conn: Connection, session_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Site, start and source of sessions (for their anonymous count in daily_stats)."""
    s = sessions.c
    found: list[dict[str, Any]] = []
    for chunk in _chunks(session_ids):
        found += [dict(r._mapping) for r in conn.execute(
            sa.select(s.site_id, s.started_at, s.source_class).where(s.id.in_(chunk)))]
    return found


def hits_of_sessions(conn: Connection, session_ids: Sequence[int]) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for chunk in _chunks(session_ids):
        found += [dict(r._mapping) for r in conn.execute(
            sa.select(*AGG_COLUMNS).where(hits.c.session_id.in_(chunk)).order_by(hits.c.id))]
    return found


def add_daily_stats(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add counts to ``daily_stats`` (atomic additions; rows in key order)."""
    d = daily_stats.c
    for row in sorted(rows, key=lambda r: tuple(str(r[k]) for k in _STAT_KEY)):
        stmt = dialect.insert(conn, daily_stats).values(**row)
        ex = stmt.excluded
        conn.execute(stmt.on_conflict_do_update(
            index_elements=list(_STAT_KEY),
            set_={"hits": d.hits + ex.hits, "pageviews": d.pageviews + ex.pageviews,
                  "visitors": d.visitors + ex.visitors,
                  "engaged_ms": d.engaged_ms + ex.engaged_ms,
                  "sessions": d.sessions + ex.sessions}))


_STAT_KEY = ("site_id", "day", "page_group", "source_class", "country", "network_category")


def stats_totals(conn: Connection, site_id: int) -> dict[date, tuple[int, int, int, int]]:
    """{day: (hits, pageviews, visitors, engaged_ms)} of ``daily_stats``."""
    d = daily_stats.c
    return {day: (int(h), int(p), int(v), int(e)) for day, h, p, v, e in conn.execute(
        sa.select(d.day, sa.func.sum(d.hits), sa.func.sum(d.pageviews),
                  sa.func.sum(d.visitors), sa.func.sum(d.engaged_ms))
        .where(d.site_id == site_id).group_by(d.day))}


def delete_ledger_before(conn: Connection, site_id: int, *, before: datetime) -> int:
    lg = score_ledger.c
    result = conn.execute(sa.delete(score_ledger).where(lg.site_id == site_id, lg.ts < before))
    return int(result.rowcount or 0)


def delete_ledger_of_sessions(conn: Connection, session_ids: Sequence[int]) -> int:
    n = 0
    for chunk in _chunks(session_ids):
        result = conn.execute(sa.delete(score_ledger).where(
            score_ledger.c.session_id.in_(chunk)))
        n += int(result.rowcount or 0)
    return n


def delete_hits(conn: Connection, hit_ids: Sequence[int]) -> None:
    for chunk in _chunks(hit_ids):
        conn.execute(sa.delete(hits).where(hits.c.id.in_(chunk)))


def delete_sessions(conn: Connection, session_ids: Sequence[int]) -> None:
    """Delete sessions whose hits are gone; visitors forget them as their current one."""
    for chunk in _chunks(session_ids):
        conn.execute(sa.update(visitors).where(visitors.c.session_id.in_(chunk))
                     .values(session_id=None, session_campaign=None))
        conn.execute(sa.delete(sessions).where(sessions.c.id.in_(chunk)))


def stale_contacts(conn: Connection, workspace_id: int, *, before: datetime, limit: int
                   ) -> list[int]:
    c = contacts.c
    return [int(i) for i in conn.execute(
        sa.select(c.id).where(c.workspace_id == workspace_id, c.last_seen < before)
        .order_by(c.id).limit(limit)).scalars()]


def count_stale_contacts(conn: Connection, workspace_id: int, *, before: datetime) -> int:
    c = contacts.c
    return int(conn.execute(sa.select(sa.func.count()).select_from(contacts).where(
        c.workspace_id == workspace_id, c.last_seen < before)).scalar_one())


def unlink_and_delete_contacts(conn: Connection, contact_ids: Sequence[int]) -> None:
    """Contacts leave; their visits stay, anonymous (ledger lines keep their account)."""
    for chunk in _chunks(contact_ids):
        for table in (hits, sessions, visitors, score_ledger):
            conn.execute(sa.update(table).where(table.c.contact_id.in_(chunk))
                         .values(contact_id=None))
        conn.execute(sa.delete(contact_scores).where(contact_scores.c.contact_id.in_(chunk)))
        conn.execute(sa.delete(contacts).where(contacts.c.id.in_(chunk)))


def delete_stale_visitors(conn: Connection, site_id: int, *, before: datetime,
                          dry_run: bool = False) -> int:
    v = visitors.c
    where = sa.and_(v.site_id == site_id, v.last_seen < before)
    if dry_run:
        return int(conn.execute(sa.select(sa.func.count()).select_from(visitors)
                                .where(where)).scalar_one())
    return int(conn.execute(sa.delete(visitors).where(where)).rowcount or 0)


# -- data subjects -------------------------------------------------------------------------

def _dicts(conn: Connection, stmt: sa.Select[Any]) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(stmt)]


def contacts_by_email(conn: Connection, email: str, *, workspace_id: int | None = None
                      ) -> list[dict[str, Any]]:
    c = contacts.c
    stmt = sa.select(contacts).where(c.email == email).order_by(c.id)
    if workspace_id is not None:
        stmt = stmt.where(c.workspace_id == workspace_id)
    return _dicts(conn, stmt)


def linked_visitors(conn: Connection, contact_ids: Sequence[int]) -> list[dict[str, Any]]:
    v = visitors.c
    return _dicts(conn, sa.select(visitors).where(v.contact_id.in_(list(contact_ids)))
                  .order_by(v.site_id, v.key))


def linked_sessions(conn: Connection, contact_ids: Sequence[int],
                    visitor_keys: Sequence[tuple[int, str]], session_ids: Sequence[int] = ()
                    ) -> list[dict[str, Any]]:
    """Sessions of the contacts, every session of their visitors, and ``session_ids``."""
    s = sessions.c
    found = {int(r["id"]): r for r in _dicts(
        conn, sa.select(sessions).where(s.contact_id.in_(list(contact_ids))))}
    for chunk in _chunks(session_ids):
        found.update((int(r["id"]), r) for r in _dicts(
            conn, sa.select(sessions).where(s.id.in_(chunk))))
    for site_id, key in sorted(set(visitor_keys)):
        for r in _dicts(conn, sa.select(sessions).where(s.site_id == site_id,
                                                        s.visitor_key == key)):
            found[int(r["id"])] = r
    return [found[i] for i in sorted(found)]


def linked_hits(conn: Connection, contact_ids: Sequence[int], session_ids: Sequence[int]
                ) -> list[dict[str, Any]]:
    h = hits.c
    found = {int(r["id"]): r for r in _dicts(
        conn, sa.select(hits).where(h.contact_id.in_(list(contact_ids))))}
    for chunk in _chunks(session_ids):
        found.update((int(r["id"]), r) for r in _dicts(
            conn, sa.select(hits).where(h.session_id.in_(chunk))))
    return [found[i] for i in sorted(found, key=lambda i: (found[i]["ts"], i))]


def linked_ledger(conn: Connection, contact_ids: Sequence[int], session_ids: Sequence[int]
                  ) -> list[dict[str, Any]]:
    lg = score_ledger.c
    found = {int(r["id"]): r for r in _dicts(
        conn, sa.select(score_ledger).where(lg.contact_id.in_(list(contact_ids))))}
    for chunk in _chunks(session_ids):
        found.update((int(r["id"]), r) for r in _dicts(
            conn, sa.select(score_ledger).where(lg.session_id.in_(chunk))))
    return [found[i] for i in sorted(found)]


def contact_score_rows(conn: Connection, contact_ids: Sequence[int]) -> list[dict[str, Any]]:
    return _dicts(conn, sa.select(contact_scores).where(
        contact_scores.c.contact_id.in_(list(contact_ids))))


def campaign_rows(conn: Connection, contact_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The contacts' consent to tracked links, their clicks of tracked e-mail links and
    the won deals recorded for them (webleads/campaigns/), each with its ``table``."""
    from webleads.db.schema_campaigns import contact_consents, deals, tracked_clicks

    out: list[dict[str, Any]] = []
    for table in (contact_consents, tracked_clicks, deals):
        for chunk in _chunks(contact_ids):
            out += [{"table": table.name, **row} for row in _dicts(
                conn, sa.select(table).where(table.c.contact_id.in_(chunk)))]
    return out


def account_rows(conn: Connection, account_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The organisations linked to the subject, with their stage (if any)."""
    a, st = accounts.c, account_stages.c
    return _dicts(conn, sa.select(a.id, a.workspace_id, a.name, a.domain, a.category,
                                  a.country, st.stage, st.since, account_scores.c.points)
                  .select_from(accounts.outerjoin(account_stages, st.account_id == a.id)
                               .outerjoin(account_scores,
                                          account_scores.c.account_id == a.id))
                  .where(a.id.in_(list(account_ids))).order_by(a.id))


def _names(column: Any, email: str) -> Any:
    return sa.cast(column, sa.Text).contains(email, autoescape=True)


def outbox_naming(conn: Connection, email: str, *, workspace_id: int | None = None
                  ) -> list[dict[str, Any]]:
    o = outbox.c
    stmt = (sa.select(o.id, o.workspace_id, o.channel, o.destination, o.kind, o.payload,
                      o.state, o.created_at, o.delivered_at)
            .where(sa.or_(o.destination == email, _names(o.payload, email))).order_by(o.id))
    if workspace_id is not None:
        stmt = stmt.where(o.workspace_id == workspace_id)
    return _dicts(conn, stmt)


def digest_events_naming(conn: Connection, email: str, *, workspace_id: int | None = None
                         ) -> list[dict[str, Any]]:
    d = digest_events.c
    stmt = (sa.select(d.id, d.workspace_id, d.recipient, d.kind, d.payload, d.at)
            .where(sa.or_(d.recipient == email, _names(d.payload, email))).order_by(d.id))
    if workspace_id is not None:
        stmt = stmt.where(d.workspace_id == workspace_id)
    return _dicts(conn, stmt)


def staff_rows(conn: Connection, email: str, *, workspace_id: int | None = None
               ) -> list[dict[str, Any]]:
    """Owners and alert rules naming the address (staff, not visitors: kept by erase)."""
    o, r = owners.c, alert_rules.c
    found = _dicts(conn, sa.select(sa.literal("owner").label("kind"), o.id, o.workspace_id,
                                   o.name, o.team).where(o.email == email))
    found += _dicts(conn, sa.select(sa.literal("alert_rule").label("kind"), r.id,
                                    r.workspace_id, r.channel, r.kind.label("rule"))
                    .where(r.destination == email))
    if workspace_id is not None:
        found = [f for f in found if f["workspace_id"] == workspace_id]
    return found


@dataclass(frozen=True, slots=True)
class Removed:
    contacts: int
    visitors: int
    sessions: int
    hits: int
    ledger_lines: int
    messages: int


def subtract_from_accounts(conn: Connection, hit_rows: Sequence[Mapping[str, Any]],
                           session_rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Take erased sessions and hits out of their accounts' counters (atomic)."""
    delta: dict[int, list[int]] = {}
    for s in session_rows:
        if s["account_id"] is not None:
            delta.setdefault(int(s["account_id"]), [0, 0, 0])[0] += 1
    for h in hit_rows:
        if h["account_id"] is not None:
            d = delta.setdefault(int(h["account_id"]), [0, 0, 0])
            d[1] += h["type"] == "pageview"
            d[2] += int(h["engaged_ms"] or 0)
    a = accounts.c
    for account_id, (visits, pageviews, engaged) in sorted(delta.items()):
        conn.execute(sa.update(accounts).where(a.id == account_id).values(
            visits=a.visits - visits, pageviews=a.pageviews - pageviews,
            engaged_ms=a.engaged_ms - engaged))
    return sorted(delta)


def erase_rows(conn: Connection, *, contact_ids: Sequence[int],
               visitor_keys: Sequence[tuple[int, str]], session_ids: Sequence[int],
               hit_ids: Sequence[int], ledger_ids: Sequence[int], message_ids: Sequence[int],
               digest_ids: Sequence[int]) -> Removed:
    for chunk in _chunks(ledger_ids):
        conn.execute(sa.delete(score_ledger).where(score_ledger.c.id.in_(chunk)))
    delete_hits(conn, hit_ids)
    delete_sessions(conn, session_ids)
    v = visitors.c
    for site_id, key in sorted(set(visitor_keys)):
        conn.execute(sa.delete(visitors).where(v.site_id == site_id, v.key == key))
    for chunk in _chunks(message_ids):
        conn.execute(sa.delete(delivery_attempts).where(
            delivery_attempts.c.outbox_id.in_(chunk)))
        conn.execute(sa.delete(outbox).where(outbox.c.id.in_(chunk)))
    for chunk in _chunks(digest_ids):
        conn.execute(sa.delete(digest_events).where(digest_events.c.id.in_(chunk)))
    unlink_and_delete_contacts(conn, contact_ids)
    return Removed(len(set(contact_ids)), len(set(visitor_keys)), len(set(session_ids)),
                   len(set(hit_ids)), len(set(ledger_ids)), len(set(message_ids)))


# -- free text naming a subject ------------------------------------------------------------
# Rows that hold the address without being linked to its contact: request bodies kept in
# quarantine, and hits whose URL, referrer, title or properties carry it.  ``needles``
# are the lower-case forms to look for (plain, percent-encoded); these scan the tables.

def _workspace_sites(workspace_id: int) -> Any:
    return sa.select(sites.c.id).where(sites.c.workspace_id == workspace_id)


def quarantine_naming(conn: Connection, needles: Sequence[str], *,
                      workspace_id: int | None = None) -> list[dict[str, Any]]:
    """Quarantined bodies holding one of ``needles`` (case-insensitive); in a workspace,
    only those sent with one of its site keys."""
    q = quarantine.c
    body = dialect.bytes_as_text(conn, q.payload)
    stmt = (sa.select(quarantine).order_by(q.id).where(dialect.contains_folded(
        conn, body, [dialect.bytes_needle(conn, n) for n in needles])))
    if workspace_id is not None:
        stmt = stmt.where(q.site_key.in_(
            sa.select(sites.c.key).where(sites.c.workspace_id == workspace_id)))
    return _dicts(conn, stmt)


def hits_naming(conn: Connection, needles: Sequence[str], *, workspace_id: int | None = None
                ) -> list[dict[str, Any]]:
    """Hits whose url, referrer, title or props hold one of ``needles``."""
    h = hits.c
    texts = (h.url, h.referrer, h.title, dialect.json_as_text(conn, h.props))
    stmt = (sa.select(hits).where(sa.or_(*(dialect.contains_folded(conn, text, needles)
                                           for text in texts))).order_by(h.ts, h.id))
    if workspace_id is not None:
        stmt = stmt.where(h.site_id.in_(_workspace_sites(workspace_id)))
    return _dicts(conn, stmt)


def sessions_naming(conn: Connection, needles: Sequence[str], *,
                    workspace_id: int | None = None) -> list[dict[str, Any]]:
    """Sessions whose entry URL or referrer (copied from their first hit) hold one of
    ``needles``."""
    s = sessions.c
    stmt = (sa.select(sessions).where(sa.or_(*(dialect.contains_folded(conn, text, needles)
                                               for text in (s.entry_url, s.referrer))))
            .order_by(s.id))
    if workspace_id is not None:
        stmt = stmt.where(s.site_id.in_(_workspace_sites(workspace_id)))
    return _dicts(conn, stmt)


def delete_hits_from_sessions(conn: Connection, hit_rows: Sequence[Mapping[str, Any]]) -> int:
    """Delete hits and their score lines; their sessions' counters go down by them
    (atomic: hits purged earlier by retention stay counted).  Returns the score lines."""
    per_session: dict[int, list[int]] = {}
    for h in hit_rows:
        d = per_session.setdefault(int(h["session_id"]), [0, 0, 0])
        d[0] += 1
        d[1] += h["type"] == "pageview"
        d[2] += int(h["engaged_ms"] or 0)
    lines = 0
    for chunk in _chunks(int(h["id"]) for h in hit_rows):
        lines += int(conn.execute(sa.delete(score_ledger).where(
            score_ledger.c.hit_id.in_(chunk))).rowcount or 0)
    delete_hits(conn, [int(h["id"]) for h in hit_rows])
    s = sessions.c
    for session_id, (n, pageviews, engaged) in sorted(per_session.items()):
        conn.execute(sa.update(sessions).where(s.id == session_id).values(
            hits=s.hits - n, pageviews=s.pageviews - pageviews,
            engaged_ms=s.engaged_ms - engaged))
    return lines


@dataclass(frozen=True, slots=True)
class Settled:
    deleted: list[dict[str, Any]]  # the sessions deleted, as they were
    ledger_lines: int  # score lines of the deleted sessions
    kept: int  # sessions kept (counters already down, entry URL and referrer cleaned)


def settle_sessions(conn: Connection, session_ids: Sequence[int], needles: Sequence[str]
                    ) -> Settled:
    """After free-text hits are gone: delete the sessions with no hit left; in the
    others, an entry URL or referrer holding a needle is replaced by the first
    remaining hit's."""
    s, h = sessions.c, hits.c
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(session_ids):
        rows += _dicts(conn, sa.select(sessions).where(s.id.in_(chunk)))
    with_hits: set[int] = set()
    for chunk in _chunks(session_ids):
        with_hits.update(int(i) for i in conn.execute(
            sa.select(h.session_id).where(h.session_id.in_(chunk)).distinct()).scalars())
    deleted = [r for r in rows if int(r["id"]) not in with_hits]
    lines = delete_ledger_of_sessions(conn, [int(r["id"]) for r in deleted])
    delete_sessions(conn, [int(r["id"]) for r in deleted])
    kept = [r for r in rows if int(r["id"]) in with_hits]
    for r in kept:
        if not any(n in f"{r['entry_url']}\n{r['referrer']}".lower() for n in needles):
            continue
        first = conn.execute(sa.select(h.url, h.referrer).where(h.session_id == r["id"])
                             .order_by(h.ts, h.id).limit(1)).one()
        conn.execute(sa.update(sessions).where(s.id == r["id"]).values(
            entry_url=first.url, referrer=first.referrer))
    return Settled(deleted=deleted, ledger_lines=lines, kept=len(kept))


def delete_quarantine(conn: Connection, ids: Sequence[int]) -> int:
    n = 0
    for chunk in _chunks(ids):
        n += int(conn.execute(sa.delete(quarantine).where(quarantine.c.id.in_(chunk)))
                 .rowcount or 0)
    return n


# -- audit log -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    workspace_id: int | None
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


def insert_audit(conn: Connection, *, workspace_id: int | None, actor: str, action: str,
                 target: str, details: Mapping[str, Any], at: datetime) -> int:
    return int(conn.execute(sa.insert(audit_log).values(
        workspace_id=workspace_id, at=at, actor=actor[:200], action=action[:64],
        target=target[:300], details=dict(details)).returning(audit_log.c.id)).scalar_one())


def audit_entries(conn: Connection, *, last: int, workspace_id: int | None = None
                  ) -> list[AuditEntry]:
    a = audit_log.c
    stmt = sa.select(audit_log).order_by(a.at.desc(), a.id.desc()).limit(last)
    if workspace_id is not None:
        stmt = stmt.where(a.workspace_id == workspace_id)
    return [AuditEntry(int(r.id), r.workspace_id, r.at, r.actor, r.action, r.target,
                       dict(r.details or {})) for r in conn.execute(stmt)]


# -- record of processing --------------------------------------------------------------------

def alert_destinations(conn: Connection) -> list[tuple[int, str, str, bool]]:
    """(workspace, channel, destination, enabled) of every alert rule."""
    r = alert_rules.c
    return [(int(w), c, d, bool(e)) for w, c, d, e in conn.execute(
        sa.select(r.workspace_id, r.channel, r.destination, r.enabled).distinct()
        .order_by(r.workspace_id, r.channel, r.destination))]


def outbox_destinations(conn: Connection) -> list[tuple[int, str, str, int]]:
    """(workspace, channel, destination, messages) of the outbox."""
    o = outbox.c
    return [(int(w), c, d, int(n)) for w, c, d, n in conn.execute(
        sa.select(o.workspace_id, o.channel, o.destination, sa.func.count())
        .group_by(o.workspace_id, o.channel, o.destination)
        .order_by(o.workspace_id, o.channel, o.destination))]


def fr_company_count(conn: Connection) -> int:
    from webleads.db.schema_fr import fr_companies

    return int(conn.execute(sa.select(sa.func.count()).select_from(fr_companies)).scalar_one())

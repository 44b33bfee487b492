"""SQL of the dashboard's account page: the account with its score sums, French company,
stage and owner (one query), its sessions newest first (keyset pages), the pages of a
few sessions, its contacts, notes, score ledger of a period, the addresses of its latest
hits, and the writes of the page (owner, notes).

Every read is bounded and walks an index: ``accounts`` by primary key, ``sessions`` by
``account_id``, ``hits`` by ``session_id`` and by ``(account_id, ts)``, ``score_ledger``
by ``(account_id, ts)``, ``account_notes`` by ``(account_id, created_at)``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db import dialect
from webleads.db.schema import accounts, contacts, hits, sessions
from webleads.db.schema_fr import account_fr, fr_companies
from webleads.db.schema_lifecycle import account_owners, account_stages, owners
from webleads.db.schema_privacy import audit_log
from webleads.db.schema_scoring import account_scores, contact_scores
from webleads.db.schema_web import account_notes, users

PAGE_TYPES = ("pageview", "download", "form")  # what a session's page list shows


@dataclass(frozen=True, slots=True)
class AccountRow:
    """An account of a workspace with what its page shows first."""

    id: int
    workspace_id: int
    name: str
    domain: str | None
    asn: int | None
    category: str
    country: str | None
    confidence: float | None
    evidence: tuple[str, ...]
    role: str | None
    in_target: bool
    visits: int
    pageviews: int
    engaged_ms: int
    first_seen: datetime
    last_seen: datetime
    weight: int  # decay-invariant score sum (0: never scored)
    points: int
    siren: str | None
    fr_name: str | None
    naf: str | None
    naf_version: str | None
    headcount_band: str | None
    fr_category: str | None  # PME, ETI, GE
    city: str | None
    postcode: str | None
    fr_confidence: float | None
    stage: str | None
    stage_since: datetime | None
    stage_by: str | None
    stage_manual: bool
    owner_id: int | None
    owner_name: str | None
    owner_email: str | None
    assigned_at: datetime | None
    assigned_by: str | None


def account(conn: Connection, workspace_id: int, account_id: int) -> AccountRow | None:
    """The account ``account_id`` of ``workspace_id`` (None for another workspace's)."""
    a, sc, af, fc = accounts.c, account_scores.c, account_fr.c, fr_companies.c
    st, ao, ow = account_stages.c, account_owners.c, owners.c
    row = conn.execute(
        sa.select(a.id, a.workspace_id, a.name, a.domain, a.asn, a.category, a.country,
                  a.confidence, a.evidence, a.role, a.in_target, a.visits, a.pageviews,
                  a.engaged_ms, a.first_seen, a.last_seen, sc.weight, sc.points,
                  af.siren, fc.name.label("fr_name"), fc.naf, fc.naf_version,
                  fc.headcount_band, fc.category.label("fr_category"), fc.city, fc.postcode,
                  af.confidence.label("fr_confidence"), st.stage, st.since, st.by, st.manual,
                  ao.owner_id, ow.name.label("owner_name"), ow.email.label("owner_email"),
                  ao.assigned_at, ao.by.label("assigned_by"))
        .select_from(accounts.outerjoin(account_scores, sc.account_id == a.id)
                     .outerjoin(account_fr, af.account_id == a.id)
                     .outerjoin(fr_companies, fc.siren == af.siren)
                     .outerjoin(account_stages, st.account_id == a.id)
                     .outerjoin(account_owners, ao.account_id == a.id)
                     .outerjoin(owners, ow.id == ao.owner_id))
        .where(a.id == account_id, a.workspace_id == workspace_id)).first()
    if row is None:
        return None
    evidence = row.evidence if isinstance(row.evidence, list) else []
    return AccountRow(
        int(row.id), int(row.workspace_id), row.name, row.domain,
        int(row.asn) if row.asn is not None else None, row.category, row.country,
        float(row.confidence) if row.confidence is not None else None,
        tuple(str(e) for e in evidence), row.role, bool(row.in_target), int(row.visits),
        int(row.pageviews), int(row.engaged_ms), row.first_seen, row.last_seen,
        int(row.weight or 0), int(row.points or 0), row.siren, row.fr_name, row.naf,
        row.naf_version, row.headcount_band, row.fr_category, row.city, row.postcode,
        float(row.fr_confidence) if row.fr_confidence is not None else None,
        row.stage, row.since, row.by, bool(row.manual),
        int(row.owner_id) if row.owner_id is not None else None, row.owner_name,
        row.owner_email, row.assigned_at, row.assigned_by)


def exists(conn: Connection, workspace_id: int, account_id: int) -> bool:
    a = accounts.c
    return conn.execute(sa.select(a.id).where(a.id == account_id,
                                              a.workspace_id == workspace_id)).first() is not None


# -- the score ledger -------------------------------------------------------------------------

def ledger_buckets(conn: Connection, account_id: int, bounds: Sequence[datetime]
                   ) -> tuple[list[int], int]:
    """The sums of the account's ledger weights between consecutive ``bounds`` (sorted
    instants: ``len(bounds) - 1`` sums), and the sum of every line from ``bounds[0]`` on
    (later ones too).  One query at the driver level; times compare in their stored
    form (text of one fixed format on SQLite, timestamps on PostgreSQL), so thousands of
    lines cost no datetime parsing."""
    stamp = dialect.timestamp_converter(conn)
    edges = [stamp(b) for b in bounds]
    sums = [0] * (len(bounds) - 1)
    total = 0
    for ts, weight in dialect.fetch_all(
            conn, "SELECT ts, weight FROM score_ledger WHERE account_id = ? AND ts >= ?",
            [account_id, edges[0]]):
        total += weight
        i = bisect_right(edges, ts) - 1
        if i < len(sums):
            sums[i] += weight
    return sums, total


# -- sessions and their pages ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    started_at: datetime
    last_seen: datetime
    hits: int
    pageviews: int
    engaged_ms: int
    entry_url: str
    referrer: str
    source_class: str | None
    source_name: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    country: str | None
    device_type: str | None
    browser: str | None
    os: str | None
    contact_id: int | None
    contact_email: str | None


Cursor = tuple[datetime, int]  # (started_at, id) of the last session shown


def sessions_page(conn: Connection, account_id: int, *, before: Cursor | None,
                  limit: int) -> list[SessionRow]:
    """Up to ``limit`` sessions of the account, newest first, older than ``before``."""
    s, c = sessions.c, contacts.c
    stmt = (sa.select(s.id, s.started_at, s.last_seen, s.hits, s.pageviews, s.engaged_ms,
                      s.entry_url, s.referrer, s.source_class, s.source_name, s.utm_source,
                      s.utm_medium, s.utm_campaign, s.country, s.device_type, s.browser,
                      s.os, s.contact_id, c.email)
            .select_from(sessions.outerjoin(contacts, c.id == s.contact_id))
            .where(s.account_id == account_id)
            .order_by(s.started_at.desc(), s.id.desc()).limit(limit))
    if before is not None:
        started, sid = before
        stmt = stmt.where(sa.or_(s.started_at < started,
                                 sa.and_(s.started_at == started, s.id < sid)))
    return [SessionRow(int(r.id), r.started_at, r.last_seen, int(r.hits), int(r.pageviews),
                       int(r.engaged_ms), r.entry_url, r.referrer, r.source_class,
                       r.source_name, r.utm_source, r.utm_medium, r.utm_campaign, r.country,
                       r.device_type, r.browser, r.os,
                       int(r.contact_id) if r.contact_id is not None else None, r.email)
            for r in conn.execute(stmt)]


def session_cursor(conn: Connection, account_id: int, session_id: int) -> Cursor | None:
    """Where the sessions after ``session_id`` start (None: not a session of the account)."""
    s = sessions.c
    row = conn.execute(sa.select(s.started_at, s.id).where(
        s.id == session_id, s.account_id == account_id)).first()
    return None if row is None else (row.started_at, int(row.id))


@dataclass(frozen=True, slots=True)
class PageRow:
    session_id: int
    ts: datetime
    type: str
    url: str
    title: str
    name: str | None


def session_pages(conn: Connection, session_ids: Sequence[int], *, per_session: int
                  ) -> tuple[dict[int, list[PageRow]], dict[int, int]]:
    """The first ``per_session`` pages (page views, downloads, forms) of each session, and
    how many such hits each session has in all; one query."""
    out: dict[int, list[PageRow]] = {i: [] for i in session_ids}
    totals: dict[int, int] = dict.fromkeys(session_ids, 0)
    if not session_ids:
        return out, totals
    h = hits.c
    inner = (sa.select(h.session_id, h.ts, h.type, h.url, h.title, h.name,
                       sa.func.row_number().over(partition_by=h.session_id,
                                                 order_by=(h.ts, h.id)).label("n"),
                       sa.func.count().over(partition_by=h.session_id).label("total"))
             .where(h.session_id.in_(sorted(set(session_ids))), h.type.in_(PAGE_TYPES))
             .subquery())
    stmt = (sa.select(inner).where(inner.c.n <= per_session)
            .order_by(inner.c.session_id, inner.c.n))
    for r in conn.execute(stmt):
        sid = int(r.session_id)
        out[sid].append(PageRow(sid, r.ts, r.type, r.url, r.title, r.name))
        totals[sid] = int(r.total)
    return out, totals


def recent_addresses(conn: Connection, account_id: int, *, limit: int = 500
                     ) -> list[tuple[str | None, str | None, int | None]]:
    """(ip, ip_anon, asn) of the account's latest hits (index ``(account_id, ts)``)."""
    h = hits.c
    return [(r.ip, r.ip_anon, int(r.asn) if r.asn is not None else None) for r in conn.execute(
        sa.select(h.ip, h.ip_anon, h.asn).where(h.account_id == account_id)
        .order_by(h.ts.desc()).limit(limit))]


def recent_session_ids(conn: Connection, account_id: int, *, limit: int = 200) -> list[int]:
    s = sessions.c
    return [int(i) for i in conn.execute(
        sa.select(s.id).where(s.account_id == account_id).order_by(s.started_at.desc())
        .limit(limit)).scalars()]


def holder(conn: Connection, workspace_id: int, session_ids: Sequence[int]) -> int | None:
    """The account that holds most of these sessions now (None: none of them has one)."""
    if not session_ids:
        return None
    s, a = sessions.c, accounts.c
    row = conn.execute(
        sa.select(s.account_id, sa.func.count().label("n"))
        .join(accounts, a.id == s.account_id)
        .where(s.id.in_(sorted(set(session_ids))), a.workspace_id == workspace_id,
               a.visits > 0)
        .group_by(s.account_id).order_by(sa.desc("n"), s.account_id).limit(1)).first()
    return None if row is None else int(row.account_id)


# -- contacts -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ContactRow:
    id: int
    email: str
    traits: dict[str, Any]
    first_seen: datetime
    last_seen: datetime
    weight: int


def account_contacts(conn: Connection, workspace_id: int, account_id: int, *,
                     limit: int = 50) -> list[ContactRow]:
    c, cs = contacts.c, contact_scores.c
    return [ContactRow(int(r.id), r.email, r.traits if isinstance(r.traits, dict) else {},
                       r.first_seen, r.last_seen, int(r.weight or 0))
            for r in conn.execute(
                sa.select(c.id, c.email, c.traits, c.first_seen, c.last_seen, cs.weight)
                .select_from(contacts.outerjoin(contact_scores, cs.contact_id == c.id))
                .where(c.workspace_id == workspace_id, c.account_id == account_id)
                .order_by(c.last_seen.desc(), c.id.desc()).limit(limit))]


# -- owner ---------------------------------------------------------------------------------

def set_owner(conn: Connection, *, workspace_id: int, account_id: int,
              owner_id: int | None, by: str, now: datetime) -> None:
    """Give the account to ``owner_id`` (None: to nobody), whoever had it."""
    ao = account_owners.c
    if owner_id is None:
        conn.execute(sa.delete(account_owners).where(ao.account_id == account_id))
        return
    stmt = dialect.insert(conn, account_owners).values(
        account_id=account_id, workspace_id=workspace_id, owner_id=owner_id,
        assigned_at=now, by=by)
    conn.execute(stmt.on_conflict_do_update(index_elements=["account_id"], set_={
        "owner_id": stmt.excluded.owner_id, "assigned_at": stmt.excluded.assigned_at,
        "by": stmt.excluded.by}))


def take_unowned(conn: Connection, *, workspace_id: int, account_id: int, owner_id: int,
                 by: str, now: datetime) -> bool:
    """Give the account to ``owner_id`` only if nobody has it (atomic); whether it did."""
    stmt = dialect.insert(conn, account_owners).values(
        account_id=account_id, workspace_id=workspace_id, owner_id=owner_id,
        assigned_at=now, by=by).on_conflict_do_nothing(index_elements=["account_id"])
    return bool(conn.execute(stmt).rowcount)


# -- notes ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NoteRow:
    id: int
    user_id: int | None
    author: str | None
    body: str
    created_at: datetime


def notes(conn: Connection, workspace_id: int, account_id: int, *, limit: int = 100
          ) -> list[NoteRow]:
    n, u = account_notes.c, users.c
    return [NoteRow(int(r.id), int(r.user_id) if r.user_id is not None else None, r.name,
                    r.body, r.created_at) for r in conn.execute(
        sa.select(n.id, n.user_id, u.name, n.body, n.created_at)
        .select_from(account_notes.outerjoin(users, u.id == n.user_id))
        .where(n.account_id == account_id, n.workspace_id == workspace_id)
        .order_by(n.created_at.desc(), n.id.desc()).limit(limit))]


def add_note(conn: Connection, *, workspace_id: int, account_id: int, user_id: int,
             body: str, now: datetime) -> int:
    return int(conn.execute(sa.insert(account_notes).values(
        workspace_id=workspace_id, account_id=account_id, user_id=user_id, body=body,
        created_at=now).returning(account_notes.c.id)).scalar_one())


def note(conn: Connection, workspace_id: int, account_id: int, note_id: int
         ) -> NoteRow | None:
    n = account_notes.c
    row = conn.execute(sa.select(n.id, n.user_id, n.body, n.created_at).where(
        n.id == note_id, n.account_id == account_id, n.workspace_id == workspace_id)).first()
    if row is None:
        return None
    return NoteRow(int(row.id), int(row.user_id) if row.user_id is not None else None, None,
                   row.body, row.created_at)


def delete_note(conn: Connection, note_id: int) -> None:
    conn.execute(sa.delete(account_notes).where(account_notes.c.id == note_id))


# -- history from the audit log -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    details: dict[str, Any]


def audit_of(conn: Connection, workspace_id: int, target: str, *, limit: int = 50
             ) -> list[AuditLine]:
    """The latest audit entries about ``target`` (e.g. ``account:12``), newest first."""
    al = audit_log.c
    return [AuditLine(r.at, r.actor, r.action, r.details if isinstance(r.details, dict) else {})
            for r in conn.execute(
                sa.select(al.at, al.actor, al.action, al.details)
                .where(al.workspace_id == workspace_id, al.target == target)
                .order_by(al.at.desc(), al.id.desc()).limit(limit))]

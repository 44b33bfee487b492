"""Write one batch of enriched hits: visitors, sessions, accounts, contacts, hits.

Runs inside the caller's transaction (one per batch, see ``writer.py``).  Counters
are updated with atomic SQL (``n = n + :k``), never read-modify-write.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db import dialect
from webleads.db.schema import accounts, contacts, drops, hits, quarantine, sessions, visitors
from webleads.identify import Plan, SessionPlan, VisitorState, plan_batch
from webleads.model import Hit

_json = msgspec.json.Encoder()

HIT_COLUMNS = (
    "site_id", "session_id", "account_id", "contact_id", "visitor_key", "ts", "received_at",
    "type", "url", "referrer", "title", "name", "props", "engaged_ms", "ip", "ip_anon",
    "asn", "as_org", "org_name", "network_category", "network_confidence", "country",
    "browser", "browser_version", "os", "device_type", "source_class", "source_name",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "click_id_kind", "click_id", "page_group",
)


def store_hits(conn: Connection, batch: list[Hit]) -> Plan:
    """Sessionise and store ``batch`` in the open transaction of ``conn``."""
    known = _load_visitors(conn, batch)
    plan = plan_batch(batch, known)
    contact_ids = _upsert_contacts(conn, plan)
    contact_ids.update(_earlier_contacts(conn, plan, contact_ids))
    account_ids = _upsert_accounts(conn, plan)
    _write_sessions(conn, plan, account_ids, contact_ids)
    _write_visitors(conn, plan, contact_ids)
    _link_contacts(conn, plan, contact_ids)
    _insert_hits(conn, plan, account_ids, contact_ids)
    return plan


def _load_visitors(conn: Connection, batch: list[Hit]) -> dict[tuple[int, str], VisitorState]:
    first: dict[tuple[int, str], datetime] = {}
    for h in batch:
        key = (h.client.site.id, h.client.visitor_key or "")
        if key not in first or h.ts < first[key]:
            first[key] = h.ts
    found: dict[tuple[int, str], VisitorState] = {}
    by_site: dict[int, list[str]] = {}
    for site_id, vkey in first:
        by_site.setdefault(site_id, []).append(vkey)
    if dialect.is_postgres(conn):
        # Create missing rows first so that FOR UPDATE serialises concurrent writers;
        # such a row has no session yet and reads back as a new visitor.
        stmt = dialect.insert(conn, visitors).on_conflict_do_nothing()
        conn.execute(stmt, [{"site_id": s, "key": k, "first_seen": t, "last_seen": t}
                            for (s, k), t in sorted(first.items())])
    c = visitors.c
    for site_id, site_keys in by_site.items():
        for start in range(0, len(site_keys), 500):
            chunk = sorted(site_keys[start:start + 500])
            stmt = sa.select(c.key, c.session_id, c.last_seen, c.session_campaign,
                             contacts.c.email).select_from(
                visitors.outerjoin(contacts, contacts.c.id == c.contact_id)
            ).where(c.site_id == site_id, c.key.in_(chunk)).order_by(c.key)
            if dialect.is_postgres(conn):
                stmt = stmt.with_for_update(of=visitors)
            for row in conn.execute(stmt):
                found[(site_id, row.key)] = VisitorState(
                    row.session_id, row.last_seen, row.session_campaign, row.email)
    return found


def _upsert_contacts(conn: Connection, plan: Plan) -> dict[tuple[int, str], int]:
    ids: dict[tuple[int, str], int] = {}
    for (workspace_id, email), contact in sorted(plan.contacts.items()):
        stmt = dialect.insert(conn, contacts).values(
            workspace_id=workspace_id, email=email, domain=email.rpartition("@")[2],
            traits=contact.traits or None, first_seen=contact.first_seen,
            last_seen=contact.last_seen,
        )
        excluded = stmt.excluded
        update: dict[str, Any] = {"last_seen": sa.func.max(contacts.c.last_seen, excluded.last_seen)
                                  if not dialect.is_postgres(conn)
                                  else sa.func.greatest(contacts.c.last_seen, excluded.last_seen)}
        if contact.traits:
            update["traits"] = excluded.traits
        stmt = stmt.on_conflict_do_update(index_elements=["workspace_id", "email"], set_=update)
        ids[(workspace_id, email)] = conn.execute(stmt.returning(contacts.c.id)).scalar_one()
    return ids


def _earlier_contacts(conn: Connection, plan: Plan, known: dict[tuple[int, str], int]
                      ) -> dict[tuple[int, str], int]:
    """Ids of the contacts of visitors identified in earlier batches."""
    by_workspace: dict[int, set[str]] = {}
    for v in plan.visitors.values():
        if v.contact_email is not None and (v.workspace_id, v.contact_email) not in known:
            by_workspace.setdefault(v.workspace_id, set()).add(v.contact_email)
    ids: dict[tuple[int, str], int] = {}
    c = contacts.c
    for workspace_id, emails in sorted(by_workspace.items()):
        stmt = sa.select(c.email, c.id).where(c.workspace_id == workspace_id,
                                              c.email.in_(sorted(emails)))
        ids.update(((workspace_id, email), id_) for email, id_ in conn.execute(stmt))
    return ids


def _upsert_accounts(conn: Connection, plan: Plan) -> dict[tuple[int, str], int]:
    ids: dict[tuple[int, str], int] = {}
    greatest, least = _minmax(conn)
    for (workspace_id, key), acc in sorted(plan.accounts.items()):
        net = acc.network
        stmt = dialect.insert(conn, accounts).values(
            workspace_id=workspace_id, org_key=key, name=net.org_name or key,
            domain=net.org_domain, asn=net.asn, category=net.category, country=net.country,
            visits=acc.visits, pageviews=acc.pageviews, engaged_ms=acc.engaged_ms,
            first_seen=acc.first_seen, last_seen=acc.last_seen,
        )
        ex = stmt.excluded
        c = accounts.c
        stmt = stmt.on_conflict_do_update(
            index_elements=["workspace_id", "org_key"],
            set_={
                "visits": c.visits + ex.visits,
                "pageviews": c.pageviews + ex.pageviews,
                "engaged_ms": c.engaged_ms + ex.engaged_ms,
                "first_seen": least(c.first_seen, ex.first_seen),
                "last_seen": greatest(c.last_seen, ex.last_seen),
            },
        )
        ids[(workspace_id, key)] = conn.execute(stmt.returning(c.id)).scalar_one()
    return ids


def _minmax(conn: Connection) -> tuple[Any, Any]:
    if dialect.is_postgres(conn):
        return sa.func.greatest, sa.func.least
    return sa.func.max, sa.func.min  # SQLite's scalar max()/min() with two arguments


def _write_sessions(conn: Connection, plan: Plan, account_ids: dict[tuple[int, str], int],
                    contact_ids: dict[tuple[int, str], int]) -> None:
    new = [s for s in plan.sessions if s.id is None]
    if new:
        rows = [_session_row(s, account_ids, contact_ids) for s in new]
        stmt = sa.insert(sessions).returning(sessions.c.id, sort_by_parameter_order=True)
        for session, new_id in zip(new, conn.execute(stmt, rows).scalars(), strict=True):
            session.id = new_id
    old = [s for s in plan.sessions if s.first_hit is None and s.hits]
    if old:
        greatest, _ = _minmax(conn)
        c = sessions.c
        update = sa.update(sessions).where(c.id == sa.bindparam("b_id")).values(
            hits=c.hits + sa.bindparam("b_hits"),
            pageviews=c.pageviews + sa.bindparam("b_pageviews"),
            engaged_ms=c.engaged_ms + sa.bindparam("b_engaged"),
            last_seen=greatest(c.last_seen, sa.bindparam("b_last", type_=c.last_seen.type)),
        )
        conn.execute(update, [{"b_id": s.id, "b_hits": s.hits, "b_pageviews": s.pageviews,
                             "b_engaged": s.engaged_ms, "b_last": s.last_seen} for s in old])


def _session_row(s: SessionPlan, account_ids: dict[tuple[int, str], int],
                 contact_ids: dict[tuple[int, str], int]) -> dict[str, Any]:
    hit = s.first_hit
    assert hit is not None
    client = hit.client
    ws = client.site.workspace_id
    net = client.network
    return {
        "site_id": s.site_id, "visitor_key": s.visitor_key,
        "account_id": account_ids.get((ws, s.account_key)) if s.account_key else None,
        "contact_id": contact_ids.get((ws, s.contact_email)) if s.contact_email else None,
        "started_at": s.started_at, "last_seen": s.last_seen, "hits": s.hits,
        "pageviews": s.pageviews, "engaged_ms": s.engaged_ms, "entry_url": hit.url,
        "referrer": hit.referrer, "source_class": hit.source_class,
        "source_name": hit.source_name, "utm_source": hit.utm_source,
        "utm_medium": hit.utm_medium, "utm_campaign": hit.utm_campaign,
        "click_id_kind": hit.click_id_kind, "country": client.country,
        "device_type": client.device_type, "browser": client.browser, "os": client.os,
        "network_category": net.category if net else None,
    }


def _write_visitors(conn: Connection, plan: Plan, contact_ids: dict[tuple[int, str], int]) -> None:
    rows = []
    for v in plan.visitors.values():
        ws = v.workspace_id
        rows.append({
            "site_id": v.site_id, "key": v.key, "first_seen": v.first_seen,
            "last_seen": v.last_seen, "session_id": v.session.id,
            "session_campaign": v.campaign,
            "contact_id": contact_ids.get((ws, v.contact_email)) if v.contact_email else None,
        })
    if not rows:
        return
    stmt = dialect.insert(conn, visitors)
    ex = stmt.excluded
    _, least = _minmax(conn)
    c = visitors.c
    stmt = stmt.on_conflict_do_update(
        index_elements=["site_id", "key"],
        set_={
            "first_seen": least(c.first_seen, ex.first_seen),
            "last_seen": ex.last_seen,
            "session_id": ex.session_id,
            "session_campaign": ex.session_campaign,
            "contact_id": sa.func.coalesce(ex.contact_id, c.contact_id),
        },
    )
    conn.execute(stmt, rows)


def _link_contacts(conn: Connection, plan: Plan, contact_ids: dict[tuple[int, str], int]) -> None:
    """Link every earlier session of an identified visitor to its contact."""
    links = []
    for v in plan.visitors.values():
        if v.contact_email is None:
            continue
        ws = v.workspace_id
        links.append({"b_contact": contact_ids[(ws, v.contact_email)], "b_site": v.site_id,
                      "b_key": v.key})
    if links:
        c = sessions.c
        conn.execute(
            sa.update(sessions)
            .where(c.site_id == sa.bindparam("b_site"), c.visitor_key == sa.bindparam("b_key"),
                   c.contact_id.is_(None))
            .values(contact_id=sa.bindparam("b_contact")),
            links,
        )


def _insert_hits(conn: Connection, plan: Plan, account_ids: dict[tuple[int, str], int],
                 contact_ids: dict[tuple[int, str], int]) -> None:
    stamp = dialect.timestamp_converter(conn)
    rows = []
    for hit, session in plan.hits:
        client = hit.client
        ws = client.site.workspace_id
        net = client.network
        contact = session.contact_email
        rows.append((
            client.site.id, session.id,
            account_ids.get((ws, session.account_key)) if session.account_key else None,
            contact_ids.get((ws, contact)) if contact else None,
            client.visitor_key, stamp(hit.ts), stamp(hit.received_at), hit.type, hit.url,
            hit.referrer, hit.title, hit.name,
            _json.encode(hit.props).decode() if hit.props else None,
            hit.engaged_ms, client.ip, client.ip_anon,
            net.asn if net else None, net.as_org if net else None,
            net.org_name if net else None, net.category if net else None,
            net.confidence if net else None, client.country, client.browser,
            client.browser_version, client.os, client.device_type, hit.source_class,
            hit.source_name, hit.utm_source, hit.utm_medium, hit.utm_campaign, hit.utm_term,
            hit.utm_content, hit.click_id_kind, hit.click_id, hit.page_group,
        ))
    dialect.bulk_insert(conn, hits, HIT_COLUMNS, rows)


def add_drops(conn: Connection, counts: dict[tuple[int, date, str], int]) -> None:
    """Add drop counts per (site, day, reason) with an atomic upsert."""
    if not counts:
        return
    stmt = dialect.insert(conn, drops)
    stmt = stmt.on_conflict_do_update(
        index_elements=["site_id", "day", "reason"],
        set_={"count": drops.c.count + stmt.excluded["count"]},
    )
    conn.execute(stmt, [{"site_id": s, "day": d, "reason": r, "count": n}
                        for (s, d, r), n in sorted(counts.items())])


def add_quarantine(conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    if rows:
        conn.execute(sa.insert(quarantine), rows)

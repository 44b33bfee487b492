"""Write one batch of enriched hits: visitors, sessions, accounts, contacts, hits.

Runs inside the caller's transaction (one per batch, see ``writer.py``).  Counters
are updated with atomic SQL (``n = n + :k``), never read-modify-write.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db import dialect
from webleads.db.schema import accounts, contacts, drops, hits, quarantine, sessions
from webleads.identify import AccountPlan, Plan, VisitorState, plan_batch
from webleads.lifecycle.hook import after_scoring
from webleads.model import Hit
from webleads.scoring.incremental import score_plan

_json = msgspec.json.Encoder()

HIT_COLUMNS = (
    "site_id", "session_id", "account_id", "contact_id", "visitor_key", "ts", "received_at",
    "type", "url", "referrer", "title", "name", "props", "engaged_ms", "ip", "ip_anon",
    "asn", "as_org", "org_name", "network_category", "network_confidence", "country",
    "browser", "browser_version", "os", "device_type", "source_class", "source_name",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "click_id_kind", "click_id", "page_group",
)


def store_hits(conn: Connection, batch: list[Hit], *, score: bool = True,
               allow_private: bool = False) -> Plan:
    """Sessionise and store ``batch`` in the open transaction of ``conn``, then score it
    and move its accounts through their lifecycle (stages, owners, alerts into the
    outbox), all in that transaction.  ``score=False``: the scoring benchmark's baseline.
    ``allow_private``: alert webhooks may target private addresses (the setting)."""
    known = _load_visitors(conn, batch)
    plan = plan_batch(batch, known)
    contact_ids = _upsert_contacts(conn, plan)
    contact_ids.update(_earlier_contacts(conn, plan, contact_ids))
    account_ids = _upsert_accounts(conn, plan)
    _write_sessions(conn, plan, account_ids, contact_ids)
    _write_visitors(conn, plan, contact_ids)
    _link_contacts(conn, plan, contact_ids)
    _link_contact_accounts(conn, plan, contact_ids, account_ids)
    _insert_hits(conn, plan, account_ids, contact_ids)
    if score:
        items = score_plan(conn, plan, account_ids, contact_ids)
        if items:
            # "now" is when the batch arrived: the newest receive time of its hits.
            now = max(hit.received_at for hit in batch)
            after_scoring(conn, hits=items, now=now, allow_private=allow_private)
    return plan


def _load_visitors(conn: Connection, batch: list[Hit]) -> dict[tuple[int, str], VisitorState]:
    first: dict[tuple[int, str], datetime] = {}
    for h in batch:
        key = (h.client.site.id, h.client.visitor_key or "")
        if key not in first or h.ts < first[key]:
            first[key] = h.ts
    by_site: dict[int, list[str]] = {}
    for site_id, vkey in sorted(first):
        by_site.setdefault(site_id, []).append(vkey)
    sql = dialect.functions(conn)
    read = dialect.timestamp_reader(conn)
    found: dict[tuple[int, str], VisitorState] = {}
    if dialect.is_postgres(conn):
        # Create missing rows first so that FOR UPDATE serialises concurrent writers;
        # such a row has no session yet and reads back as a new visitor.  One statement
        # over arrays (in key order), not one per row.
        items = sorted(first.items())
        times = [t for _, t in items]
        dialect.execute(conn, PG_PREINSERT_VISITORS,
                        [[s for (s, _), _ in items], [k for (_, k), _ in items], times, times])
        for site_id, keys in by_site.items():
            rows = dialect.fetch_all(conn, PG_SELECT_VISITORS, [keys, site_id])
            for key, session_id, last_seen, campaign, email in rows:
                found[(site_id, key)] = VisitorState(session_id, read(last_seen), campaign,
                                                     email)
        return found
    for site_id, keys in by_site.items():
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = dialect.fetch_all(
                conn,
                "SELECT v.key, v.session_id, v.last_seen, v.session_campaign, c.email "
                "FROM visitors v LEFT JOIN contacts c ON c.id = v.contact_id "
                f"WHERE v.site_id = ? AND v.key IN ({', '.join('?' * len(chunk))}) "
                f"ORDER BY v.key {sql['lock']}",
                [site_id, *chunk],
            )
            for key, session_id, last_seen, campaign, email in rows:
                found[(site_id, key)] = VisitorState(session_id, read(last_seen), campaign,
                                                     email)
    return found


# PostgreSQL: the per-batch statements of the hot path take one array per column
# (``unnest``), so a batch costs one statement each instead of one per row, and the SQL
# text is constant (prepared by psycopg after a few uses).  The arrays go in binary
# (``%b``): psycopg dumps array elements in Python, and its text format escapes each
# one (about twice the client CPU).  SQLite keeps executemany.
PG_PREINSERT_VISITORS = (
    "INSERT INTO visitors (site_id, key, first_seen, last_seen) "
    "SELECT * FROM unnest(%b::bigint[], %b::text[], %b::timestamptz[], %b::timestamptz[]) "
    "ON CONFLICT DO NOTHING"
)
# One primary-key lookup per visitor (LATERAL), rather than ``key = ANY(...)``: with
# the statistics of a young table the planner scanned every visitor of the site for
# the latter (9 ms a batch of 60).  Keys come sorted: rows are locked in that order.
PG_SELECT_VISITORS = (
    "SELECT v.key, v.session_id, v.last_seen, v.session_campaign, c.email "
    "FROM unnest(%b::text[]) AS k(key) CROSS JOIN LATERAL ("
    "SELECT * FROM visitors WHERE site_id = %s AND key = k.key FOR UPDATE) AS v "
    "LEFT JOIN contacts c ON c.id = v.contact_id"
)


def _upsert_contacts(conn: Connection, plan: Plan) -> dict[tuple[int, str], int]:
    ids: dict[tuple[int, str], int] = {}
    for (workspace_id, email), contact in sorted(plan.contacts.items()):
        stmt = dialect.insert(conn, contacts).values(
            workspace_id=workspace_id, email=email, domain=email.rpartition("@")[2],
            traits=contact.traits or None, first_seen=contact.first_seen,
            last_seen=contact.last_seen,
        )
        excluded = stmt.excluded
        f = dialect.functions(conn)
        update: dict[str, Any] = {
            "last_seen": getattr(sa.func, f["greatest"])(contacts.c.last_seen,
                                                         excluded.last_seen)}
        if contact.traits:
            # New traits are merged into the known ones (a later value wins).
            update["traits"] = dialect.json_merge(conn, contacts.c.traits, excluded.traits)
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


ACCOUNT_COLUMNS = (
    "workspace_id", "org_key", "name", "domain", "asn", "category", "country", "confidence",
    "evidence", "role", "visits", "pageviews", "engaged_ms", "first_seen", "last_seen",
)
# What a newer identification replaces; counters add up.
ACCOUNT_UPDATES = (
    # An account first named by its e-mail domain takes the name its network gives.
    "name = CASE WHEN accounts.name = accounts.domain THEN excluded.name "
    "ELSE accounts.name END, "
    # The surer identification's evidence stays (an override's 1.0 over a curated 0.95,
    # over a work e-mail's 0.9, over a heuristic's 0.5).
    "evidence = CASE WHEN excluded.confidence > coalesce(accounts.confidence, 0) "
    "THEN excluded.evidence ELSE accounts.evidence END, "
    "confidence = CASE WHEN excluded.confidence > coalesce(accounts.confidence, 0) "
    "THEN excluded.confidence ELSE accounts.confidence END, "
    "role = coalesce(excluded.role, accounts.role), "
    "domain = coalesce(accounts.domain, excluded.domain), "
)


def _join_by_domain(conn: Connection, plan: Plan) -> dict[tuple[int, str], str]:
    """Accounts that share a domain are one organisation: a planned account joins the
    workspace's existing account with its domain, or, when the domain is new, the
    planned account identified from its network rather than from an e-mail.

    Returns {(workspace, planned key): key joined} and rekeys ``plan.accounts``."""
    by_domain: dict[tuple[int, str], list[str]] = {}
    for (workspace_id, key), acc in sorted(plan.accounts.items()):
        if acc.network.org_domain:
            by_domain.setdefault((workspace_id, acc.network.org_domain.lower()), []).append(key)
    if not by_domain:
        return {}
    existing: dict[tuple[int, str], str] = {}
    a = accounts.c
    for workspace_id in sorted({ws for ws, _ in by_domain}):
        domains = sorted(d for ws, d in by_domain if ws == workspace_id)
        stmt = (sa.select(a.domain, sa.func.min(a.org_key))
                .where(a.workspace_id == workspace_id, a.domain.in_(domains))
                .group_by(a.domain))
        existing.update(((workspace_id, str(d).lower()), str(k)) for d, k in conn.execute(stmt))
    aliases: dict[tuple[int, str], str] = {}
    for (ws, domain), keys in by_domain.items():
        target = existing.get((ws, domain)) or min(
            keys, key=lambda k: (_from_email(plan.accounts[(ws, k)]), k))
        for key in keys:
            if key != target:
                aliases[(ws, key)] = target
                _merge_account(plan, ws, key, target)
    return aliases


def _from_email(acc: AccountPlan) -> bool:
    return acc.network.evidence[:1] == (f"e-mail domain: {acc.network.org_domain}",)


def _merge_account(plan: Plan, ws: int, key: str, target: str) -> None:
    acc = plan.accounts.pop((ws, key))
    into = plan.accounts.get((ws, target))
    if into is None:
        acc.key = target
        plan.accounts[(ws, target)] = acc
        return
    if _from_email(into) and not _from_email(acc):
        into.network = acc.network  # the network's identification says more
    into.visits += acc.visits
    into.pageviews += acc.pageviews
    into.engaged_ms += acc.engaged_ms
    into.first_seen = min(x for x in (into.first_seen, acc.first_seen) if x)
    into.last_seen = max(x for x in (into.last_seen, acc.last_seen) if x)


def _account_values(acc: AccountPlan, workspace_id: int, key: str) -> tuple[Any, ...]:
    net = acc.network
    return (workspace_id, key, (net.org_name or key)[:300], net.org_domain, net.asn,
            net.category, net.country, net.confidence, json.dumps(list(net.evidence)),
            net.role, acc.visits, acc.pageviews, acc.engaged_ms)


def _upsert_accounts(conn: Connection, plan: Plan) -> dict[tuple[int, str], int]:
    """One multi-row upsert per 500 accounts, returning their ids."""
    if not plan.accounts:
        return {}
    f = dialect.functions(conn)
    stamp = dialect.timestamp_converter(conn)
    aliases = _join_by_domain(conn, plan)
    items = sorted(plan.accounts.items())
    ids: dict[tuple[int, str], int] = {}
    if dialect.is_postgres(conn):
        values = []
        for (workspace_id, key), acc in items:
            values.append(_account_values(acc, workspace_id, key)
                          + (acc.first_seen, acc.last_seen))
        columns = [list(c) for c in zip(*values, strict=True)]
        rows = dialect.fetch_all(conn, PG_UPSERT_ACCOUNTS, columns)
        ids.update(((int(w), k), int(i)) for w, k, i in rows)
    else:
        row = "(" + ", ".join("?" * len(ACCOUNT_COLUMNS)) + ")"
        for start in range(0, len(items), 500):
            chunk = items[start:start + 500]
            params: list[Any] = []
            for (workspace_id, key), acc in chunk:
                assert acc.first_seen is not None and acc.last_seen is not None
                params += _account_values(acc, workspace_id, key) + (
                    stamp(acc.first_seen), stamp(acc.last_seen))
            rows = dialect.fetch_all(
                conn,
                f"INSERT INTO accounts ({', '.join(ACCOUNT_COLUMNS)}) "
                f"VALUES {', '.join([row] * len(chunk))} "
                "ON CONFLICT (workspace_id, org_key) DO UPDATE SET "
                f"{ACCOUNT_UPDATES}"
                "visits = accounts.visits + excluded.visits, "
                "pageviews = accounts.pageviews + excluded.pageviews, "
                "engaged_ms = accounts.engaged_ms + excluded.engaged_ms, "
                f"first_seen = {f['least']}(accounts.first_seen, excluded.first_seen), "
                f"last_seen = {f['greatest']}(accounts.last_seen, excluded.last_seen) "
                "RETURNING workspace_id, org_key, id",
                params,
            )
            ids.update(((int(w), k), int(i)) for w, k, i in rows)
    for alias, target in aliases.items():
        ids[alias] = ids[(alias[0], target)]
    return ids


PG_UPSERT_ACCOUNTS = (
    f"INSERT INTO accounts ({', '.join(ACCOUNT_COLUMNS)}) "
    "SELECT w, k, n, d, asn, cat, cc, conf, ev::json, r, v, pv, e, fs, ls "
    "FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::text[], %b::bigint[], "
    "%b::text[], %b::text[], %b::float8[], %b::text[], %b::text[], %b::bigint[], "
    "%b::bigint[], %b::bigint[], %b::timestamptz[], %b::timestamptz[]) "
    "AS u(w, k, n, d, asn, cat, cc, conf, ev, r, v, pv, e, fs, ls) "
    "ON CONFLICT (workspace_id, org_key) DO UPDATE SET "
    f"{ACCOUNT_UPDATES}"
    "visits = accounts.visits + excluded.visits, "
    "pageviews = accounts.pageviews + excluded.pageviews, "
    "engaged_ms = accounts.engaged_ms + excluded.engaged_ms, "
    "first_seen = least(accounts.first_seen, excluded.first_seen), "
    "last_seen = greatest(accounts.last_seen, excluded.last_seen) "
    "RETURNING workspace_id, org_key, id"
)

SESSION_COLUMNS = (
    "id", "site_id", "visitor_key", "account_id", "contact_id", "started_at", "last_seen",
    "hits", "pageviews", "engaged_ms", "entry_url", "referrer", "source_class", "source_name",
    "utm_source", "utm_medium", "utm_campaign", "click_id_kind", "country", "device_type",
    "browser", "os", "network_category",
)


def _write_sessions(conn: Connection, plan: Plan, account_ids: dict[tuple[int, str], int],
                    contact_ids: dict[tuple[int, str], int]) -> None:
    stamp = dialect.timestamp_converter(conn)
    new = [s for s in plan.sessions if s.id is None]
    for session, new_id in zip(new, dialect.reserve_ids(conn, "sessions", len(new)),
                               strict=True):
        session.id = new_id
    rows = []
    for s in new:
        hit = s.first_hit
        assert hit is not None
        client = hit.client
        ws = client.site.workspace_id
        net = client.network
        rows.append((
            s.id, s.site_id, s.visitor_key,
            account_ids.get((ws, s.account_key)) if s.account_key else None,
            contact_ids.get((ws, s.contact_email)) if s.contact_email else None,
            stamp(s.started_at), stamp(s.last_seen), s.hits, s.pageviews, s.engaged_ms,
            hit.url, hit.referrer, hit.source_class, hit.source_name, hit.utm_source,
            hit.utm_medium, hit.utm_campaign, hit.click_id_kind, client.country,
            client.device_type, client.browser, client.os, net.category if net else None,
        ))
    dialect.bulk_insert(conn, sessions, SESSION_COLUMNS, rows)
    old = [s for s in plan.sessions if s.first_hit is None and s.hits]
    if old and dialect.is_postgres(conn) and len({s.id for s in old}) == len(old):
        dialect.execute(conn, PG_UPDATE_SESSIONS, [
            [s.hits for s in old], [s.pageviews for s in old], [s.engaged_ms for s in old],
            [s.last_seen for s in old],
            [account_ids.get((s.workspace_id, s.account_key)) if s.account_key else None
             for s in old],
            [s.id for s in old]])
    elif old:
        f = dialect.functions(conn)
        dialect.execute_many(
            conn,
            "UPDATE sessions SET hits = hits + ?, pageviews = pageviews + ?, "
            f"engaged_ms = engaged_ms + ?, last_seen = {f['greatest']}(last_seen, ?), "
            "account_id = coalesce(account_id, ?) WHERE id = ?",
            [(s.hits, s.pageviews, s.engaged_ms, stamp(s.last_seen),
              account_ids.get((s.workspace_id, s.account_key)) if s.account_key else None,
              s.id) for s in old],
        )


PG_UPDATE_SESSIONS = (
    "UPDATE sessions s SET hits = s.hits + v.hits, pageviews = s.pageviews + v.pageviews, "
    "engaged_ms = s.engaged_ms + v.engaged_ms, last_seen = greatest(s.last_seen, v.last_seen), "
    "account_id = coalesce(s.account_id, v.account_id) "
    "FROM unnest(%b::bigint[], %b::bigint[], %b::bigint[], %b::timestamptz[], %b::bigint[], "
    "%b::bigint[]) AS v(hits, pageviews, engaged_ms, last_seen, account_id, id) "
    "WHERE s.id = v.id"
)

VISITOR_UPSERT = (
    "ON CONFLICT (site_id, key) DO UPDATE SET "
    "first_seen = {least}(visitors.first_seen, excluded.first_seen), "
    "last_seen = excluded.last_seen, session_id = excluded.session_id, "
    "session_campaign = excluded.session_campaign, "
    "contact_id = coalesce(excluded.contact_id, visitors.contact_id)"
)
PG_UPSERT_VISITORS = (
    "INSERT INTO visitors (site_id, key, first_seen, last_seen, session_id, "
    "session_campaign, contact_id) "
    "SELECT * FROM unnest(%b::bigint[], %b::text[], %b::timestamptz[], %b::timestamptz[], "
    "%b::bigint[], %b::text[], %b::bigint[]) " + VISITOR_UPSERT.format(least="least")
)


def _write_visitors(conn: Connection, plan: Plan, contact_ids: dict[tuple[int, str], int]) -> None:
    if not plan.visitors:
        return
    f = dialect.functions(conn)
    stamp = dialect.timestamp_converter(conn)
    rows = [(v.site_id, v.key, stamp(v.first_seen), stamp(v.last_seen), v.session.id, v.campaign,
             contact_ids.get((v.workspace_id, v.contact_email)) if v.contact_email else None)
            for v in plan.visitors.values()]
    if dialect.is_postgres(conn):
        dialect.execute(conn, PG_UPSERT_VISITORS, [list(c) for c in zip(*rows, strict=True)])
        return
    dialect.execute_many(
        conn,
        "INSERT INTO visitors (site_id, key, first_seen, last_seen, session_id, "
        "session_campaign, contact_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
        + VISITOR_UPSERT.format(least=f["least"]),
        rows,
    )


def _link_contacts(conn: Connection, plan: Plan, contact_ids: dict[tuple[int, str], int]) -> None:
    """Link every earlier session of an identified visitor to its contact."""
    links = []
    for v in plan.visitors.values():
        if v.contact_email is None or (v.workspace_id, v.contact_email) not in plan.contacts:
            continue  # not identified by this batch: its sessions are linked already
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


def _link_contact_accounts(conn: Connection, plan: Plan, contact_ids: dict[tuple[int, str], int],
                           account_ids: dict[tuple[int, str], int]) -> None:
    """A contact whose e-mail domain names an organisation belongs to its account."""
    links = [
        {"b_contact": contact_ids[(ws, email)], "b_account": account_ids[(ws, c.account_key)]}
        for (ws, email), c in sorted(plan.contacts.items())
        if c.account_key is not None and (ws, c.account_key) in account_ids
    ]
    if links:
        conn.execute(
            sa.update(contacts).where(contacts.c.id == sa.bindparam("b_contact"))
            .values(account_id=sa.bindparam("b_account")),
            links,
        )


def _insert_hits(conn: Connection, plan: Plan, account_ids: dict[tuple[int, str], int],
                 contact_ids: dict[tuple[int, str], int]) -> None:
    stamp = dialect.timestamp_converter(conn)
    encode = _json.encode
    # Hits of one request share their client (and receive time): convert those once.
    clients: dict[int, tuple[Any, ...]] = {}
    received: dict[datetime, Any] = {}
    rows = []
    for hit, session in plan.hits:
        client = hit.client
        part = clients.get(id(client))
        if part is None:
            net = client.network
            part = clients[id(client)] = (
                client.ip, client.ip_anon, net.asn if net else None,
                net.as_org if net else None, net.org_name if net else None,
                net.category if net else None, net.confidence if net else None,
                client.country, client.browser, client.browser_version, client.os,
                client.device_type,
            )
        got = received.get(hit.received_at)
        if got is None:
            got = received[hit.received_at] = stamp(hit.received_at)
        ws = client.site.workspace_id
        contact = session.contact_email
        rows.append((
            client.site.id, session.id,
            account_ids.get((ws, session.account_key)) if session.account_key else None,
            contact_ids.get((ws, contact)) if contact else None,
            client.visitor_key, stamp(hit.ts), got, hit.type, hit.url,
            hit.referrer, hit.title, hit.name,
            encode(hit.props).decode() if hit.props else None,
            hit.engaged_ms, *part, hit.source_class,
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

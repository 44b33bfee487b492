"""SQL reads of the campaign reports: the sessions that carry a campaign, journeys,
stage changes, and what one campaign's page adds (its accounts, its hits).  Sessions
and hits are the busiest tables: the reads a large workspace repeats are done at the
driver level, on covering indexes (db/schema_campaigns.py).  See
webleads/campaigns/reports.py."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db import dialect
from webleads.db.schema import accounts, sites
from webleads.db.schema_lifecycle import account_stages, stage_history

CHUNK = 500


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    started_at: datetime
    account_id: int | None
    contact_id: int | None
    source_class: str | None
    source_name: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    click_id_kind: str | None


def _marks(n: int) -> str:
    return ", ".join("?" * n)


_BY_KEY = ("SELECT id, started_at, account_id, contact_id, utm_campaign, NULL FROM sessions "
           "WHERE utm_campaign IS NOT NULL AND ")
_BY_CLICK = ("SELECT id, started_at, account_id, contact_id, NULL, click_id_kind FROM sessions "
             "WHERE click_id_kind IS NOT NULL AND utm_campaign IS NULL AND ")


def candidate_sessions(conn: Connection, workspace_id: int, *, utm_keys: Iterable[str],
                       click_id_kinds: Iterable[str]) -> list[SessionRow]:
    """Sessions of the workspace that may belong to a campaign: their utm_campaign is one
    of ``utm_keys`` (ignoring case), or they have no utm_campaign and a click id; oldest
    first.  Two selects, each served by its index (ix_sessions_utm_campaign,
    ix_sessions_click_id_kind), read at the driver level (a tenth of the sessions of a
    busy workspace: tens of thousands of rows); only the columns reports use."""
    keys = sorted(set(utm_keys))
    kinds = sorted(set(click_id_kinds))
    site_ids = [int(i) for i in conn.execute(
        sa.select(sites.c.id).where(sites.c.workspace_id == workspace_id)).scalars()]
    if not site_ids:
        return []
    sql_sites = f"site_id IN ({_marks(len(site_ids))})"
    found: list[Any] = []
    if keys:
        found += dialect.fetch_all(conn, _BY_KEY + f"{sql_sites} AND lower(trim(utm_campaign)) "
                                   f"IN ({_marks(len(keys))})", [*site_ids, *keys])
    if kinds:
        found += dialect.fetch_all(conn, _BY_CLICK + f"click_id_kind IN ({_marks(len(kinds))}) "
                                   f"AND {sql_sites}", [*kinds, *site_ids])
    read = dialect.timestamp_reader(conn)
    rows = [SessionRow(int(r[0]), read(r[1]), None if r[2] is None else int(r[2]),
                       None if r[3] is None else int(r[3]), None, None, None, None, r[4], r[5])
            for r in found]
    rows.sort(key=lambda r: (r.started_at, r.id))
    return rows


@dataclass(frozen=True, slots=True)
class Touch:
    """A session as a touchpoint of a journey: whose, which, when."""

    account_id: int | None
    contact_id: int | None
    id: int
    started_at: datetime


def journey_touches(conn: Connection, *, account_ids: Iterable[int],
                    contact_ids: Iterable[int], since: datetime, until: datetime
                    ) -> list[Touch]:
    """Every session started in [since, until] of these accounts and of these contacts,
    in no particular order (attribution orders each journey); read at the driver level."""
    stamp, read = dialect.timestamp_converter(conn), dialect.timestamp_reader(conn)
    out: list[Touch] = []
    # Accounts: the columns of ix_sessions_account_id_started_at_source_class (covering).
    for column, selected, wanted in (
            ("account_id", "account_id, NULL", sorted(set(account_ids))),
            ("contact_id", "account_id, contact_id", sorted(set(contact_ids)))):
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start:start + CHUNK]
            out.extend(Touch(None if a is None else int(a), None if c is None else int(c),
                             int(i), read(at)) for a, c, i, at in dialect.fetch_all(
                conn, f"SELECT {selected}, id, started_at FROM sessions WHERE {column} IN "
                f"({_marks(len(chunk))}) AND started_at >= ? AND started_at <= ?",
                [*chunk, stamp(since), stamp(until)]))
    return out


def accounts_first_seen(conn: Connection, workspace_id: int, *, since: datetime,
                        until: datetime) -> dict[int, datetime]:
    """The accounts of the workspace first seen in [since, until), and when (the only
    ones that can be a campaign's new accounts)."""
    read = dialect.timestamp_reader(conn)
    stamp = dialect.timestamp_converter(conn)
    return {int(i): read(seen) for i, seen in dialect.fetch_all(
        conn, "SELECT id, first_seen FROM accounts WHERE workspace_id = ? AND first_seen >= ? "
        "AND first_seen < ?", [workspace_id, stamp(since), stamp(until)])}


def stage_changes(conn: Connection, account_ids: Iterable[int], *, stage: str
                  ) -> list[tuple[int, datetime]]:
    """(account, time) of every move of these accounts into ``stage``, oldest first."""
    h = stage_history.c
    ids = sorted(set(account_ids))
    found: list[tuple[datetime, int, int]] = []
    for start in range(0, len(ids), CHUNK):
        found.extend((at, int(i), int(a)) for a, at, i in conn.execute(
            sa.select(h.account_id, h.at, h.id).where(
                h.account_id.in_(ids[start:start + CHUNK]), h.to_stage == stage)))
    return [(a, at) for at, _, a in sorted(found)]


def workspace_stage_changes(conn: Connection, workspace_id: int, *, stages: Sequence[str]
                            ) -> dict[str, list[tuple[int, datetime]]]:
    """Per stage, (account, time) of every move of the workspace's accounts into it,
    oldest first (one read, whatever the number of accounts)."""
    read = dialect.timestamp_reader(conn)
    out: dict[str, list[tuple[int, datetime]]] = {s: [] for s in stages}
    for account, at, stage in dialect.fetch_all(
            conn, "SELECT account_id, at, to_stage FROM stage_history WHERE workspace_id = ? "
            f"AND to_stage IN ({_marks(len(stages))}) ORDER BY at, id",
            [workspace_id, *stages]):
        out[stage].append((int(account), read(at)))
    return out


# -- one campaign's page ----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: int
    name: str
    domain: str | None
    stage: str | None


def accounts_info(conn: Connection, account_ids: Iterable[int]) -> dict[int, AccountInfo]:
    ids = sorted(set(account_ids))
    out: dict[int, AccountInfo] = {}
    a = accounts.c
    for start in range(0, len(ids), CHUNK):
        for r in conn.execute(
                sa.select(a.id, a.name, a.domain, account_stages.c.stage)
                .select_from(accounts.outerjoin(account_stages,
                                                account_stages.c.account_id == a.id))
                .where(a.id.in_(ids[start:start + CHUNK]))):
            out[int(r.id)] = AccountInfo(int(r.id), r.name, r.domain, r.stage)
    return out


@dataclass(frozen=True, slots=True)
class HitRow:
    session_id: int
    type: str
    name: str | None
    url: str
    page_group: str | None


def session_hits(conn: Connection, session_ids: Sequence[int], *, types: Sequence[str]
                 ) -> list[HitRow]:
    """The hits of these types of these sessions (what conversions and the focus on a
    product range are counted from)."""
    out: list[HitRow] = []
    ids = sorted(set(session_ids))
    if not types:
        return out
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        out.extend(HitRow(int(r[0]), r[1], r[2], r[3], r[4]) for r in dialect.fetch_all(
            conn, "SELECT session_id, type, name, url, page_group FROM hits WHERE session_id "
            f"IN ({_marks(len(chunk))}) AND type IN ({_marks(len(types))})",
            [*chunk, *types]))
    return out

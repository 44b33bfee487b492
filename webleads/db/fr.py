"""Queries of the French enrichment: companies (SIRENE), account matches, API cache.

The bulk writes of the stock import run at the driver level (``dialect.execute_many``):
one ``INSERT ... ON CONFLICT`` text serves both engines, so no dialect switch is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db import dialect
from webleads.db.schema import accounts, workspaces
from webleads.db.schema_fr import account_fr, fr_api_cache, fr_companies

# Columns written by the legal-unit import, in the order of its rows.
UNIT_COLUMNS = (
    "siren", "name", "name_key", "name_token", "compact_key", "sigle", "sigle_key", "naf",
    "naf_version", "naf25", "headcount_band", "category", "active", "source", "updated_at",
)
# Columns written from the head office establishment, in the order of its rows (the
# siren last, for the WHERE clause).
HEAD_OFFICE_COLUMNS = (
    "head_office_siret", "postcode", "city", "trade_name", "trade_key", "updated_at",
)
ALL_COLUMNS = UNIT_COLUMNS + HEAD_OFFICE_COLUMNS[:-1]
_CHUNK = 500  # values in one IN (...) list


def _upsert_sql(columns: Sequence[str], *, update: bool) -> str:
    marks = ", ".join("?" * len(columns))
    head = f"INSERT INTO fr_companies ({', '.join(columns)}) VALUES ({marks}) "
    if not update:
        return head + "ON CONFLICT (siren) DO NOTHING"
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "siren")
    return head + f"ON CONFLICT (siren) DO UPDATE SET {sets}"


_UPSERT_UNITS = _upsert_sql(UNIT_COLUMNS, update=True)
_INSERT_MISSING = _upsert_sql(ALL_COLUMNS, update=False)
_UPDATE_HEAD_OFFICE = (
    f"UPDATE fr_companies SET {', '.join(f'{c} = ?' for c in HEAD_OFFICE_COLUMNS)} "
    "WHERE siren = ?"
)


@dataclass(frozen=True, slots=True)
class Company:
    siren: str
    name: str
    name_key: str
    sigle: str | None
    trade_name: str | None
    naf: str | None
    naf_version: str | None
    naf25: str | None
    headcount_band: str | None
    category: str | None
    active: bool
    head_office_siret: str | None
    postcode: str | None
    city: str | None
    source: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AccountToMatch:
    id: int
    workspace_id: int
    name: str
    domain: str | None
    country: str | None
    category: str


@dataclass(frozen=True, slots=True)
class AccountMatch:
    """The French company found for an account."""

    account_id: int
    siren: str
    confidence: float
    method: str  # domain, name, api
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MatchedAccount:
    account_id: int
    workspace: str
    name: str
    siren: str
    confidence: float
    method: str
    matched_at: datetime


# --- the stock import -------------------------------------------------------------------

def upsert_units(conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
    """Insert or refresh legal units; rows follow ``UNIT_COLUMNS``, times aware UTC."""
    convert = dialect.timestamp_converter(conn)
    at = UNIT_COLUMNS.index("updated_at")
    dialect.execute_many(conn, _UPSERT_UNITS,
                         [(*row[:at], convert(row[at]), *row[at + 1:]) for row in rows])


def update_head_offices(conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
    """Set head office data; rows follow ``HEAD_OFFICE_COLUMNS`` then the siren."""
    convert = dialect.timestamp_converter(conn)
    at = HEAD_OFFICE_COLUMNS.index("updated_at")
    dialect.execute_many(conn, _UPDATE_HEAD_OFFICE,
                         [(*row[:at], convert(row[at]), *row[at + 1:]) for row in rows])


def insert_missing_companies(conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
    """Add companies learnt elsewhere (the online API); rows follow ``ALL_COLUMNS``.
    A company already known (from the stock) is left as it is."""
    convert = dialect.timestamp_converter(conn)
    at = ALL_COLUMNS.index("updated_at")
    dialect.execute_many(conn, _INSERT_MISSING,
                         [(*row[:at], convert(row[at]), *row[at + 1:]) for row in rows])


def existing_sirens(conn: Connection, sirens: Iterable[str]) -> set[str]:
    wanted = sorted(set(sirens))
    found: set[str] = set()
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i:i + _CHUNK]
        found.update(conn.execute(sa.select(fr_companies.c.siren)
                                  .where(fr_companies.c.siren.in_(chunk))).scalars())
    return found


def count_companies(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(fr_companies)).scalar_one())


# --- reading companies ------------------------------------------------------------------

def company(conn: Connection, siren: str) -> Company | None:
    row = conn.execute(sa.select(fr_companies).where(fr_companies.c.siren == siren)).first()
    return _company(row) if row is not None else None


def companies_where(conn: Connection, column: str, values: Iterable[str], *,
                    limit: int = 5000) -> list[Company]:
    """Companies whose ``column`` (a *_key or name_token column) is one of ``values``."""
    wanted = sorted({v for v in values if v})
    col = fr_companies.c[column]
    found: list[Company] = []
    for i in range(0, len(wanted), _CHUNK):
        stmt = (sa.select(fr_companies).where(col.in_(wanted[i:i + _CHUNK]))
                .order_by(fr_companies.c.siren).limit(limit - len(found)))
        found.extend(_company(row) for row in conn.execute(stmt))
        if len(found) >= limit:
            break
    return found


def companies_by_token(conn: Connection, token: str, fragments: Sequence[str], *,
                       limit: int = 2000) -> list[Company]:
    """Companies whose name starts with the word ``token`` and, when ``fragments`` are
    given, whose name holds one of them."""
    stmt = sa.select(fr_companies).where(fr_companies.c.name_token == token)
    if fragments:
        stmt = stmt.where(sa.or_(*(fr_companies.c.name_key.contains(f, autoescape=True)
                                   for f in fragments)))
    stmt = stmt.order_by(fr_companies.c.siren).limit(limit)
    return [_company(row) for row in conn.execute(stmt)]


def _company(row: Any) -> Company:
    return Company(
        siren=row.siren, name=row.name, name_key=row.name_key, sigle=row.sigle,
        trade_name=row.trade_name, naf=row.naf, naf_version=row.naf_version, naf25=row.naf25,
        headcount_band=row.headcount_band, category=row.category, active=bool(row.active),
        head_office_siret=row.head_office_siret, postcode=row.postcode, city=row.city,
        source=row.source, updated_at=row.updated_at,
    )


# --- matches ----------------------------------------------------------------------------

def accounts_to_match(conn: Connection, *, workspace_id: int | None = None,
                      account_id: int | None = None) -> list[AccountToMatch]:
    stmt = sa.select(accounts.c.id, accounts.c.workspace_id, accounts.c.name,
                     accounts.c.domain, accounts.c.country, accounts.c.category)
    if workspace_id is not None:
        stmt = stmt.where(accounts.c.workspace_id == workspace_id)
    if account_id is not None:
        stmt = stmt.where(accounts.c.id == account_id)
    return [AccountToMatch(int(r.id), int(r.workspace_id), r.name, r.domain, r.country,
                           r.category)
            for r in conn.execute(stmt.order_by(accounts.c.id))]


def workspace_id(conn: Connection, ref: str) -> int | None:
    """A workspace by id (digits) or by name."""
    column = workspaces.c.id if ref.isdigit() else workspaces.c.name
    value: Any = int(ref) if ref.isdigit() else ref
    found = conn.execute(sa.select(workspaces.c.id).where(column == value)).scalar()
    return int(found) if found is not None else None


def save_match(conn: Connection, match: AccountMatch, *, now: datetime) -> bool:
    """Store ``match`` unless the account already has a surer match found another way.
    Returns whether it was stored."""
    insert = dialect.insert(conn, account_fr)
    stmt = insert.values(
        account_id=match.account_id, siren=match.siren, confidence=match.confidence,
        method=match.method, evidence=match.evidence, matched_at=now,
    )
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[account_fr.c.account_id],
        set_={"siren": new.siren, "confidence": new.confidence, "method": new.method,
              "evidence": new.evidence, "matched_at": new.matched_at},
        where=sa.or_(new.confidence >= account_fr.c.confidence,
                     new.method == account_fr.c.method,
                     new.siren == account_fr.c.siren),
    ).returning(account_fr.c.account_id)  # no row when the stored match was kept
    return conn.execute(stmt).first() is not None


def match_of(conn: Connection, account_id: int) -> tuple[Company, float, str] | None:
    """The French company of an account, with the match's confidence and method."""
    row = conn.execute(
        sa.select(fr_companies, account_fr.c.confidence, account_fr.c.method)
        .join(account_fr, account_fr.c.siren == fr_companies.c.siren)
        .where(account_fr.c.account_id == account_id)
    ).first()
    if row is None:
        return None
    return _company(row), float(row.confidence), str(row.method)


def accounts_of_company(conn: Connection, siren: str) -> list[MatchedAccount]:
    stmt = (sa.select(account_fr, accounts.c.name, workspaces.c.name.label("workspace"))
            .join(accounts, accounts.c.id == account_fr.c.account_id)
            .join(workspaces, workspaces.c.id == accounts.c.workspace_id)
            .where(account_fr.c.siren == siren).order_by(account_fr.c.account_id))
    return [MatchedAccount(int(r.account_id), r.workspace, r.name, r.siren,
                           float(r.confidence), r.method, r.matched_at)
            for r in conn.execute(stmt)]


# --- the online API's cache -------------------------------------------------------------

def cached_answer(conn: Connection, query: str, *, fresh_after: datetime) -> str | None:
    """The cached body for ``query`` when fetched after ``fresh_after``."""
    stmt = sa.select(fr_api_cache.c.response).where(
        fr_api_cache.c.query == query, fr_api_cache.c.fetched_at > fresh_after)
    found = conn.execute(stmt).scalar()
    return str(found) if found is not None else None


def cache_answer(conn: Connection, query: str, response: str, *, now: datetime) -> None:
    stmt = dialect.insert(conn, fr_api_cache).values(query=query, response=response,
                                                      fetched_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[fr_api_cache.c.query],
        set_={"response": stmt.excluded.response, "fetched_at": stmt.excluded.fetched_at})
    conn.execute(stmt)

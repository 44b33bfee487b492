"""``/api/v1``: sites, prioritised accounts, one account with its *why*, and data-subject
requests (export, erasure).  Every route needs ``Authorization: Bearer <token>`` with a
token of the workspace (Settings → Team → API tokens) and answers in the token's
workspace only: an object of another workspace is ``404`` like a missing one.

Scopes: ``read`` for reads, ``admin`` for privacy requests (an ``admin`` token may read
too).  Errors are JSON ``{"error": ..., "field": ...}``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine

from webleads.db import api_reads as q
from webleads.db.engine import read_only

router = APIRouter(prefix="/api/v1", tags=["api"])
log = logging.getLogger("webleads.api")
MAX_ID = 2**63 - 1  # ids are 64-bit integers on both engines


class ApiError(Exception):
    def __init__(self, status: int, error: str, field: str | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.field = status, error, field


def error_response(exc: ApiError) -> JSONResponse:
    body: dict[str, Any] = {"error": exc.error}
    if exc.field:
        body["field"] = exc.field
    headers = {"www-authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(body, status_code=exc.status, headers=headers)


@dataclass(frozen=True, slots=True)
class Caller:
    workspace_id: int
    scopes: tuple[str, ...]
    engine: Engine

    def need(self, scope: str) -> None:
        if scope not in self.scopes and "admin" not in self.scopes:
            raise ApiError(403, f"this token lacks the {scope!r} scope", "authorization")


def caller(request: Request) -> Caller:
    from webleads.api_tokens import verify

    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "missing bearer token", "authorization")
    engine: Engine = request.app.state.web.engine
    found = verify(engine, token.strip())
    if found is None:
        # Its first characters only: enough to tell tokens apart, useless to reuse.
        log.info("refused API token %s… from %s", token.strip()[:8],
                 request.client.host if request.client else "?")
        raise ApiError(401, "unknown or revoked token", "authorization")
    return Caller(found[0], tuple(found[1]), engine)


Auth = Annotated[Caller, Depends(caller)]


# -- models --------------------------------------------------------------------------

class SiteOut(BaseModel):
    id: int
    key: str
    name: str
    domain: str
    timezone: str
    identity_mode: str
    created_at: datetime


class ReasonOut(BaseModel):
    rule: str = Field(description="rule name ('decay' for points lost to decay)")
    label: str
    points: int
    count: int
    value: float = Field(description="what these lines are worth now")


class AccountOut(BaseModel):
    id: int
    name: str
    domain: str | None
    country: str | None
    in_target: bool
    score: float
    grade: str
    priority: float
    stage: str
    owner: str
    committee: int = Field(description="people of the account seen in the last days")
    reasons: list[ReasonOut]
    interest: dict[str, float] = Field(description="score per product range")


class AccountsOut(BaseModel):
    site: str
    items: list[AccountOut]


class ContactOut(BaseModel):
    id: int
    email: str
    first_seen: datetime
    last_seen: datetime


class AccountDetail(BaseModel):
    id: int
    name: str
    domain: str | None
    category: str
    country: str | None
    asn: int | None
    confidence: float | None
    evidence: Any
    role: str | None
    visits: int
    pageviews: int
    engaged_ms: int
    first_seen: datetime
    last_seen: datetime
    score: float
    reasons: list[ReasonOut]
    interest: dict[str, float]
    contacts: list[ContactOut]


class SubjectIn(BaseModel):
    email: str = Field(min_length=3, max_length=254, description="the data subject's e-mail")


class EraseOut(BaseModel):
    email_ref: str = Field(description="SHA-256 of the address, as the audit log names it")
    deleted: dict[str, int]


def _reasons(rows: list[Any], lang: str) -> list[ReasonOut]:
    return [ReasonOut(rule=r.name, label=(r.label_fr if lang == "fr" and r.label_fr
                                          else r.label),
                      points=r.points, count=r.count, value=round(r.decayed, 2)) for r in rows]


Lang = Annotated[Literal["en", "fr"], Query(description="language of the reasons")]


# -- routes --------------------------------------------------------------------------

@router.get("/sites", response_model=list[SiteOut])
async def list_sites(auth: Auth) -> list[dict[str, Any]]:
    """The workspace's sites."""
    auth.need("read")

    def run() -> list[dict[str, Any]]:
        with read_only(auth.engine) as conn, conn.begin():
            return q.workspace_sites(conn, auth.workspace_id)

    return await asyncio.to_thread(run)


@router.get("/accounts", response_model=AccountsOut)
async def list_accounts(auth: Auth,
                        site: Annotated[str, Query(min_length=1, max_length=64,
                                                   description="public site key")],
                        limit: Annotated[int, Query(ge=1, le=500)] = 50,
                        lang: Lang = "en") -> AccountsOut:
    """The site's accounts, highest priority first (score and fit grade), with why."""
    auth.need("read")
    from webleads.scoring.explain import site_accounts

    def run() -> AccountsOut:
        with read_only(auth.engine) as conn, conn.begin():
            site_id = q.site_id_by_key(conn, auth.workspace_id, site)
            if site_id is None:
                raise ApiError(404, "no site with this key in the token's workspace", "site")
            rows = site_accounts(conn, site_id, now=datetime.now(UTC), limit=limit)
        return AccountsOut(site=site, items=[AccountOut(
            id=a.id, name=a.name, domain=a.domain, country=a.country, in_target=a.in_target,
            score=a.score, grade=str(a.grade), priority=a.priority, stage=str(a.stage),
            owner=a.owner, committee=a.committee, reasons=_reasons(a.reasons, lang),
            interest=a.interest) for a in rows])

    return await asyncio.to_thread(run)


@router.get("/accounts/{account_id}", response_model=AccountDetail)
async def get_account(auth: Auth, account_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                      lang: Lang = "en") -> AccountDetail:
    """One account: identity and its evidence, score and why, interest, contacts."""
    auth.need("read")
    from webleads.scoring.explain import account_score, interest, why

    def run() -> AccountDetail:
        now = datetime.now(UTC)
        with read_only(auth.engine) as conn, conn.begin():
            row = q.workspace_account(conn, auth.workspace_id, account_id)
            if row is None:
                raise ApiError(404, "no such account in the token's workspace", "account_id")
            return AccountDetail(
                **{k: row[k] for k in ("id", "name", "domain", "category", "country", "asn",
                                       "confidence", "evidence", "role", "visits",
                                       "pageviews", "engaged_ms", "first_seen",
                                       "last_seen")},
                score=round(account_score(conn, account_id, now), 2),
                reasons=_reasons(why(conn, account_id, now), lang),
                interest={k: round(v, 2) for k, v in interest(conn, account_id, now).items()},
                contacts=[ContactOut(**c) for c in q.account_contacts(conn, account_id)])

    return await asyncio.to_thread(run)


def _subject(email: str) -> str:
    from webleads.privacy.subjects import normalise, valid

    if not valid(email):
        raise ApiError(422, "not an e-mail address", "email")
    return normalise(email)


@router.post("/privacy/export")
async def privacy_export(auth: Auth, body: SubjectIn) -> dict[str, Any]:
    """Everything the workspace holds about an e-mail address (GDPR art. 15 and 20);
    recorded in the audit log."""
    auth.need("admin")
    from webleads.privacy.subjects import export_for

    email = _subject(body.email)
    return await asyncio.to_thread(export_for, auth.engine, email,
                                   workspace_id=auth.workspace_id, by="api",
                                   now=datetime.now(UTC))


@router.post("/privacy/erase", response_model=EraseOut)
async def privacy_erase(auth: Auth, body: SubjectIn) -> EraseOut:
    """Erase everything the workspace holds about an e-mail address (GDPR art. 17);
    aggregates are kept, accounts recounted; recorded in the audit log.  Idempotent."""
    auth.need("admin")
    from webleads.privacy.audit import subject_ref
    from webleads.privacy.subjects import erase_subject

    email = _subject(body.email)
    report = await asyncio.to_thread(erase_subject, auth.engine, email,
                                     workspace_id=auth.workspace_id, by="api")
    return EraseOut(email_ref=subject_ref(email), deleted=_counts(report))


def _counts(report: Any) -> dict[str, int]:
    from dataclasses import asdict, is_dataclass

    data = asdict(report) if is_dataclass(report) and not isinstance(report, type) else {}
    out: dict[str, int] = {}
    for key, value in data.items():
        if isinstance(value, int) and not isinstance(value, bool):
            out[key] = value
        elif isinstance(value, dict):
            out.update({f"{key}.{k}": int(v) for k, v in value.items()
                        if isinstance(v, int) and not isinstance(v, bool)})
    return out

"""Settings, privacy tab: each site's privacy options in words and its retention, the
data subjects (export and erase everything held about an e-mail address), and the
record of processing in French and English.

Roles: admins and marketers see the page, export a subject's data and read the record;
only admins change retention and erase.  Sales reps get 403.  Exports and erasures are
written to the audit log (the subject named by a hash, never by the address) and only
ever reach the current workspace's data.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from webleads.db import privacy as privacy_db
from webleads.db.engine import read_only
from webleads.privacy import record, subjects
from webleads.privacy.modes import AUDIENCE_MAX_DAYS, ModeConflict
from webleads.privacy.retention import (
    IDENTIFIER_DAYS,
    MAX_DAYS,
    Retention,
    retention_of,
    set_retention,
)
from webleads.web.i18n import Translator
from webleads.web.page import Ctx, HTTPProblem, pick, workspace_ctx

router = APIRouter(include_in_schema=False)

RETENTION_FIELDS = ("hits_days", "sessions_days", "contacts_days")
EMAIL_MAX = 254
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class SitePrivacy:
    site: privacy_db.SiteRow
    retention: Retention


def _sites(ctx: Ctx) -> list[SitePrivacy]:
    with read_only(ctx.engine) as conn, conn.begin():
        rows = privacy_db.site_rows(conn)
    return [SitePrivacy(r, retention_of(r)) for r in rows if r.workspace_id == ctx.workspace_id]


def _page(ctx: Ctx, *, status: int = 200, errors: dict[str, str] | None = None,
          email: str = "", retention_errors: dict[int, dict[str, str]] | None = None,
          retention_values: dict[int, dict[str, str]] | None = None) -> Response:
    ctx.require("admin", "marketer")
    return ctx.render("settings/privacy.html", status=status, sites=_sites(ctx),
                      errors=errors or {}, email=email,
                      retention_errors=retention_errors or {},
                      retention_values=retention_values or {},
                      identifier_days=IDENTIFIER_DAYS, max_days=MAX_DAYS,
                      explain=lambda row: explain(row, ctx.t))


@router.get("/w/{ws}/settings/privacy")
async def privacy_page(ctx: Annotated[Ctx, Depends(workspace_ctx)]) -> Response:
    return _page(ctx)


def _days(value: object) -> int | None:
    text = value.strip() if isinstance(value, str) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        return None
    days = int(text)
    return days if 1 <= days <= MAX_DAYS else None


@router.post("/w/{ws}/settings/privacy/retention/{site_id}")
async def save_retention(request: Request, ctx: Annotated[Ctx, Depends(workspace_ctx)],
                         site_id: int) -> Response:
    ctx.require("admin", "marketer")
    site = next((s for s in _sites(ctx) if s.site.id == site_id), None)
    if site is None:
        raise HTTPProblem(404, str(ctx.t("This site does not exist in this workspace.")))
    ctx.require("admin")
    form = await request.form()
    parsed = {name: _days(form.get(name)) for name in RETENTION_FIELDS}
    message = ctx.t("A whole number of days, from 1 to %(max)s.", max=MAX_DAYS)
    errors: dict[str, str] = {name: message for name, days in parsed.items() if days is None}
    if errors:
        values = {name: _text(form, name)[:20] for name in RETENTION_FIELDS}
        return _page(ctx, status=400, retention_errors={site_id: errors},
                     retention_values={site_id: values})
    retention = Retention(**{k: v for k, v in parsed.items() if v is not None})
    try:
        set_retention(ctx.engine, site_id, retention, by=_actor(ctx), now=datetime.now(UTC))
    except ModeConflict:
        # An audience-mode site keeps hits and sessions 25 months at most (CNIL).
        limit = ctx.t("In audience mode, hits and sessions are kept %(max)s days at most "
                      "(25 months).", max=AUDIENCE_MAX_DAYS)
        values = {name: _text(form, name)[:20] for name in RETENTION_FIELDS}
        return _page(ctx, status=400, retention_errors={site_id: {
            name: limit for name in ("hits_days", "sessions_days")
            if (parsed[name] or 0) > AUDIENCE_MAX_DAYS}},
            retention_values={site_id: values})
    return ctx.redirect("/settings/privacy", flash=ctx.t(
        "Retention of %(site)s saved.", site=site.site.name).unescape())


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _actor(ctx: Ctx) -> str:
    return ctx.user.email[:200]


def _email(ctx: Ctx, form: FormData) -> tuple[str, Response | None]:
    """The posted e-mail address, or the privacy page again with the error (400)."""
    email = _text(form, "email").strip()
    if len(email) > EMAIL_MAX or _CONTROL.search(email) or not subjects.valid(email):
        message = ctx.t("This is not a valid e-mail address.")
        return email, _page(ctx, status=400, errors={"email": message}, email=email[:EMAIL_MAX])
    return subjects.normalise(email), None


@router.post("/w/{ws}/settings/privacy/export")
async def export(request: Request, ctx: Annotated[Ctx, Depends(workspace_ctx)]) -> Response:
    """Everything held about an address, in this workspace: a JSON file, the readable
    summary as a Markdown file, or the summary on a page."""
    ctx.require("admin", "marketer")
    form = await request.form()
    email, problem = _email(ctx, form)
    if problem is not None:
        return problem
    shape = pick(("json", "md", "html"), _text(form, "format"), "html")
    now = datetime.now(UTC)
    data = subjects.export_for(ctx.engine, email, workspace_id=ctx.workspace_id,
                               by=_actor(ctx), now=now)
    stamp = now.strftime("%Y%m%d-%H%M%S")
    if shape == "json":
        return _download(subjects.to_json(data), "application/json",
                         f"webleads-subject-{stamp}.json")
    text = subjects.summary(data, lang=ctx.t.lang, now=now)
    if shape == "md":
        return _download(text, "text/markdown; charset=utf-8", f"webleads-subject-{stamp}.md")
    return ctx.render("settings/subject.html", email=email, summary=text,
                      counts=_counts(data))


def _counts(data: dict[str, Any]) -> dict[str, int]:
    return {"contacts": len(data["contacts"]), "sessions": len(data["sessions"])
            + len(data["text_sessions"]),
            "hits": len(data["hits"]) + len(data["text_hits"]),
            "messages": len(data["messages"]) + len(data["digest_events"]),
            "quarantine": len(data["quarantine"]), "staff": len(data["staff"])}


def _download(text: str, media_type: str, filename: str) -> Response:
    return Response(text.encode("utf-8"), media_type=media_type, headers={
        "content-disposition": f'attachment; filename="{filename}"',
        "cache-control": "no-store"})


@router.post("/w/{ws}/settings/privacy/erase")
async def erase(request: Request, ctx: Annotated[Ctx, Depends(workspace_ctx)]) -> Response:
    """Two steps: what is held (nothing erased, nothing logged), then, confirmed, the
    erasure of everything held about the address in this workspace."""
    ctx.require("admin")
    form = await request.form()
    email, problem = _email(ctx, form)
    if problem is not None:
        return problem
    if form.get("confirm") != "yes":
        with read_only(ctx.engine) as conn, conn.begin():
            data = subjects.export_subject(conn, email, workspace_id=ctx.workspace_id)
        return ctx.render("settings/erase_confirm.html", email=email, counts=_counts(data))
    report = subjects.erase_subject(ctx.engine, email, workspace_id=ctx.workspace_id,
                                    by=_actor(ctx), now=datetime.now(UTC))
    if not report.found:
        message = ctx.t("Nothing was held about this address; nothing was erased.")
    else:
        message = ctx.t(
            "Erased: %(contacts)s contacts, %(sessions)s visits, %(hits)s pages and events, "
            "%(messages)s messages; %(accounts)s organisations recounted.",
            contacts=report.contacts, sessions=report.sessions + report.text_sessions_deleted,
            hits=report.hits + report.text_hits, messages=report.messages,
            accounts=report.accounts_recounted)
    return ctx.redirect("/settings/privacy", flash=str(message))


# -- record of processing ----------------------------------------------------------------------

def workspace_facts(ctx: Ctx) -> record.Facts:
    """The facts of the record, reduced to this workspace's sites and recipients."""
    settings = ctx.web.settings
    with read_only(ctx.engine) as conn, conn.begin():
        facts = record.gather(conn, data_dir=settings.data_dir,
                              network_data=settings.network_data)
    return dataclasses.replace(
        facts, sites=tuple(s for s in facts.sites if s.workspace_id == ctx.workspace_id),
        recipients=tuple(r for r in facts.recipients if r.workspace_id == ctx.workspace_id))


@router.get("/w/{ws}/settings/privacy/record")
async def record_page(ctx: Annotated[Ctx, Depends(workspace_ctx)], lang: str | None = None,
                      format: str | None = None) -> Response:
    ctx.require("admin", "marketer")
    chosen = pick(("fr", "en"), lang, ctx.t.lang)
    shape = pick(("html", "md", "json"), format, "html")
    facts = workspace_facts(ctx)
    if shape == "md":
        return _download(record.render(facts, lang=chosen), "text/markdown; charset=utf-8",
                         f"record-of-processing-{chosen}.md")
    if shape == "json":
        return _download(json.dumps(record.to_dict(facts, lang=chosen), ensure_ascii=False,
                                    indent=2), "application/json",
                         f"record-of-processing-{chosen}.json")
    return ctx.render("settings/record.html", doc=record.to_dict(facts, lang=chosen),
                      doc_lang=chosen)


def explain(site: privacy_db.SiteRow, t: Translator) -> list[str]:
    """A site's privacy options, in words."""
    lines: list[str] = [
        t("Returning visitors are recognised by a first-party cookie, kept 13 months.")
        if site.identity_mode == "cookie" else
        t("No cookie: visitors are counted with a hash that changes every day, so nobody "
          "is followed from one day to the next."),
        t("Full IP addresses are stored with each hit.") if site.store_raw_ip else (
            t("IP addresses are used in memory to find the organisation, then kept only as "
              "a truncated network (the last digits removed).")
            if site.ip_mode == "truncate" else
            t("IP addresses are used in memory to find the organisation, then kept only as "
              "a keyed hash.")),
        t("Visitors who send Do Not Track or Global Privacy Control are not counted.")
        if site.respect_dnt else
        t("Do Not Track and Global Privacy Control are ignored: consider honouring them."),
    ]
    return lines

"""The account page: what a sales rep reads before calling, and what they change there
(owner, stage, notes; identification corrections for admins and marketers).

    GET  /w/{ws}/account/{id}                     the page
    GET  /w/{ws}/account/{id}/sessions?before=S   the next sessions (htmx fragment or page)
    POST /w/{ws}/account/{id}/correct             wrong company / ISP / our office
    POST /w/{ws}/account/{id}/owner               give the account to an owner
    POST /w/{ws}/account/{id}/stage               move the stage, with a reason
    POST /w/{ws}/account/{id}/notes               add a note
    POST /w/{ws}/account/{id}/notes/{note}/delete delete a note
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from webleads.db import account_page as q
from webleads.db.engine import read_only
from webleads.fr import naf
from webleads.lifecycle import actions
from webleads.lifecycle.stages import STAGES
from webleads.web import account_view, account_words
from webleads.web.account_correct import DOMAIN as DOMAIN_RE
from webleads.web.account_correct import (
    KINDS,
    Correction,
    correct,
    network_choices,
)
from webleads.web.account_owner import OwnerRefused, give
from webleads.web.page import Ctx, HTTPProblem, pick, workspace_ctx

router = APIRouter(include_in_schema=False)

NOTE_MAX = 10_000
REASON_MAX = 1_000
_ID_MAX = 2**63 - 1
Context = Annotated[Ctx, Depends(workspace_ctx)]


def _now() -> datetime:
    return datetime.now(UTC)


def _id(value: str | None) -> int | None:
    """A positive database id, or None (not a number, or out of range)."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    number = int(value)
    return number if 0 < number <= _ID_MAX else None


def _missing(ctx: Ctx) -> HTTPProblem:
    return HTTPProblem(404, str(ctx.t("This account does not exist in this workspace.")))


def _account(ctx: Ctx, account_id: str) -> q.AccountRow:
    found = _id(account_id)
    if found is not None:
        with read_only(ctx.engine) as conn:
            account = q.account(conn, ctx.workspace_id, found)
        if account is not None:
            return account
    raise _missing(ctx)


def href(url: str | None) -> str | None:
    """A link target for a URL a visitor's browser sent: web addresses only."""
    if url and urlsplit(url).scheme in ("http", "https"):
        return url
    return None


def path_of(url: str) -> str:
    parts = urlsplit(url)
    path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    return path if len(path) <= 120 else path[:119] + "…"


def _helpers(ctx: Ctx) -> dict[str, Any]:
    t = ctx.t
    return {"words": account_words, "href": href, "path_of": path_of,
            "naf_text": lambda a: naf.describe(a.naf, a.naf_version, t.lang),
            "band_text": lambda band: naf.band_text(band, t.lang),
            "now": _now(), "stages": STAGES, "kinds": KINDS,
            "can_correct": ctx.can("admin", "marketer"),
            "can_assign": ctx.can("admin", "marketer")}


def _page(ctx: Ctx, account_id: int, *, status: int = 200, errors: dict[str, str] | None = None,
          values: dict[str, str] | None = None, opened: str | None = None) -> Response:
    with read_only(ctx.engine) as conn:
        page = account_view.load(conn, ctx.workspace_id, account_id, now=_now(), tz=ctx.t.tz,
                                 networks=ctx.can("admin", "marketer"))
    if page is None:
        raise _missing(ctx)
    return ctx.render("account/page.html", status=status, page=page, a=page.account,
                      errors=errors or {}, values=values or {}, opened=opened,
                      **_charts(ctx, page), **_helpers(ctx))


def _charts(ctx: Ctx, page: account_view.AccountPage) -> dict[str, Any]:
    """Chart.js specs of the score history (line) and the interest (horizontal bars)."""
    t = ctx.t
    history = {
        "type": "line",
        "data": {"labels": [t.date(day, "d MMM") for day, _ in page.history],
                 "datasets": [{"label": str(t("Score")), "data": [v for _, v in page.history],
                               "fill": True, "pointRadius": 0, "tension": 0.2}]},
        "options": {"plugins": {"legend": {"display": False}},
                    "scales": {"y": {"beginAtZero": True},
                               "x": {"ticks": {"maxTicksLimit": 9}}}}}
    interest = {
        "type": "bar",
        "data": {"labels": [g for g, _ in page.interest],
                 "datasets": [{"label": str(t("Points")),
                               "data": [round(v, 1) for _, v in page.interest]}]},
        "options": {"indexAxis": "y", "plugins": {"legend": {"display": False}},
                    "scales": {"x": {"beginAtZero": True}}}}
    n = len(page.interest)
    height = 160 if n <= 3 else 200 if n <= 5 else 240 if n <= 7 else 300 if n <= 10 else 360
    return {"history_chart": history, "interest_chart": interest, "interest_height": height}


@router.get("/w/{ws}/account/{account_id}")
def account_page(ctx: Context, account_id: str) -> Response:
    found = _id(account_id)
    if found is None:
        raise _missing(ctx)
    return _page(ctx, found)


@router.get("/w/{ws}/account/{account_id}/sessions")
def sessions_more(ctx: Context, account_id: str, before: str | None = None) -> Response:
    """The sessions after ``before`` (a session id); the newest ones without it."""
    account = _account(ctx, account_id)
    cursor = None
    if before is not None and before != "":
        session_id = _id(before)
        if session_id is None:
            raise HTTPProblem(400, str(ctx.t("before: a session number is expected.")))
        with read_only(ctx.engine) as conn:
            cursor = q.session_cursor(conn, account.id, session_id)
        if cursor is None:
            raise HTTPProblem(404, str(ctx.t("This session is not one of this account's.")))
    with read_only(ctx.engine) as conn:
        found = account_view.timeline(conn, account.id, before=cursor)
    return ctx.render("account/sessions.html", a=account, timeline=found, **_helpers(ctx))


@router.post("/w/{ws}/account/{account_id}/correct")
def correct_identification(
        ctx: Context, account_id: str, kind: Annotated[str, Form(max_length=32)] = "",
        network: Annotated[str, Form(max_length=60)] = "",
        organisation: Annotated[str, Form(max_length=300)] = "",
        domain: Annotated[str, Form(max_length=253)] = "") -> Response:
    account = _account(ctx, account_id)
    ctx.require("admin", "marketer")
    t = ctx.t
    chosen = pick(KINDS, kind, "")
    if not chosen:
        raise HTTPProblem(400, str(t("kind: choose wrong company, Internet provider or "
                                     "our office.")))
    with read_only(ctx.engine) as conn:
        choices = [c.target for c in network_choices(conn, account)]
    errors: dict[str, str] = {}
    if network not in choices:
        errors["network"] = str(t("Choose one of this account's networks."))
    organisation, domain = organisation.strip(), domain.strip().lower().removeprefix("www.")
    if chosen == "wrong_company":
        if not organisation and not domain:
            errors["organisation"] = str(t("Give the right organisation's name or its "
                                           "domain."))
        if domain and not DOMAIN_RE.match(domain):
            errors["domain"] = str(t("A domain looks like example.com."))
    if errors:
        return _page(ctx, account.id, status=400, errors=errors, opened=chosen,
                     values={"network": network, "organisation": organisation,
                             "domain": domain})
    correction = Correction(chosen, network, organisation or None,  # type: ignore[arg-type]
                            domain or None)
    outcome = correct(ctx.engine, workspace_id=ctx.workspace_id, account_id=account.id,
                      correction=correction, actor=ctx.user.email, now=_now())
    moved = outcome.report.hits_changed
    if chosen == "isp":
        message = t("Network %(network)s is now an Internet provider: its visitors stay "
                    "anonymous (%(hits)s hits corrected).", network=network, hits=t.number(moved))
    elif chosen == "office":
        message = t("Network %(network)s is now your office: its visits are ignored "
                    "(%(hits)s hits corrected).", network=network, hits=t.number(moved))
    else:
        message = t("Network %(network)s now belongs to %(name)s (%(hits)s hits corrected).",
                    network=network, name=organisation or domain, hits=t.number(moved))
    if outcome.holder is None:
        return ctx.redirect("/accounts", flash=str(message))
    return ctx.redirect(f"/account/{outcome.holder}", flash=str(message))


@router.post("/w/{ws}/account/{account_id}/owner")
def change_owner(ctx: Context, account_id: str,
                 owner: Annotated[str, Form(max_length=20)] = "") -> Response:
    account = _account(ctx, account_id)
    t = ctx.t
    nobody = owner in ("", "none")
    wanted = None if nobody else _id(owner)
    try:
        if not nobody and wanted is None:
            raise OwnerRefused("unknown_owner")
        change = give(ctx.engine, account, wanted, manager=ctx.can("admin", "marketer"),
                      my_owner=ctx.membership.owner_id, actor=ctx.user.email,
                      by=ctx.user.name or ctx.user.email, now=_now())
    except OwnerRefused as refused:
        if refused.code == "unknown_owner":
            return _page(ctx, account.id, status=400, opened="owner", errors={
                "owner": str(t("Choose one of the workspace's active owners."))})
        if refused.code == "taken":
            raise HTTPProblem(409, str(t("Someone took this account meanwhile."))) from None
        raise HTTPProblem(403, str(t("A sales rep can take an account that has no owner, "
                                     "for themselves only."))) from None
    if not change.changed:
        message = t("The owner is unchanged.")
    elif change.owner is not None:
        message = t("%(name)s now owns this account.", name=change.owner.name)
    else:
        message = t("This account has no owner any more.")
    return ctx.redirect(f"/account/{account.id}", flash=str(message))


@router.post("/w/{ws}/account/{account_id}/stage")
def move_stage(ctx: Context, account_id: str, stage: Annotated[str, Form(max_length=32)] = "",
               reason: Annotated[str, Form(max_length=20_000)] = "") -> Response:
    account = _account(ctx, account_id)
    t = ctx.t
    errors: dict[str, str] = {}
    if pick(STAGES, stage, "") == "":
        errors["stage"] = str(t("Choose a stage of the list."))
    if len(reason.strip()) > REASON_MAX:
        errors["reason"] = str(t("The reason is too long (%(max)s characters at most).",
                                 max=t.number(REASON_MAX)))
    if errors:
        return _page(ctx, account.id, status=400, errors=errors, opened="stage",
                     values={"stage": stage, "reason": reason[:REASON_MAX * 2]})
    with ctx.engine.begin() as conn:
        actions.move_stage(conn, account.id, stage, by=ctx.user.name or ctx.user.email,
                           reason=reason.strip(), now=_now())
    return ctx.redirect(f"/account/{account.id}", flash=str(t(
        "Stage moved to %(stage)s.", stage=account_words.stage(t, stage))))


@router.post("/w/{ws}/account/{account_id}/notes")
def add_note(ctx: Context, account_id: str,
             body: Annotated[str, Form(max_length=100_000)] = "") -> Response:
    account = _account(ctx, account_id)
    t = ctx.t
    text = body.strip()
    error = None
    if not text:
        error = t("Write the note first.")
    elif len(text) > NOTE_MAX:
        error = t("A note holds %(max)s characters at most; this one has %(n)s.",
                  max=t.number(NOTE_MAX), n=t.number(len(text)))
    if error is not None:
        return _page(ctx, account.id, status=400, errors={"body": str(error)},
                     values={"body": body[:NOTE_MAX * 2]}, opened="notes")
    with ctx.engine.begin() as conn:
        q.add_note(conn, workspace_id=ctx.workspace_id, account_id=account.id,
                   user_id=ctx.user.id, body=text, now=_now())
    return ctx.redirect(f"/account/{account.id}", flash=str(t("Note added.")))


@router.post("/w/{ws}/account/{account_id}/notes/{note_id}/delete")
def delete_note(ctx: Context, account_id: str, note_id: str) -> Response:
    account = _account(ctx, account_id)
    t = ctx.t
    found_id = _id(note_id)
    with ctx.engine.begin() as conn:
        note = q.note(conn, ctx.workspace_id, account.id, found_id) if found_id else None
        if note is None:
            raise HTTPProblem(404, str(t("This note does not exist (any more).")))
        if note.user_id != ctx.user.id and not ctx.can("admin"):
            raise HTTPProblem(403, str(t("You can delete your own notes only.")))
        q.delete_note(conn, note.id)
    return ctx.redirect(f"/account/{account.id}", flash=str(t("Note deleted.")))

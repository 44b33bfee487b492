"""Settings › Deliveries: the workspace's outward messages (alerts, digests, tests,
password resets) with their state, channel, destination and every attempt, filtered by
state, page by page; dead ones can be sent again.  Admins and marketers.  Mounted by
``settings_rules``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from webleads.db import deliveries as db
from webleads.db.engine import read_only
from webleads.outbox.queue import retry
from webleads.web.page import Ctx, HTTPProblem, pick, workspace_ctx

router = APIRouter(include_in_schema=False)
CtxDep = Annotated[Ctx, Depends(workspace_ctx)]
MessageId = Annotated[int, Path(ge=1, le=2 ** 62)]
PER_PAGE = 50
MAX_PAGE = 100_000


def _missing(ctx: Ctx) -> HTTPProblem:
    return HTTPProblem(404, str(ctx.t("This message does not exist, or belongs to another "
                                      "workspace.")))


def _page_number(ctx: Ctx, raw: str | None) -> int:
    if raw is None or raw == "":
        return 1
    try:
        number = int(raw)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_PAGE:
        raise HTTPProblem(400, str(ctx.t("Invalid request: %(fields)s", fields=ctx.t(
            "page (a page number from 1)"))))
    return number


@router.get("/w/{ws}/settings/deliveries")
async def deliveries(ctx: CtxDep) -> Response:
    ctx.require("admin", "marketer")
    query = ctx.request.query_params
    state = pick(db.LOG_STATES, query.get("state"), "")
    number = _page_number(ctx, query.get("page"))
    chosen = next((s for s in db.LOG_STATES if s == state), None)
    with read_only(ctx.engine) as conn:
        found = db.page(conn, ctx.workspace_id, state=chosen, offset=(number - 1) * PER_PAGE,
                        limit=PER_PAGE)
        counts = db.counts(conn, ctx.workspace_id)
    pages = max(1, -(-found.total // PER_PAGE))
    return ctx.render("settings_rules/deliveries.html", page=found, counts=counts,
                      state=state, number=number, pages=pages, log_state=db.log_state,
                      now=datetime.now(UTC))


@router.get("/w/{ws}/settings/deliveries/{message_id}")
async def delivery(ctx: CtxDep, message_id: MessageId) -> Response:
    ctx.require("admin", "marketer")
    with read_only(ctx.engine) as conn:
        found = db.message(conn, ctx.workspace_id, message_id)
    if found is None:
        raise _missing(ctx)
    return ctx.render("settings_rules/delivery.html", message=found,
                      log_state=db.log_state, now=datetime.now(UTC))


@router.post("/w/{ws}/settings/deliveries/{message_id}/retry")
async def retry_message(ctx: CtxDep, message_id: MessageId) -> Response:
    """Send a dead message again, with the same event id and a fresh budget of attempts."""
    ctx.require("admin", "marketer")
    with ctx.engine.begin() as conn:
        found = db.message(conn, ctx.workspace_id, message_id)
        if found is None:
            raise _missing(ctx)
        done = retry(conn, message_id, now=datetime.now(UTC), workspace_id=ctx.workspace_id)
    if not done:
        raise HTTPProblem(409, str(ctx.t("Only a dead message can be sent again.")))
    return ctx.redirect("/settings/deliveries?state=pending",
                        flash=str(ctx.t("Message %(id)s will be sent again.", id=message_id)))

"""The Accounts page: the hot-accounts feed with its filters, sorting, pages, saved views
("feeds") and CSV / XLSX exports of what it shows.

Every view is a link: the filters are a GET form (it works without JavaScript; with htmx
only the table is replaced and the address bar gets the view's shortest link).  What the
feed computes is in ``accounts_feed`` (who sees what by default: sales reps start on
their team's accounts), the parameters in ``accounts_query``, the SQL in ``db/feed.py``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from webleads.db import saved_views as db
from webleads.db.engine import read_only
from webleads.db.lifecycle import list_owners
from webleads.scoring import background
from webleads.web import accounts_export, accounts_feed
from webleads.web import accounts_labels as label
from webleads.web.accounts_feed import Viewer
from webleads.web.accounts_query import CATEGORIES, ROLES, SOURCES, FeedQuery, parse
from webleads.web.page import Ctx, HTTPProblem, workspace_ctx

router = APIRouter(include_in_schema=False)
WorkspaceCtx = Annotated[Ctx, Depends(workspace_ctx)]


def _viewer(ctx: Ctx) -> Viewer:
    return Viewer(ctx.workspace_id, ctx.user.id, ctx.role, ctx.membership.owner_id)


def _errors(ctx: Ctx, codes: dict[str, str]) -> dict[str, str]:
    t = ctx.t
    texts = {"number": t("Enter a number, for example 50."),
             "range": t("Enter a score between -100,000 and 100,000."),
             "date": t("Enter a date as YYYY-MM-DD, for example 2026-03-31."),
             "order": t("The end date is before the start date.")}
    return {name: str(texts[code]) for name, code in codes.items()}


def _query(ctx: Ctx, params: QueryParams) -> tuple[FeedQuery, dict[str, str]]:
    query, codes = parse(params, default_owner=accounts_feed.default_owner(_viewer(ctx)))
    return query, _errors(ctx, codes)


def _page(ctx: Ctx, params: QueryParams, *, status: int = 200,
          save_errors: dict[str, str] | None = None, save_name: str = "") -> Response:
    query, errors = _query(ctx, params)
    now = datetime.now(UTC)
    with read_only(ctx.engine) as conn:
        feed = None if errors else accounts_feed.load(conn, _viewer(ctx), query, now=now,
                                                      tz=ctx.t.tz)
        views = db.views(conn, ctx.workspace_id, ctx.user.id)
        rescoring = background.status(conn, ctx.workspace_id, now=now)
        found = accounts_feed.choices(conn, ctx.workspace_id, clock=time.monotonic())
        owners = feed.owners if feed else list_owners(conn, ctx.workspace_id)
    current = query.query_string(page=1)
    t = ctx.t
    territories = t.locale.territories  # country names, looked up once per page
    values: dict[str, Any] = dict(
        feed=feed, query=query, errors=errors, views=views, current=current,
        active_view=next((v.id for v in views if v.query == current), None),
        # The chosen values stay in the lists (the lists are kept a minute).
        countries=[(c, territories.get(c, c)) for c in sorted(
            {*found.countries, *([query.country] if query.country else [])})],
        ranges=sorted({*found.ranges, *([query.range] if query.range else [])}),
        territories=territories,
        owners=owners, me=ctx.membership.owner_id, L=label, sources=SOURCES,
        categories=CATEGORIES, roles=ROLES, export_max=accounts_feed.EXPORT_MAX, now=now,
        save_errors=save_errors or {}, save_name=save_name, rescoring=rescoring)
    request = ctx.request
    fragment = (request.headers.get("hx-request") and request.headers.get("hx-target") == "feed"
                and not request.headers.get("hx-history-restore-request"))
    if fragment and errors:
        # htmx swaps no 4xx answer: the browser loads the page instead, which shows the
        # error next to its field (with a 400).
        target = request.url.path + ("?" + request.url.query if request.url.query else "")
        return Response(status_code=200, headers={"HX-Redirect": target})
    response = ctx.render("accounts/table.html" if fragment else "accounts/page.html",
                          status=400 if errors else status, **values)
    if fragment and not errors:
        response.headers["HX-Push-Url"] = ctx.url("/accounts") + (
            "?" + query.query_string() if query.params() else "")
    response.headers["vary"] = "HX-Request, HX-Target"
    return response


@router.get("/w/{ws}/accounts")
def accounts_page(ctx: WorkspaceCtx) -> Response:
    return _page(ctx, ctx.request.query_params)


def _export(ctx: Ctx) -> tuple[list[accounts_feed.Row], int, FeedQuery]:
    query, errors = _query(ctx, ctx.request.query_params)
    if errors:
        raise HTTPProblem(400, str(ctx.t("Invalid filter: %(fields)s", fields=", ".join(
            f"{name} ({text})" for name, text in errors.items()))))
    with read_only(ctx.engine) as conn:
        found, total = accounts_feed.export(conn, _viewer(ctx), query, now=datetime.now(UTC),
                                            tz=ctx.t.tz)
    return found, total, query


def _link(ctx: Ctx) -> Any:
    base = str(ctx.request.base_url).rstrip("/")
    return lambda account_id: f"{base}{ctx.url(f'/account/{account_id}')}"


def _file(ctx: Ctx, body: bytes, kind: str, media: str, shown: int, total: int) -> Response:
    name = f"accounts-{datetime.now(UTC).date().isoformat()}.{kind}"
    headers = {"content-disposition": f'attachment; filename="{name}"',
               "cache-control": "no-store", "x-export-rows": str(shown),
               "x-export-total": str(total)}
    if total > shown:
        headers["x-export-truncated"] = "1"
    return Response(body, media_type=media, headers=headers)


@router.get("/w/{ws}/accounts.csv")
def accounts_csv(ctx: WorkspaceCtx) -> Response:
    found, total, _ = _export(ctx)
    body = accounts_export.to_csv(found, ctx.t, _link(ctx), tz=ctx.t.tz)
    return _file(ctx, body, "csv", "text/csv; charset=utf-8", len(found), total)


@router.get("/w/{ws}/accounts.xlsx")
def accounts_xlsx(ctx: WorkspaceCtx) -> Response:
    found, total, query = _export(ctx)
    t = ctx.t
    about: list[tuple[str, Any]] = [
        (str(t("Exported on")), t.datetime(datetime.now(UTC))),
        (str(t("Filters")), query.query_string(page=1) or str(t("none"))),
        (str(t("Accounts")), len(found))]
    if total > len(found):
        about.append((str(t("Notice")), str(t(
            "Only the first %(max)s of %(total)s accounts are in this file: narrow the "
            "filters to export the others.", max=t.number(len(found)),
            total=t.number(total)))))
    body = accounts_export.to_xlsx(found, t, _link(ctx), tz=t.tz, about=about)
    return _file(ctx, body, "xlsx",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 len(found), total)


# -- saved views ---------------------------------------------------------------------------

@router.post("/w/{ws}/accounts/views")
def save_view(ctx: WorkspaceCtx, name: Annotated[str, Form(max_length=500)] = "",
              query: Annotated[str, Form(max_length=4000)] = "",
              shared: Annotated[str, Form(max_length=10)] = "") -> Response:
    """Save the filters of the page under a name (the user's view of that name is
    replaced); ``shared`` lists it for everyone in the workspace."""
    params = QueryParams(query)
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 100:
        message = (ctx.t("Give the view a name.") if not cleaned
                   else ctx.t("The name is too long (100 characters at most)."))
        return _page(ctx, params, status=400, save_errors={"name": str(message)},
                     save_name=cleaned[:100])
    parsed, _ = _query(ctx, params)
    canonical = parsed.query_string(page=1)
    with ctx.engine.begin() as conn:
        db.save_view(conn, workspace_id=ctx.workspace_id, user_id=ctx.user.id, name=cleaned,
                     query=canonical, shared=shared in ("1", "on", "true"),
                     now=datetime.now(UTC))
    return ctx.redirect("/accounts" + ("?" + canonical if canonical else ""),
                        flash=str(ctx.t("View “%(name)s” saved.", name=cleaned)))


def _visible_view(ctx: Ctx, view_id: int) -> db.SavedView:
    found = None
    if 0 < view_id < 2 ** 63:  # an id the database can hold
        with read_only(ctx.engine) as conn:
            found = db.view(conn, ctx.workspace_id, ctx.user.id, view_id)
    if found is None:
        raise HTTPProblem(404, str(ctx.t("This view does not exist, or is private.")))
    return found


@router.get("/w/{ws}/accounts/views/{view_id}")
def open_view(ctx: WorkspaceCtx, view_id: int) -> Response:
    found = _visible_view(ctx, view_id)
    return ctx.redirect("/accounts" + ("?" + found.query if found.query else ""))


@router.post("/w/{ws}/accounts/views/{view_id}/delete")
def delete_view(ctx: WorkspaceCtx, view_id: int) -> Response:
    """Users delete their own views; admins also the shared views of others."""
    found = _visible_view(ctx, view_id)
    if found.user_id != ctx.user.id:
        ctx.require("admin")
    with ctx.engine.begin() as conn:
        db.delete_view(conn, ctx.workspace_id, found.id)
    return ctx.redirect("/accounts", flash=str(ctx.t("View “%(name)s” deleted.",
                                                     name=found.name)))

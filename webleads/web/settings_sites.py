"""Settings: the index, the sites (list, add, edit), their tag snippet and the live
"tag received" check.  The privacy tab is in :mod:`webleads.web.settings_privacy`,
included here.

Roles: admins add and change sites; marketers and sales reps see the list, the tag
snippet and the check (a sales rep may be the one asked "is the tag on the site?"),
not the form.  The site's secret is shown once, in the answer to the form that
created it; only its hash is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, available_timezones

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine

from webleads.db import site_activity as q
from webleads.db.engine import read_only
from webleads.db.reads import drop_totals
from webleads.model import DROP_REASONS, Site
from webleads.privacy.audit import record_audit
from webleads.sites import SiteError, create_site, snippet, update_site
from webleads.web import site_form
from webleads.web.i18n import Translator
from webleads.web.page import Ctx, HTTPProblem, workspace_ctx
from webleads.web.settings_privacy import router as privacy_router

router = APIRouter(include_in_schema=False)
router.include_router(privacy_router)

REFUSALS_DAYS = 7
MAX_ID = 2**62  # larger ids cannot exist (and would not fit the database's integers)


@dataclass(frozen=True, slots=True)
class SiteRow:
    site: Site
    hits_today: int
    last: q.LastHit | None


@dataclass(frozen=True, slots=True)
class TagStatus:
    """Is the tag of a site sending hits, and if not, why?"""

    last: q.LastHit | None
    hits_today: int
    drops: list[tuple[str, int]]
    refusals: list[q.Refusals]


def _day_start(site: Site, now: datetime) -> datetime:
    try:
        zone = ZoneInfo(site.timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def site_rows(engine: Engine, workspace_id: int, now: datetime) -> list[SiteRow]:
    with read_only(engine) as conn, conn.begin():
        return [SiteRow(s, q.hits_since(conn, s.id, _day_start(s, now)), q.last_hit(conn, s.id))
                for s in q.workspace_sites(conn, workspace_id)]


def tag_status(engine: Engine, site: Site, now: datetime) -> TagStatus:
    with read_only(engine) as conn, conn.begin():
        drops = drop_totals(conn, site.id)
        return TagStatus(
            last=q.last_hit(conn, site.id),
            hits_today=q.hits_since(conn, site.id, _day_start(site, now)),
            drops=[(r, drops[r]) for r in DROP_REASONS if drops.get(r)],
            refusals=q.refusals_since(conn, site.key, now - timedelta(days=REFUSALS_DAYS)))


def site_of(ctx: Ctx, site_id: int) -> Site:
    """The site ``site_id`` of the current workspace; 404 for any other id."""
    found = None
    if 0 < site_id < MAX_ID:
        with read_only(ctx.engine) as conn, conn.begin():
            found = q.workspace_site(conn, ctx.workspace_id, site_id)
    if found is None:
        raise HTTPProblem(404, str(ctx.t("This site does not exist in this workspace.")))
    return found


def drop_reasons(t: Translator) -> dict[str, str]:
    return {
        "bot": t("Declared crawlers and automation tools (by their user agent)."),
        "empty_user_agent": t("No user agent, or one too short to be a browser."),
        "headless_browser": t("Headless browsers (robots driving a browser)."),
        "do_not_track": t("Visitors who ask not to be tracked (Do Not Track or Global "
                          "Privacy Control), as this site honours it."),
        "ignored_network": t("Visits from your ignored networks or office overrides."),
        "bot_network": t("Addresses in the published ranges of crawlers."),
    }


def refusal_reasons(t: Translator) -> dict[str, str]:
    return {
        "origin_not_allowed": t("The page sending the hit is not on the site's domain: add "
                                "its address to the allowed origins."),
        "unknown_site": t("The tag names a site key that does not exist."),
        "bad_secret": t("A server sent hits with a wrong secret key."),
        "invalid_field": t("A field of the hit had the wrong type, size or format."),
        "missing_field": t("A required field of the hit was missing."),
        "invalid_json": t("The request was not valid JSON."),
        "ts_out_of_range": t("The time of a server-side hit was too far in the past or "
                             "the future."),
        "unstorable": t("The database refused to store the hit (it is kept)."),
    }


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@cache
def _timezones() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z and not z.startswith(
        ("Etc/", "SystemV/", "US/", "posix/", "right/"))))


def _audit(ctx: Ctx, action: str, target: str, details: dict[str, Any]) -> None:
    with ctx.engine.begin() as conn:
        record_audit(conn, workspace_id=ctx.workspace_id, actor=ctx.user.email[:200],
                     action=action, target=target, details=details, now=datetime.now(UTC))


# -- pages ---------------------------------------------------------------------------------

@router.get("/w/{ws}/settings")
@router.get("/w/{ws}/settings/")
async def settings_home(ctx: Annotated[Ctx, Depends(workspace_ctx)]) -> Response:
    return ctx.redirect("/settings/sites")


@router.get("/w/{ws}/settings/sites")
async def sites_page(ctx: Annotated[Ctx, Depends(workspace_ctx)]) -> Response:
    now = datetime.now(UTC)
    return ctx.render("settings/sites.html", rows=site_rows(ctx.engine, ctx.workspace_id, now),
                      now=now)


def _form_page(ctx: Ctx, site: Site | None, form: site_form.SiteForm, status: int = 200
               ) -> Response:
    return ctx.render("settings/site_form.html", status=status, site=site, values=form.values,
                      errors=form.errors, timezones=_timezones())


@router.get("/w/{ws}/settings/sites/new")
async def new_site_page(ctx: Annotated[Ctx, Depends(workspace_ctx)]) -> Response:
    ctx.require("admin")
    return _form_page(ctx, None, site_form.SiteForm(values=site_form.values_of(None)))


@router.post("/w/{ws}/settings/sites/new")
async def new_site(request: Request, ctx: Annotated[Ctx, Depends(workspace_ctx)]) -> Response:
    ctx.require("admin")
    form = site_form.parse(await request.form(), ctx.t)
    if form.errors:
        return _form_page(ctx, None, form, status=400)
    try:
        created = create_site(ctx.engine, workspace=ctx.membership.workspace_name,
                              **form.options)
    except SiteError as exc:
        name, message = site_form.site_error(exc, ctx.t)
        form.errors[name] = message
        return _form_page(ctx, None, form, status=400)
    site = created.site
    _audit(ctx, "site.create", f"site:{site.key}", {"name": site.name, "domain": site.domain})
    now = datetime.now(UTC)
    return ctx.render("settings/site_created.html", status=201, site=site,
                      secret=created.secret, snippet=snippet(site, _base_url(request)),
                      status_now=tag_status(ctx.engine, site, now), now=now,
                      reasons=drop_reasons(ctx.t), refusal_texts=refusal_reasons(ctx.t))


@router.get("/w/{ws}/settings/sites/{site_id}")
async def site_page(request: Request, ctx: Annotated[Ctx, Depends(workspace_ctx)],
                    site_id: int) -> Response:
    site = site_of(ctx, site_id)
    form = site_form.SiteForm(values=site_form.values_of(site))
    return _site_page(request, ctx, site, form)


def _site_page(request: Request, ctx: Ctx, site: Site, form: site_form.SiteForm,
               status: int = 200) -> Response:
    now = datetime.now(UTC)
    return ctx.render("settings/site.html", status=status, site=site, values=form.values,
                      errors=form.errors, timezones=_timezones(),
                      snippet=snippet(site, _base_url(request)), now=now,
                      status_now=tag_status(ctx.engine, site, now),
                      reasons=drop_reasons(ctx.t), refusal_texts=refusal_reasons(ctx.t))


@router.post("/w/{ws}/settings/sites/{site_id}")
async def edit_site(request: Request, ctx: Annotated[Ctx, Depends(workspace_ctx)],
                    site_id: int) -> Response:
    site = site_of(ctx, site_id)
    ctx.require("admin")
    form = site_form.parse(await request.form(), ctx.t)
    if form.errors:
        return _site_page(request, ctx, site, form, status=400)
    try:
        updated = update_site(ctx.engine, site.key, by=ctx.user.email[:200], **form.options)
    except SiteError as exc:
        name, message = site_form.site_error(exc, ctx.t)
        form.errors[name] = message
        return _site_page(request, ctx, site, form, status=400)
    changed = {k: v for k, v in _options(updated).items() if _options(site).get(k) != v}
    if changed:
        _audit(ctx, "site.update", f"site:{site.key}", changed)
    return ctx.redirect(f"/settings/sites/{site.id}", flash=str(ctx.t("Site saved.")))


def _options(site: Site) -> dict[str, Any]:
    return {"name": site.name, "domain": site.domain, "origins": list(site.origins),
            "timezone": site.timezone, "identity_mode": site.identity_mode,
            "respect_dnt": site.respect_dnt, "store_raw_ip": site.store_raw_ip,
            "ip_mode": site.ip_mode, "ignored_networks": list(site.ignored_networks),
            "page_groups": [f"{r.pattern} → {r.group}" for r in site.page_groups]}


@router.get("/w/{ws}/settings/sites/{site_id}/check")
async def tag_check(ctx: Annotated[Ctx, Depends(workspace_ctx)], site_id: int) -> Response:
    """The "tag received" fragment, polled every 5 seconds by the site page."""
    site = site_of(ctx, site_id)
    now = datetime.now(UTC)
    return ctx.render("settings/_tag_check.html", site=site, now=now,
                      status_now=tag_status(ctx.engine, site, now),
                      reasons=drop_reasons(ctx.t), refusal_texts=refusal_reasons(ctx.t))

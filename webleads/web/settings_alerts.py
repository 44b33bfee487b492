"""Settings › Alerts: alert rules (add, enable, disable, remove) and the destinations
they send to, each with a "Send test" button that sends a real message now and shows
the outcome in place (htmx), and webhook signing secrets shown once.  Admins and
marketers.  Mounted by ``settings_rules``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from webleads import alert_settings as uc
from webleads.lifecycle.actions import NotFound
from webleads.lifecycle.alerts import DEFAULT_JUMP_HOURS, DEFAULT_JUMP_POINTS
from webleads.lifecycle.model import ALERT_KINDS, DEFAULT_PAGES, OWNER
from webleads.outbox.config import outbox_setup
from webleads.outbox.model import CHANNELS, LANGUAGES, Channel, Language
from webleads.web.page import Ctx, HTTPProblem, workspace_ctx
from webleads.web.settings_forms import Fields

router = APIRouter(include_in_schema=False)
CtxDep = Annotated[Ctx, Depends(workspace_ctx)]
RuleId = Annotated[int, Path(ge=1, le=2 ** 62)]


def editor(ctx: Ctx) -> None:
    ctx.require("admin", "marketer")


def _defaults(ctx: Ctx) -> dict[str, Any]:
    return {"kind": "becomes_mql", "channel": "email", "language": ctx.t.lang,
            "cooldown_hours": "24", "timezone": ctx.t.tz if ctx.t.tz != "UTC" else
            "Europe/Paris", "pages": ", ".join(DEFAULT_PAGES),
            "points": str(DEFAULT_JUMP_POINTS), "hours": f"{DEFAULT_JUMP_HOURS:g}"}


def _page(ctx: Ctx, *, status: int = 200, values: dict[str, Any] | None = None,
          errors: dict[str, str] | None = None, secret: tuple[str, str] | None = None,
          outcome: uc.TestOutcome | None = None) -> Response:
    ws = ctx.workspace_id
    return ctx.render(
        "settings_rules/alerts.html", status=status, rules=uc.rules(ctx.engine, ws),
        destinations=uc.destinations(ctx.engine, ws),
        values=values if values is not None else _defaults(ctx), errors=errors or {},
        secret=secret, outcome=outcome,
        smtp=outbox_setup(ctx.web.settings).smtp is not None,
        allow_private=ctx.web.settings.allow_private_destinations)


@router.get("/w/{ws}/settings/alerts")
async def alerts_page(ctx: CtxDep) -> Response:
    editor(ctx)
    return _page(ctx)


def _field_of(message: str) -> tuple[str, str]:
    """The form field a ``ValueError`` of ``lifecycle.actions`` names, and its detail."""
    head, _, detail = message.partition(":")
    head = head.strip()
    if head.startswith("quiet hours"):
        return "quiet_from", detail
    if head.startswith("time zone"):
        return "timezone", detail
    return {"cooldown": "cooldown_hours"}.get(head, head), detail.strip()


def _messages(ctx: Ctx) -> dict[str, str]:
    t = ctx.t
    return {
        "kind": str(t("Unknown kind of alert.")),
        "threshold": str(t("Give the score to reach, above 0.")),
        "pages": str(t("Each page is a path pattern starting with /, e.g. /pricing*.")),
        "points": str(t("A number of points above 0.")),
        "hours": str(t("A number of hours above 0.")),
        "channel": str(t("Unknown channel.")),
        "destination": str(t("Not a valid destination for this channel.")),
        "digest": str(t("A daily digest is an e-mail: choose the e-mail channel.")),
        "cooldown_hours": str(t("A number of hours, 0 or more.")),
        "quiet_from": str(t("Quiet hours go from one time to another, e.g. 20:00 to 08:00.")),
        "timezone": str(t("Not a known time zone (e.g. Europe/Paris).")),
        "language": str(t("Unknown language.")),
    }


@router.post("/w/{ws}/settings/alerts/rules")
async def add_rule(ctx: CtxDep) -> Response:
    editor(ctx)
    f = Fields(await ctx.request.form(), ctx.t)
    kind = f.choice("kind", ALERT_KINDS, "becomes_mql")
    params: dict[str, Any] = {}
    if kind == "score_crosses":
        params["threshold"] = f.number("threshold", low=0.01, high=1e9, required=True)
    elif kind == "hot_page":
        params["pages"] = f.items("pages")
    elif kind == "score_jump":
        params["points"] = f.number("points", low=0.01, high=1e9, required=True)
        params["hours"] = f.number("hours", low=0.01, high=24 * 365, required=True)
    channel = f.choice("channel", CHANNELS, "email")
    to_owner = f.checked("to_owner")
    destination = OWNER if to_owner else f.text("destination", max_len=2000)
    if not destination:
        f.error("destination", str(ctx.t("Required.")))
    if to_owner and channel != "email":
        f.error("to_owner", str(ctx.t("Only e-mail alerts can go to the account owner.")))
    language = f.choice("language", LANGUAGES, ctx.t.lang)
    cooldown = f.number("cooldown_hours", low=0, high=24 * 365)
    quiet_from, quiet_to = f.text("quiet_from", max_len=5), f.text("quiet_to", max_len=5)
    if bool(quiet_from) != bool(quiet_to):
        f.error("quiet_from", _messages(ctx)["quiet_from"])
    timezone = f.text("timezone", max_len=64) or "Europe/Paris"
    digest = f.checked("digest")
    if not f.errors:
        try:
            rule_id, secret = uc.add_rule(
                ctx.engine, ctx.workspace_id, kind=kind, params=params, channel=channel,
                destination=destination, language=language,
                cooldown_hours=24.0 if cooldown is None else cooldown,
                quiet_hours=f"{quiet_from}-{quiet_to}" if quiet_from else None,
                timezone=timezone, digest=digest,
                allow_private=ctx.web.settings.allow_private_destinations,
                actor=ctx.user.email)
        except ValueError as exc:
            field, detail = _field_of(str(exc))
            message = _messages(ctx).get(field, str(ctx.t("Invalid value.")))
            if field == "destination" and "refused" in detail:
                message = str(ctx.t("Refused: %(reason)s", reason=detail))
            f.error(field if field in _messages(ctx) else "kind", message)
        else:
            if secret is not None:
                return _page(ctx, secret=(destination, secret))
            return ctx.redirect("/settings/alerts", flash=str(ctx.t(
                "Alert rule %(id)s added.", id=rule_id)))
    return _page(ctx, status=400, values=f.values, errors=f.errors)


async def _change(ctx: Ctx, rule_id: int, what: str) -> Response:
    editor(ctx)
    try:
        if what == "remove":
            uc.remove_rule(ctx.engine, ctx.workspace_id, rule_id, actor=ctx.user.email)
        else:
            uc.set_enabled(ctx.engine, ctx.workspace_id, rule_id, enabled=what == "enable",
                           actor=ctx.user.email)
    except NotFound:
        raise HTTPProblem(404, str(ctx.t("This alert rule does not exist, or belongs to "
                                         "another workspace."))) from None
    flash = {"remove": ctx.t("Alert rule removed."), "enable": ctx.t("Alert rule turned on."),
             "disable": ctx.t("Alert rule turned off.")}[what]
    return ctx.redirect("/settings/alerts", flash=str(flash))


@router.post("/w/{ws}/settings/alerts/rules/{rule_id}/enable")
async def enable_rule(ctx: CtxDep, rule_id: RuleId) -> Response:
    return await _change(ctx, rule_id, "enable")


@router.post("/w/{ws}/settings/alerts/rules/{rule_id}/disable")
async def disable_rule(ctx: CtxDep, rule_id: RuleId) -> Response:
    return await _change(ctx, rule_id, "disable")


@router.post("/w/{ws}/settings/alerts/rules/{rule_id}/remove")
async def remove_rule(ctx: CtxDep, rule_id: RuleId) -> Response:
    return await _change(ctx, rule_id, "remove")


@router.post("/w/{ws}/settings/alerts/test")
async def send_test(ctx: CtxDep) -> Response:
    """Send a test message now; the outcome in place (htmx) or on the page."""
    editor(ctx)
    f = Fields(await ctx.request.form(), ctx.t)
    channel = f.choice("channel", CHANNELS, "webhook")
    destination = f.text("destination", max_len=2000)
    if not destination:
        f.error("destination", str(ctx.t("Required.")))
    language = f.choice("language", LANGUAGES, ctx.t.lang)
    partial = bool(ctx.request.headers.get("hx-request"))
    if f.errors:
        if partial:  # htmx swaps only 2xx answers: the problem is shown in place
            return ctx.render("settings_rules/_test_result.html", outcome=None,
                              errors=f.errors)
        return _page(ctx, status=400, values={**_defaults(ctx), "test_channel": channel,
                                              "test_destination": destination},
                     errors={f"test_{k}": v for k, v in f.errors.items()})
    outcome = await run_in_threadpool(
        uc.send_test_message, ctx.engine, ctx.web.settings, ctx.workspace_id,
        channel=_channel(channel), destination=destination, language=_language(language),
        now=datetime.now(UTC))
    if partial:
        return ctx.render("settings_rules/_test_result.html", outcome=outcome, errors={})
    return _page(ctx, outcome=outcome)


@router.post("/w/{ws}/settings/alerts/secret")
async def rotate_secret(ctx: CtxDep) -> Response:
    """A new signing secret for one of the workspace's webhook URLs, shown once."""
    editor(ctx)
    f = Fields(await ctx.request.form(), ctx.t)
    url = f.text("url", max_len=2000)
    secret = uc.rotate_secret(ctx.engine, ctx.workspace_id, url, actor=ctx.user.email)
    if secret is None:
        raise HTTPProblem(404, str(ctx.t("This webhook is not a destination of this "
                                         "workspace.")))
    return _page(ctx, secret=(url, secret))


def _channel(value: str) -> Channel:
    return next(c for c in CHANNELS if c == value)


def _language(value: str) -> Language:
    return next(x for x in LANGUAGES if x == value)

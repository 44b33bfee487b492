"""Settings › Team: lifecycle owners (the people accounts are assigned to) and the
assignment rules, tried in order.  Admins only.  Mounted by ``settings_team``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from webleads import team
from webleads.lifecycle.model import ASSIGNMENT_KINDS
from webleads.outbox.model import LANGUAGES
from webleads.web.page import Ctx, workspace_ctx
from webleads.web.settings_forms import Fields
from webleads.web.team_view import admin, missing, render

router = APIRouter(include_in_schema=False)
CtxDep = Annotated[Ctx, Depends(workspace_ctx)]
ObjectId = Annotated[int, Path(ge=1, le=2 ** 62)]


@router.post("/w/{ws}/settings/team/owners")
async def add_owner(ctx: CtxDep) -> Response:
    admin(ctx)
    f = Fields(await ctx.request.form(), ctx.t)
    name = f.text("owner_name", max_len=200)
    email = f.text("owner_email", max_len=254)
    group = f.text("owner_team", max_len=100)
    language = f.choice("owner_language", LANGUAGES, ctx.t.lang)
    if not f.errors:
        try:
            team.add_owner(ctx.engine, ctx.workspace_id, name=name, email=email,
                           team=group or None, language=language, actor=ctx.user.email)
        except ValueError as exc:
            field = str(exc).partition(":")[0]
            f.error(f"owner_{field}" if field in ("name", "email") else "owner_name", str({
                "name": ctx.t("Required."),
                "email": ctx.t("Not a valid e-mail address, or already an owner."),
            }.get(field, ctx.t("Invalid value."))))
        else:
            return ctx.redirect("/settings/team#owners", flash=str(ctx.t(
                "Owner %(name)s added.", name=name)))
    return render(ctx, status=400, values=f.values, errors=f.errors)


@router.post("/w/{ws}/settings/team/owners/{owner_id}/active")
async def owner_active(ctx: CtxDep, owner_id: ObjectId) -> Response:
    admin(ctx)
    f = Fields(await ctx.request.form(), ctx.t)
    active = f.checked("active")
    try:
        owner = team.set_owner_active(ctx.engine, ctx.workspace_id, owner_id, active=active,
                                      actor=ctx.user.email)
    except team.TeamError:
        raise missing(ctx, "owner") from None
    message = ctx.t("%(name)s receives new accounts again.", name=owner.name) if active else \
        ctx.t("%(name)s no longer receives new accounts (and keeps theirs).", name=owner.name)
    return ctx.redirect("/settings/team#owners", flash=str(message))


def _rule_error(ctx: Ctx, message: str) -> tuple[str, str]:
    field = message.partition(":")[0].strip()
    return {
        "kind": ("kind", ctx.t("Unknown kind of rule.")),
        "owner/team": ("owner_id", ctx.t("Choose an owner, or a team (not both).")),
        "team": ("team", ctx.t("A round robin gives accounts to a team: name the team.")),
        "owner": ("owner_id", ctx.t("This owner does not exist, or belongs to another "
                                    "workspace.")),
        "conditions": ("countries", ctx.t("This kind of rule needs its condition: countries "
                                          "or postcodes for a territory, NAF codes for a "
                                          "sector, the target list for target accounts.")),
    }.get(field, (field if field in ("countries", "postcodes", "naf") else "kind",
                  ctx.t("Invalid value.")))


@router.post("/w/{ws}/settings/team/assignment")
async def add_rule(ctx: CtxDep) -> Response:
    admin(ctx)
    f = Fields(await ctx.request.form(), ctx.t)
    kind = f.choice("kind", ASSIGNMENT_KINDS, "territory")
    conditions: dict[str, Any] = {}
    for key in ("countries", "postcodes", "naf"):
        if values := f.items(key, max_len=1000):
            conditions[key] = values
    if f.checked("target"):
        conditions["target"] = True
    raw_owner = f.text("owner_id", max_len=20)
    owner_id = f.integer("owner_id", low=1, high=2 ** 62) if raw_owner else None
    group = f.text("team", max_len=100)
    if not f.errors:
        try:
            team.add_assignment_rule(ctx.engine, ctx.workspace_id, kind=kind,
                                     conditions=conditions, owner_id=owner_id,
                                     team=group or None, actor=ctx.user.email)
        except team.TeamError:
            f.error("owner_id", str(ctx.t("This owner does not exist, or belongs to another "
                                          "workspace.")))
        except ValueError as exc:
            field, message = _rule_error(ctx, str(exc))
            f.error(field, str(message))
        else:
            return ctx.redirect("/settings/team#assignment",
                                flash=str(ctx.t("Assignment rule added.")))
    return render(ctx, status=400, values=f.values, errors=f.errors)


async def _rule_change(ctx: Ctx, rule_id: int, what: str) -> Response:
    admin(ctx)
    try:
        if what == "remove":
            team.remove_assignment_rule(ctx.engine, ctx.workspace_id, rule_id,
                                        actor=ctx.user.email)
        else:
            team.move_assignment_rule(ctx.engine, ctx.workspace_id, rule_id,
                                      -1 if what == "up" else 1, actor=ctx.user.email)
    except team.TeamError:
        raise missing(ctx, "rule") from None
    return ctx.redirect("/settings/team#assignment", flash=str(
        ctx.t("Assignment rule removed.") if what == "remove" else ctx.t("Order saved.")))


@router.post("/w/{ws}/settings/team/assignment/{rule_id}/up")
async def rule_up(ctx: CtxDep, rule_id: ObjectId) -> Response:
    return await _rule_change(ctx, rule_id, "up")


@router.post("/w/{ws}/settings/team/assignment/{rule_id}/down")
async def rule_down(ctx: CtxDep, rule_id: ObjectId) -> Response:
    return await _rule_change(ctx, rule_id, "down")


@router.post("/w/{ws}/settings/team/assignment/{rule_id}/remove")
async def rule_remove(ctx: CtxDep, rule_id: ObjectId) -> Response:
    return await _rule_change(ctx, rule_id, "remove")

"""Settings › Team: the workspace's members and their roles — add someone (a new
account with a password given or generated and shown once, or an account of the
installation), change a role, remove (never the last admin), tie a sales rep's log-in
to a lifecycle owner.  Admins only.  Also mounts the owners and assignment rules
(``settings_owners``) and the API tokens (``settings_tokens``) of the same page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from webleads import team
from webleads.db.users import ROLES
from webleads.users import UserError, normal_email
from webleads.web.page import Ctx, redirect, workspace_ctx
from webleads.web.pages_auth import user_error
from webleads.web.settings_forms import Fields
from webleads.web.settings_owners import router as owners_router
from webleads.web.settings_tokens import router as tokens_router
from webleads.web.team_view import admin, missing, render

router = APIRouter(include_in_schema=False)
router.include_router(owners_router)
router.include_router(tokens_router)
CtxDep = Annotated[Ctx, Depends(workspace_ctx)]
UserId = Annotated[int, Path(ge=1, le=2 ** 62)]


def _team_error(ctx: Ctx, exc: team.TeamError) -> str:
    return str({
        "already_member": ctx.t("This person is already a member of this workspace."),
        "last_admin": ctx.t("The workspace needs at least one admin: make someone else "
                            "admin first."),
        "invalid_role": ctx.t("Unknown role."),
        "no_owner": ctx.t("This owner does not exist, or belongs to another workspace."),
    }.get(exc.code, ctx.t("Invalid value.")))


@router.get("/w/{ws}/settings/team")
async def team_page(ctx: CtxDep) -> Response:
    admin(ctx)
    return render(ctx)


@router.post("/w/{ws}/settings/team/members")
async def add_member(ctx: CtxDep) -> Response:
    admin(ctx)
    f = Fields(await ctx.request.form(), ctx.t)
    email = f.text("email", max_len=254)
    name = f.text("name", max_len=200)
    role = f.choice("role", ROLES, "marketer")
    password = f.text("password", max_len=1000)
    try:
        normal_email(email)
    except UserError as exc:
        f.error("email", user_error(ctx.t, exc))
    if not f.errors:
        try:
            added = team.add_member(ctx.web.users, ctx.workspace_id, email=email, name=name,
                                    role=role, password=password, actor=ctx.user.email)
        except team.TeamError as exc:
            f.error("email" if exc.field == "email" else "role", _team_error(ctx, exc))
        except UserError as exc:
            f.error(exc.field, user_error(ctx.t, exc))
        else:
            if added.password is not None:
                return render(ctx, once={
                    "kind": "password", "label": added.user.email, "value": added.password})
            flash = ctx.t("%(email)s already had an account on this installation: added to "
                          "this workspace, with their own password.", email=added.user.email) \
                if added.existing else ctx.t("%(email)s added.", email=added.user.email)
            return ctx.redirect("/settings/team", flash=str(flash))
    f.values.pop("password", None)  # never sent back
    return render(ctx, status=400, values=f.values, errors=f.errors)


@router.post("/w/{ws}/settings/team/members/{user_id}/role")
async def change_role(ctx: CtxDep, user_id: UserId) -> Response:
    admin(ctx)
    f = Fields(await ctx.request.form(), ctx.t)
    role = f.choice("role", ROLES, "")
    if f.errors:
        return render(ctx, status=400, errors={f"role-{user_id}": f.errors["role"]})
    try:
        team.change_role(ctx.engine, ctx.workspace_id, user_id, role, actor=ctx.user.email)
    except team.TeamError as exc:
        if exc.code == "not_member":
            raise missing(ctx, "user") from None
        return render(ctx, status=409, errors={f"role-{user_id}": _team_error(ctx, exc)})
    if user_id == ctx.user.id and role != "admin":  # the team page is no longer theirs
        return ctx.redirect("/", flash=str(ctx.t("Role changed.")))
    return ctx.redirect("/settings/team", flash=str(ctx.t("Role changed.")))


@router.post("/w/{ws}/settings/team/members/{user_id}/owner")
async def link_owner(ctx: CtxDep, user_id: UserId) -> Response:
    admin(ctx)
    f = Fields(await ctx.request.form(), ctx.t)
    raw = f.text("owner_id", max_len=20)
    owner_id = f.integer("owner_id", low=1, high=2 ** 62) if raw else None
    if f.errors:
        return render(ctx, status=400, errors={f"owner-{user_id}": f.errors["owner_id"]})
    try:
        team.link_owner(ctx.engine, ctx.workspace_id, user_id, owner_id, actor=ctx.user.email)
    except team.TeamError as exc:
        raise missing(ctx, "user" if exc.code == "not_member" else "owner") from None
    return ctx.redirect("/settings/team", flash=str(ctx.t("Owner link saved.")))


@router.post("/w/{ws}/settings/team/members/{user_id}/remove")
async def remove_member(ctx: CtxDep, user_id: UserId) -> Response:
    admin(ctx)
    try:
        removed = team.remove_member(ctx.engine, ctx.workspace_id, user_id,
                                     actor=ctx.user.email)
    except team.TeamError as exc:
        if exc.code == "not_member":
            raise missing(ctx, "user") from None
        return render(ctx, status=409, errors={f"role-{user_id}": _team_error(ctx, exc)})
    flash = str(ctx.t("%(email)s no longer has access to this workspace.",
                      email=removed.email))
    if user_id == ctx.user.id:
        return redirect(ctx.request, "/?flash=" + quote(flash))
    return ctx.redirect("/settings/team", flash=flash)

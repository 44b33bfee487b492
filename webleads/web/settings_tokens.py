"""Settings › Team: API tokens — create one (shown once), list them (prefix, created,
last used), revoke.  Admins only.  Mounted by ``settings_team``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from webleads import api_tokens
from webleads.web.page import Ctx, workspace_ctx
from webleads.web.settings_forms import Fields
from webleads.web.team_view import admin, missing, render

router = APIRouter(include_in_schema=False)
CtxDep = Annotated[Ctx, Depends(workspace_ctx)]
TokenId = Annotated[int, Path(ge=1, le=2 ** 62)]


@router.post("/w/{ws}/settings/team/tokens")
async def create_token(ctx: CtxDep) -> Response:
    admin(ctx)
    f = Fields(await ctx.request.form(), ctx.t)
    name = f.text("token_name", max_len=api_tokens.MAX_NAME)
    scopes = f.choices("scopes", api_tokens.SCOPES)
    if not name:
        f.error("token_name", str(ctx.t("Give the token a name: what will use it?")))
    if not f.errors:
        try:
            new = api_tokens.create(ctx.engine, workspace_id=ctx.workspace_id,
                                    user_id=ctx.user.id, name=name, scopes=scopes,
                                    actor=ctx.user.email)
        except api_tokens.TokenError as exc:
            f.error("token_name" if exc.field == "name" else "scopes", str({
                "no_name": ctx.t("Give the token a name: what will use it?"),
                "long_name": ctx.t("At most %(n)s characters.", n=api_tokens.MAX_NAME),
                "no_scope": ctx.t("Choose at least one permission."),
            }.get(exc.code, ctx.t("Unknown choice."))))
        else:
            return render(ctx, once={"kind": "token", "label": name, "value": new.token})
    return render(ctx, status=400, values=f.values, errors=f.errors)


@router.post("/w/{ws}/settings/team/tokens/{token_id}/revoke")
async def revoke_token(ctx: CtxDep, token_id: TokenId) -> Response:
    admin(ctx)
    found = api_tokens.find(ctx.engine, ctx.workspace_id, token_id)
    if found is None:
        raise missing(ctx, "token")
    if found.revoked_at is None:
        api_tokens.revoke(ctx.engine, workspace_id=ctx.workspace_id, token_id=token_id,
                          actor=ctx.user.email)
    return ctx.redirect("/settings/team#tokens", flash=str(ctx.t(
        "Token %(name)s revoked: it no longer opens the API.", name=found.name)))

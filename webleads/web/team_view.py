"""The Team settings page, rendered by its three modules (``settings_team``: members;
``settings_owners``: owners and assignment; ``settings_tokens``: API tokens)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from webleads import api_tokens, team
from webleads.api_tokens import SCOPES
from webleads.lifecycle.model import ASSIGNMENT_KINDS
from webleads.web.page import Ctx, HTTPProblem


def admin(ctx: Ctx) -> None:
    """The team, owners, assignment and API tokens: admins only."""
    ctx.require("admin")


def missing(ctx: Ctx, what: str) -> HTTPProblem:
    messages = {
        "user": ctx.t("This person is not a member of this workspace."),
        "owner": ctx.t("This owner does not exist, or belongs to another workspace."),
        "rule": ctx.t("This assignment rule does not exist, or belongs to another workspace."),
        "token": ctx.t("This API token does not exist, or belongs to another workspace."),
    }
    return HTTPProblem(404, str(messages[what]))


def render(ctx: Ctx, *, status: int = 200, values: dict[str, Any] | None = None,
           errors: dict[str, str] | None = None, once: dict[str, str] | None = None
           ) -> Response:
    """The page; ``once``: a password or token to show this one time."""
    ws, engine = ctx.workspace_id, ctx.engine
    owners = team.owners(engine, ws)
    members = team.members(engine, ws)
    listed = {mb.user_id for mb in members}
    return ctx.render(
        "settings_team/team.html", status=status, members=members,
        install_admins=[a for a in team.install_admins(engine) if a[0] not in listed],
        owners=owners, owner_options=[(str(o.id), f"{o.name} ({o.email})") for o in owners],
        owners_by_id={o.id: o for o in owners}, rules=team.assignment_rules(engine, ws),
        tokens=api_tokens.tokens(engine, ws), scopes=SCOPES, kinds=ASSIGNMENT_KINDS,
        values=values if values is not None else {"role": "marketer",
                                                   "owner_language": ctx.t.lang,
                                                   "kind": "territory"},
        errors=errors or {}, once=once)

"""Log-in, log-out, first-run setup, password reset and the language switch."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from webleads.db import users as q
from webleads.users import UserError
from webleads.web.i18n import Translator
from webleads.web.page import (
    Ctx,
    HTTPProblem,
    current_user,
    redirect,
    render,
    translator_for,
    web_of,
    workspace_ctx,
)
from webleads.web.security import LANG_COOKIE, SESSION_COOKIE

router = APIRouter(include_in_schema=False)
log = logging.getLogger("webleads.web.auth")


def _safe_next(value: str | None) -> str:
    """Only paths of this site: never ``//host`` or a scheme (open redirect)."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value[:2000]
    return "/"


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def user_error(t: Translator, exc: UserError) -> str:
    messages = {
        "invalid_email": t("This is not a valid e-mail address."),
        "password_short": t("The password needs at least 10 characters."),
        "password_long": t("The password is too long (1,000 characters at most)."),
        "email_taken": t("A user with this e-mail address already exists."),
        "invalid_role": t("Unknown role."),
        "invalid_locale": t("Unknown language."),
    }
    return str(messages.get(exc.code, exc.code))


@router.get("/")
async def home(request: Request) -> Response:
    web = web_of(request)
    if not web.users.any_user():
        return redirect(request, "/setup")
    user = current_user(request)
    if user is None:
        return redirect(request, "/login")
    memberships = web.users.memberships(user)
    if not memberships:
        t = translator_for(request, user)
        return render(request, "auth/no_workspace.html", t=t, status=200)
    return redirect(request, f"/w/{memberships[0].workspace_id}/accounts")


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    t = translator_for(request)
    return render(request, "auth/login.html", t=t, next=_safe_next(next), error=None, email="")


@router.post("/login")
async def login(request: Request, email: str = Form("", max_length=254),
                password: str = Form("", max_length=1000),
                next: str = Form("/", max_length=2000)) -> Response:
    web = web_of(request)
    t = translator_for(request)
    outcome = web.users.login(email, password, ip=_client_ip(request))
    if outcome.outcome == "ok" and outcome.token:
        response = redirect(request, _safe_next(next))
        response.set_cookie(SESSION_COOKIE, web.signer.session_cookie(outcome.token),
                            httponly=True, samesite="lax", secure=request.url.scheme == "https",
                            max_age=14 * 86400)
        return response
    # For the operator (fail2ban and the like): who and from where, never the password.
    log.info("failed log-in (%s) for %r from %s", outcome.outcome, email[:254],
             _client_ip(request))
    if outcome.outcome == "limited":
        error = t("Too many failed attempts: wait 15 minutes, or reset your password.")
        status = 429
    else:
        error = t("Wrong e-mail address or password.")
        status = 401
    return render(request, "auth/login.html", t=t, status=status, next=_safe_next(next),
                  error=error, email=email)


@router.post("/logout")
async def logout(request: Request) -> Response:
    web = web_of(request)
    token = web.signer.session_token(request.cookies.get(SESSION_COOKIE))
    if token:
        web.users.logout(token)
    response = redirect(request, "/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/setup")
async def setup_page(request: Request) -> Response:
    web = web_of(request)
    if web.users.any_user():
        return redirect(request, "/login")
    return render(request, "auth/setup.html", t=translator_for(request), errors={}, values={})


@router.post("/setup")
async def setup(request: Request, email: str = Form("", max_length=254),
                name: str = Form("", max_length=200), password: str = Form("", max_length=1000),
                workspace: str = Form("", max_length=200)) -> Response:
    """The one-time setup page: the first user becomes install admin."""
    web = web_of(request)
    t = translator_for(request)
    if web.users.any_user():
        raise HTTPProblem(409, str(t("Setup is done already: log in.")))
    errors: dict[str, str] = {}
    if not workspace.strip():
        errors["workspace"] = str(t("Give the workspace a name (your company or client)."))
    if not errors:
        try:
            web.users.create(email, password, name=name, install_admin=True,
                             workspace=workspace.strip(), role="admin", locale=t.lang)
        except UserError as exc:
            errors[exc.field] = user_error(t, exc)
    if errors:
        return render(request, "auth/setup.html", t=t, status=400, errors=errors,
                      values={"email": email, "name": name, "workspace": workspace})
    outcome = web.users.login(email, password, ip=_client_ip(request))
    response = redirect(request, "/")
    if outcome.token:
        response.set_cookie(SESSION_COOKIE, web.signer.session_cookie(outcome.token),
                            httponly=True, samesite="lax", secure=request.url.scheme == "https",
                            max_age=14 * 86400)
    return response


@router.get("/reset")
async def reset_page(request: Request) -> Response:
    return render(request, "auth/reset.html", t=translator_for(request), sent=False)


@router.post("/reset")
async def reset(request: Request, email: str = Form("", max_length=254)) -> Response:
    """Always the same answer, so that nobody learns which addresses have an account."""
    web = web_of(request)
    t = translator_for(request)
    started = web.users.start_reset(email)
    if started is not None:
        user, token = started
        link = f"{str(request.base_url).rstrip('/')}/reset/{quote(token)}"
        _send_reset(request, user.id, user.email, user.locale or t.lang, link)
    return render(request, "auth/reset.html", t=t, sent=True)


def _send_reset(request: Request, user_id: int, email: str, lang: str, link: str) -> None:
    """Through the outbox, like every outward effect (sent by the background worker)."""
    from webleads.outbox.queue import enqueue

    web = web_of(request)
    t = Translator.of(lang)
    now = datetime.now(UTC)
    with web.engine.begin() as conn:
        memberships = q.memberships_of(conn, q.user_by_id(conn, user_id) or _missing())
        workspace_id = memberships[0].workspace_id if memberships else None
        if workspace_id is None:
            return
        enqueue(conn, workspace_id=workspace_id, channel="email", destination=email,
                kind="password_reset",
                payload={"title": str(t("Reset your webleads password")), "url": link,
                         "reasons": [str(t("The link works once, for one hour. If you did "
                                           "not ask for it, ignore this message."))]},
                language="fr" if lang == "fr" else "en",
                idempotency_key=f"reset:{user_id}:{now.timestamp()}", now=now,
                allow_private=web.settings.allow_private_destinations)


def _missing() -> q.User:
    raise HTTPProblem(404)


@router.get("/reset/{token}")
async def reset_token_page(request: Request, token: str) -> Response:
    web = web_of(request)
    t = translator_for(request)
    valid = len(token) < 200 and web.users.reset_valid(token)
    return render(request, "auth/reset_token.html", t=t, status=200 if valid else 410,
                  token=token, valid=valid, error=None)


@router.post("/reset/{token}")
async def reset_token(request: Request, token: str,
                      password: str = Form("", max_length=1000)) -> Response:
    web = web_of(request)
    t = translator_for(request)
    try:
        done = len(token) < 200 and web.users.finish_reset(token, password)
    except UserError as exc:
        return render(request, "auth/reset_token.html", t=t, status=400, token=token,
                      valid=True, error=user_error(t, exc))
    if not done:
        return render(request, "auth/reset_token.html", t=t, status=410, token=token,
                      valid=False, error=None)
    return redirect(request, "/login?flash=" + quote(str(t("Password changed: log in."))))


@router.post("/lang")
async def set_language(request: Request, lang: str = Form("en", max_length=2),
                       next: str = Form("/", max_length=2000)) -> Response:
    """Switch language: remembered on the user when signed in, else in a cookie."""
    chosen = "fr" if lang == "fr" else "en"
    user = current_user(request)
    if user is not None:
        with web_of(request).engine.begin() as conn:
            q.update_user(conn, user.id, locale=chosen)
    response = redirect(request, _safe_next(next))
    response.set_cookie(LANG_COOKIE, chosen, samesite="lax", max_age=365 * 86400)
    return response


@router.get("/switch")
async def switch(request: Request, ws: int) -> Response:
    """The workspace menu (a plain GET form, works without JavaScript)."""
    return redirect(request, f"/w/{ws}/accounts")


@router.get("/w/{ws}")
@router.get("/w/{ws}/")
async def workspace_home(ctx: Annotated[Ctx, Depends(workspace_ctx)]) -> Response:
    return ctx.redirect("/accounts")

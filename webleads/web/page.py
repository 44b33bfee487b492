"""What every dashboard handler stands on: the shared resources (:class:`Web`), the
request's context (:class:`Ctx`: user, workspace, role, language, CSRF token) and
rendering.

Every workspace page lives under ``/w/{ws}/``; :func:`workspace_ctx` answers 404 when
the user is not a member of ``ws`` (the same answer as for an object that does not
exist, so workspaces cannot be probed), and handlers look objects up *within*
``ctx.workspace_id`` only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.engine import Engine

from webleads.db.engine import read_only
from webleads.settings import Settings
from webleads.users import Membership, Role, User, Users
from webleads.web.i18n import Translator, negotiate
from webleads.web.security import CSRF_COOKIE, LANG_COOKIE, SESSION_COOKIE, Signer, new_csrf

if TYPE_CHECKING:
    from webleads.scoring.background import RescoreWorker

HERE = Path(__file__).parent
STATIC = HERE / "static"


class HTTPProblem(Exception):
    """Raised by handlers for an error page: 400, 403, 404, 409, 429 ..."""

    def __init__(self, status: int, detail: str = "") -> None:
        super().__init__(detail or str(status))
        self.status = status
        self.detail = detail


class LoginRequired(Exception):
    """No valid session: browsers go to the log-in page."""


def _static_versions() -> dict[str, str]:
    out = {}
    for path in STATIC.rglob("*"):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            out[path.relative_to(STATIC).as_posix()] = digest
    return out


class Web:
    """The dashboard's resources, built once by create_app."""

    def __init__(self, engine: Engine, settings: Settings, *, users: Users | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.users = users or Users(engine)
        self.signer = Signer(settings.secret_key)
        # The background rescores' worker (webleads serve); None: rescores run in the
        # request that asks for them.
        self.rescores: RescoreWorker | None = None
        self.versions = _static_versions()
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        )
        self.templates.globals["static"] = self.static

    def static(self, name: str) -> str:
        version = self.versions.get(name)
        if version is None:
            raise KeyError(f"no static file {name!r}")
        return f"/static/{name}?v={version}"


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


def translator_for(request: Request, user: User | None = None) -> Translator:
    lang = (user.locale if user and user.locale else None) or request.cookies.get(LANG_COOKIE)
    if lang not in ("en", "fr"):
        lang = negotiate(request.headers.get("accept-language"))
    return Translator.of(lang)


def csrf_for(request: Request) -> str:
    """The request's CSRF token (a new one when the browser has none yet; ``render``
    then sets the cookie)."""
    cached: str | None = getattr(request.state, "csrf", None)
    if cached:
        return cached
    token = web_of(request).signer.csrf_token(request.cookies.get(CSRF_COOKIE)) or new_csrf()
    request.state.csrf = token
    return token


def current_user(request: Request) -> User | None:
    if hasattr(request.state, "user"):
        found: User | None = request.state.user
        return found
    web = web_of(request)
    token = web.signer.session_token(request.cookies.get(SESSION_COOKIE))
    user = web.users.session(token) if token else None
    request.state.user = user
    return user


@dataclass
class Ctx:
    """One request of a signed-in user in one workspace."""

    request: Request
    web: Web
    user: User
    membership: Membership
    memberships: list[Membership]
    t: Translator
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def workspace_id(self) -> int:
        return self.membership.workspace_id

    @property
    def role(self) -> Role:
        return self.membership.role

    @property
    def engine(self) -> Engine:
        return self.web.engine

    def can(self, *roles: Role) -> bool:
        return self.role in roles

    def require(self, *roles: Role) -> None:
        """403 unless the user's role in this workspace is one of ``roles``."""
        if self.role not in roles:
            raise HTTPProblem(403, str(self.t("Your role does not allow this action.")))

    def url(self, path: str = "/") -> str:
        return f"/w/{self.workspace_id}{path}"

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return render(self.request, template, status=status, ctx=self, t=self.t, **values)

    def redirect(self, path: str, *, flash: str | None = None) -> Response:
        """A redirect inside the workspace (303 after a form), or an ``HX-Redirect``
        for htmx requests."""
        target = self.url(path)
        if flash:
            target += ("&" if "?" in target else "?") + "flash=" + quote(flash)
        return redirect(self.request, target)


def redirect(request: Request, target: str) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def render(request: Request, template: str, *, status: int = 200, t: Translator,
           ctx: Ctx | None = None, **values: Any) -> HTMLResponse:
    web = web_of(request)
    csrf = csrf_for(request)
    flash = request.query_params.get("flash")
    html = web.templates.get_template(template).render(
        request=request, ctx=ctx, t=t, _=t.gettext, ngettext=t.ngettext, lang=t.lang,
        csrf=csrf, flash=flash[:300] if flash else None,
        partial=bool(request.headers.get("hx-request")), **values)
    response = HTMLResponse(html, status_code=status)
    response.headers["cache-control"] = "no-store"
    if web.signer.csrf_token(request.cookies.get(CSRF_COOKIE)) != csrf:
        response.set_cookie(CSRF_COOKIE, web.signer.csrf_cookie(csrf), httponly=True,
                            samesite="lax", secure=request.url.scheme == "https")
    return response


def workspace_ctx(request: Request, ws: int) -> Ctx:
    """FastAPI dependency of every ``/w/{ws}/...`` route."""
    user = current_user(request)
    if user is None:
        raise LoginRequired()
    web = web_of(request)
    memberships = web.users.memberships(user)
    chosen = next((m for m in memberships if m.workspace_id == ws), None)
    t = translator_for(request, user)
    if chosen is not None:
        t = Translator.of(t.lang, workspace_timezone(web.engine, ws))
    if chosen is None:
        raise HTTPProblem(404, str(t("This page does not exist, or belongs to a workspace "
                                     "you are not a member of.")))
    return Ctx(request, web, user, chosen, memberships, t)


def workspace_timezone(engine: Engine, ws: int) -> str:
    """Times are shown in the time zone of the workspace's first site."""
    from webleads.db.sites import first_timezone

    with read_only(engine) as conn:
        return first_timezone(conn, ws)


def pick(values: Iterable[str], value: str | None, default: str) -> str:
    """``value`` when it is one of ``values`` (query parameters from a closed list)."""
    allowed = set(values)
    return value if value in allowed else default

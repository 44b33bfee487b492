"""HTTP protections of the dashboard: signed cookies, CSRF tokens, security headers.

CSRF uses the *signed double-submit* pattern: a random token in a signed, HttpOnly
cookie, the same token in every form (``csrf_token``) or in the ``X-CSRF-Token``
header of htmx requests (webleads/web/static/app.js sets it from a meta tag).  An
unsafe request whose token does not match, or whose ``Origin`` names another host,
is refused with 403 before any handler runs.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_COOKIE = "wl_session"
CSRF_COOKIE = "wl_csrf"
LANG_COOKIE = "wl_lang"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


class Signer:
    """Signs cookie values with the installation's secret key."""

    def __init__(self, secret_key: str) -> None:
        self._session = URLSafeSerializer(secret_key, salt="webleads.session")
        self._csrf = URLSafeSerializer(secret_key, salt="webleads.csrf")

    def session_cookie(self, token: str) -> str:
        return str(self._session.dumps(token))

    def session_token(self, cookie: str | None) -> str | None:
        return _loads(self._session, cookie)

    def csrf_cookie(self, token: str) -> str:
        return str(self._csrf.dumps(token))

    def csrf_token(self, cookie: str | None) -> str | None:
        return _loads(self._csrf, cookie)


def _loads(serializer: URLSafeSerializer, value: str | None) -> str | None:
    if not value or len(value) > 500:
        return None
    try:
        loaded = serializer.loads(value)
    except BadSignature:
        return None
    return loaded if isinstance(loaded, str) else None


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


class CsrfError(Exception):
    """An unsafe request without a matching CSRF token or from another origin."""


async def check_csrf(request: Request, signer: Signer) -> None:
    if request.method not in UNSAFE:
        return
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = origin.split("://", 1)[-1]
        if host != request.headers.get("host"):
            raise CsrfError("origin")
    expected = signer.csrf_token(request.cookies.get(CSRF_COOKIE))
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise CsrfError("token")


class SecurityHeaders:
    """Adds the security headers to every dashboard and API response."""

    def __init__(self, app: ASGIApp, *, skip_csp: tuple[str, ...] = ()) -> None:
        self.app = app
        self.skip_csp = skip_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if not path.startswith(self.skip_csp):
                    extra.append((b"content-security-policy", CSP.encode()))
                if https:
                    extra.append((b"strict-transport-security",
                                  b"max-age=31536000; includeSubDomains"))
                if path.startswith("/static/"):
                    extra.append((b"cache-control", b"public, max-age=31536000, immutable"))
                headers.extend((k, v) for k, v in extra if k not in names)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


MAX_BODY = 20 * 1024 * 1024  # the largest import a form sends (a CSV of contacts, costs)


class BodyTooLarge(Exception):
    """A request body beyond ``MAX_BODY`` (answered 413 by the dashboard's handler)."""


class BodyLimit:
    """Refuses request bodies beyond ``max_bytes`` on the dashboard and the API (collect
    has its own, smaller limit): at once from ``Content-Length``, else while reading."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    await _too_large(send, self.max_bytes)
                    return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)


async def _too_large(send: Send, limit: int) -> None:
    body = (b'{"error": "request body too large", "limit_bytes": ' + str(limit).encode()
            + b"}")
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

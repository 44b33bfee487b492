"""``GET /l/{code}`` (short links) and ``GET /r/{token}?u=...`` (tracked e-mail links):
raw ASGI handlers like the hit path.

``/l/``: counts the click and answers 302 to the link's target (the UTM link).  A
malformed or unknown code gets a small 404 page in French and English.

``/r/``: answers 302 to the landing page ``u`` when it is on one of the workspace's
sites (on one of the install's sites when the token is not valid), with the one-time
``wl_t`` of a valid token (tracked.py).  Without a landing page that may be reached,
it answers a small 404 page: it is never an open redirect.

Neither ever answers 5xx: when the click cannot be counted (a busy database), they
still redirect if the target can be read, anonymously for ``/r/``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote

from sqlalchemy.engine import Engine

from webleads.campaigns import links, tracked
from webleads.db import campaigns as db
from webleads.db.engine import read_only

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("webleads.campaigns")

NOT_FOUND = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lien introuvable / Link not found</title></head>
<body style="font-family:sans-serif;max-width:36em;margin:3em auto;padding:0 1em">
<h1>Lien introuvable</h1>
<p>Ce lien court n'existe pas ou a été supprimé. Vérifiez l'adresse.</p>
<h1 lang="en">Link not found</h1>
<p lang="en">This short link does not exist or was removed. Check the address.</p>
</body></html>
""".encode()


URL_SAFE = ":/?#[]@!$&'()*+,;=%~"  # reserved characters and escapes stay as they are
NOT_VALID = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lien non valide / Link not valid</title></head>
<body style="font-family:sans-serif;max-width:36em;margin:3em auto;padding:0 1em">
<h1>Lien non valide</h1>
<p>Ce lien ne mène à aucune page connue. Ouvrez le site directement.</p>
<h1 lang="en">Link not valid</h1>
<p lang="en">This link leads to no known page. Open the website directly.</p>
</body></html>
""".encode()


def _follow(engine: Engine, code: str, now: datetime) -> str | None:
    try:
        with engine.begin() as conn:
            return links.follow(conn, code, now=now)
    except Exception:  # noqa: BLE001 - a click that cannot be counted still redirects
        log.exception("short link %s: the click was not counted", code)
    with read_only(engine) as conn:
        return db.short_link_target(conn, code)


def _look(engine: Engine, code: str) -> str | None:
    with read_only(engine) as conn:
        return db.short_link_target(conn, code)


async def _respond(send: Send, status: int, body: bytes,
                   headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store"),
        (b"referrer-policy", b"no-referrer-when-downgrade"), *headers]})
    await send({"type": "http.response.body", "body": body})


def make_short_link(engine: Engine, *, prefix: str = links.SHORT_PREFIX,
                    clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Handler:
    """The handler of ``GET|HEAD {prefix}{code}`` (HEAD redirects without counting)."""

    async def short_link(scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, b"", [(b"allow", b"GET, HEAD"),
                                            (b"content-type", b"text/plain")])
            return
        path: str = scope.get("path", "")
        code = path[len(prefix):] if path.startswith(prefix) else ""
        target: str | None = None
        if links.CODE.match(code):
            try:
                if method == "GET":
                    target = await asyncio.to_thread(_follow, engine, code, clock())
                else:
                    target = await asyncio.to_thread(_look, engine, code)
            except Exception:  # noqa: BLE001 - never a 5xx: the visitor sees the 404 page
                log.exception("short link %s: lookup failed", code)
        if target is None:
            body = b"" if method == "HEAD" else NOT_FOUND
            await _respond(send, 404, body, [(b"content-type", b"text/html; charset=utf-8")])
            return
        await _respond(send, 302, b"", [(b"location", target.encode("utf-8")),
                                        (b"content-type", b"text/plain")])

    return short_link


def _track(engine: Engine, token: str, target: str | None, secret: str, now: datetime,
           count: bool) -> str | None:
    try:
        with engine.begin() as conn:
            return tracked.follow(conn, token, target, secret=secret, now=now,
                                  count=count).location
    except Exception:  # noqa: BLE001 - a click that cannot be counted still redirects
        log.exception("tracked link: the click was not counted")
    with read_only(engine) as conn:
        return tracked.follow(conn, token, target, secret=secret, now=now,
                              count=False).location


def make_tracked_redirect(engine: Engine, *, secret: str, prefix: str = tracked.PREFIX,
                          clock: Callable[[], datetime] = lambda: datetime.now(UTC)
                          ) -> Handler:
    """The handler of ``GET|HEAD {prefix}{token}?u={landing page}`` (HEAD: no click)."""

    async def tracked_link(scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, b"", [(b"allow", b"GET, HEAD"),
                                            (b"content-type", b"text/plain")])
            return
        path: str = scope.get("path", "")
        token = path[len(prefix):] if path.startswith(prefix) else ""
        try:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"),
                             max_num_fields=20)
        except ValueError:  # too many fields
            query = {}
        target = (query.get("u") or [None])[0]
        location: str | None = None
        if len(token) <= 200 and "/" not in token and (target is None or len(target) <= 4096):
            try:
                location = await asyncio.to_thread(_track, engine, token, target, secret,
                                                   clock(), method == "GET")
            except Exception:  # noqa: BLE001 - never a 5xx: the visitor sees the 404 page
                log.exception("tracked link: lookup failed")
        if location is None:
            body = b"" if method == "HEAD" else NOT_VALID
            await _respond(send, 404, body, [(b"content-type", b"text/html; charset=utf-8")])
            return
        await _respond(send, 302, b"", [(b"location", quote(location, safe=URL_SAFE).encode()),
                                        (b"content-type", b"text/plain")])

    return tracked_link

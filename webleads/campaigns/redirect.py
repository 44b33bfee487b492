"""``GET /l/{code}``: the short-link redirect, a raw ASGI handler like the hit path.

It counts the click and answers 302 to the link's target (the UTM link).  A malformed
or unknown code gets a small 404 page in French and English.  It never answers 5xx:
when the click cannot be counted (a busy database), it still redirects if the target
can be read, and answers the 404 page otherwise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from webleads.campaigns import links
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

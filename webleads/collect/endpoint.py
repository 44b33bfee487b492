"""Raw ASGI handlers of the hit path: POST /api/collect, GET /p.gif, GET /wl.js.

They translate and nothing more: read the body (bounded), call ``Ingest``, write the
response.  No framework sits on this path: a FastAPI route with a pydantic body
costs about six times a bare ASGI route on this kind of machine.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl

import msgspec

from webleads.collect.wire import Rejection
from webleads.ingest import Ingest, Outcome, Request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_json = msgspec.json.Encoder()
GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00"
       b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in scope["headers"]}


def _peer(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


def _messages(status: int, body: bytes, content_type: bytes,
              extra: list[tuple[bytes, bytes]] | None = None) -> tuple[Message, Message]:
    """The two ASGI messages of a response."""
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store")]
    if extra:
        headers += extra
    return ({"type": "http.response.start", "status": status, "headers": headers},
            {"type": "http.response.body", "body": body})


async def _respond(send: Send, status: int, body: bytes, content_type: bytes,
                   extra: list[tuple[bytes, bytes]] | None = None) -> None:
    start, rest = _messages(status, body, content_type, extra)
    await send(start)
    await send(rest)


def _cors(headers: dict[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    origin = headers.get(b"origin")
    if origin is None:
        return []
    return [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]


def _outcome_messages(outcome: Outcome, headers: dict[bytes, bytes]) -> tuple[Message, Message]:
    extra = _cors(headers)
    if outcome.headers:
        extra += [(k.lower().encode(), v.encode()) for k, v in outcome.headers]
    return _messages(outcome.status, _json.encode(outcome.body), b"application/json", extra)


async def _send_outcome(send: Send, outcome: Outcome, headers: dict[bytes, bytes]) -> None:
    start, rest = _outcome_messages(outcome, headers)
    await send(start)
    await send(rest)


async def _read_body(receive: Receive, limit: int, message: Message) -> tuple[bytes, int]:
    """The body and the bytes read, from its first ``message`` on; reading stops past
    ``limit`` (an oversize body is refused from its first ``limit + 1`` bytes, the rest
    is never buffered)."""
    if message["type"] == "http.disconnect":
        return b"", 0
    chunk = message.get("body", b"")
    chunks = [chunk]
    size = len(chunk)
    more = message.get("more_body", False)
    while more and size <= limit:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[: limit + 1], size


Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


def make_collect(ingest: Ingest, max_body: int) -> Handler:
    async def collect(scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        method = scope["method"]
        if method == "OPTIONS":  # CORS preflight of clients that send application/json
            await _respond(send, 204, b"", b"text/plain", _cors(headers) + [
                (b"access-control-allow-methods", b"POST"),
                (b"access-control-allow-headers", b"content-type, authorization"),
                (b"access-control-max-age", b"86400")])
            return
        if method != "POST":
            body = _json.encode({"error": "method_not_allowed", "detail": "use POST"})
            await _respond(send, 405, body, b"application/json", [(b"allow", b"POST, OPTIONS")])
            return
        declared = headers.get(b"content-length", b"")
        length = int(declared) if declared.isdigit() else None
        message = await receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            # The usual case, read here: one coroutine less per request.
            body = message.get("body", b"")
            read = len(body)
            body = body[: max_body + 1]
        else:
            body, read = await _read_body(receive, max_body, message)
        req = Request(body=body, headers=headers, peer=_peer(scope),
                      size=length if length is not None else read)
        if read > max_body or (length is not None and length > max_body):
            outcome = await ingest.reject(req, Rejection(
                413, "body_too_large", f"the body exceeds {max_body} bytes"))
        else:
            outcome = await ingest.collect(req)
        # The messages are built here and sent from here: two coroutines less per request.
        start, rest = _outcome_messages(outcome, headers)
        await send(start)
        await send(rest)

    return collect


def make_pixel(ingest: Ingest) -> Handler:
    """GET /p.gif?site=KEY[&url=&r=&t=]: a page view without JavaScript.

    The page URL defaults to the Referer header (what a <noscript> image sends).
    The query is turned into the same JSON a tag sends and validated the same way.
    """

    async def pixel(scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                               keep_blank_values=True))
        url = query.get("url") or headers.get(b"referer", b"").decode("latin-1")
        hit = {"site": query.get("site", ""), "type": "pageview", "url": url,
               "referrer": query.get("r", ""), "title": query.get("t", "")}
        req = Request(body=_json.encode(hit), headers={**headers, b"content-type": b""},
                      peer=_peer(scope), endpoint="pixel")
        outcome = await ingest.collect(req)
        if outcome.status == 202:
            await _respond(send, 200, GIF, b"image/gif")
        else:
            await _send_outcome(send, outcome, headers)

    return pixel


def make_tag() -> Handler:
    """GET /wl.js: the readable tag, gzipped when the browser accepts it."""
    raw = resources.files("webleads.collect").joinpath("static/wl.js").read_bytes()
    packed = gzip.compress(raw, 9, mtime=0)
    etag = b'"' + hashlib.sha256(raw).hexdigest()[:16].encode() + b'"'

    async def tag(scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        common = [(b"content-type", b"application/javascript; charset=utf-8"),
                  (b"cache-control", b"public, max-age=3600"), (b"etag", etag),
                  (b"vary", b"Accept-Encoding"),
                  (b"access-control-allow-origin", b"*")]
        if headers.get(b"if-none-match") == etag:
            await send({"type": "http.response.start", "status": 304, "headers": common})
            await send({"type": "http.response.body", "body": b""})
            return
        body = raw
        if b"gzip" in headers.get(b"accept-encoding", b""):
            body = packed
            common.append((b"content-encoding", b"gzip"))
        common.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": common})
        await send({"type": "http.response.body",
                    "body": b"" if scope["method"] == "HEAD" else body})

    return tag

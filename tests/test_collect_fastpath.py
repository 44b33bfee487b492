"""The collect path's shortcuts (taken for speed) give what the general forms give.

In-process: the real handler, ``Ingest`` and pipeline; only the writer (storage) and
the site book (a database read) are replaced at the edge.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from webleads.collect.client_ip import client_ip, make_client_ip
from webleads.collect.endpoint import _headers, make_collect
from webleads.collect.wire import _URL, Rejection, _is_http_url, hit_time
from webleads.enrich.pipeline import build_pipeline
from webleads.ingest import Ingest, Outcome, Request
from webleads.metrics import Metrics
from webleads.model import Hit, Site
from webleads.networks.resolver import NullResolver

SITE = Site(id=1, workspace_id=1, key="wl_fastpath_site", name="Shop", domain="shop.example")
ORIGIN = b"https://www.shop.example"
CHROME = (b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          b"Chrome/131.0.0.0 Safari/537.36")
PROXIES = (ipaddress.ip_network("127.0.0.1/32"),)


class Sites:
    def get(self, key: str) -> Site | None:
        return SITE if key == SITE.key else None


class Writer:
    """Acknowledges at once and keeps what it was given."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.quarantine: list[dict[str, Any]] = []

    def submit(self, hits: list[Hit], drops: Any = None, quarantine: Any = None
               ) -> asyncio.Future[None]:
        self.hits += hits
        self.quarantine += quarantine or []
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def handler(writer: Writer, max_body: int = 65536) -> Any:
    pipeline = build_pipeline(resolver=NullResolver(), salt_for=lambda day: b"s" * 32,
                              secret_key="fastpath-secret")
    ingest = Ingest(sites=Sites(), pipeline=pipeline, writer=writer,  # type: ignore[arg-type]
                    metrics=Metrics(), trusted_proxies=PROXIES)
    return make_collect(ingest, max_body)


def call(app: Any, messages: list[dict[str, Any]], headers: list[tuple[bytes, bytes]]
         ) -> tuple[dict[str, Any], dict[str, Any]]:
    scope = {"type": "http", "method": "POST", "path": "/api/collect",
             "client": ("127.0.0.1", 50000), "headers": headers}
    inbox = list(messages)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, body = sent
    return start, body


def hit_body(**fields: Any) -> bytes:
    return json.dumps({"site": SITE.key, "type": "pageview",
                       "url": "https://www.shop.example/pricing", **fields}).encode()


def browser_headers(body: bytes, **extra: bytes) -> list[tuple[bytes, bytes]]:
    headers = {b"content-type": b"text/plain;charset=UTF-8", b"user-agent": CHROME,
               b"origin": ORIGIN, b"x-forwarded-for": b"198.51.100.7",
               b"content-length": str(len(body)).encode()}
    headers.update({k.replace("_", "-").encode(): v for k, v in extra.items()})
    return list(headers.items())


# ------------------------------------------------------------------ header names


@pytest.mark.parametrize("raw", [
    [(b"content-type", b"text/plain"), (b"origin", b"https://a.example")],
    [(b"Content-Type", b"text/plain"), (b"ORIGIN", b"https://a.example")],
    [(b"origin", b"https://first.example"), (b"Origin", b"https://last.example")],
    [(b"origin", b"https://first.example"), (b"origin", b"https://last.example")],
    [(b"x-1", b"digits only"), (b"DNT", b"1")],
    [],
])
def test_header_names_are_lower_case_whatever_the_server_sends(
        raw: list[tuple[bytes, bytes]]) -> None:
    assert _headers({"headers": raw}) == {k.lower(): v for k, v in raw}


def test_a_capitalised_origin_header_still_gets_its_cors_answer() -> None:
    writer = Writer()
    body = hit_body()
    headers = [(k.title(), v) for k, v in browser_headers(body)]
    start, _ = call(handler(writer), [{"type": "http.request", "body": body}], headers)
    assert start["status"] == 202
    assert (b"access-control-allow-origin", ORIGIN) in start["headers"]


# ------------------------------------------------------------------ page URLs


def test_the_url_shortcut_agrees_with_the_regex() -> None:
    cases = ["https://x", "https://", "http://", "https:///", "http:///x", "https://?a",
             "https://#x", "https:// x", "https://\u2003x", "https://\x1cx", "HTTPS://x",
             "Http://x", "httpſ://x", "http://x/y", "ftp://x", "https:x", "https://é",
             "https://[::1]", "http://:80"]
    rng = random.Random(7)
    alphabet = "hts:/p?#x \tſHTPS\u2003é["
    for _ in range(20_000):
        cases.append(rng.choice(["http://", "https://", ""])
                     + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5))))
    for url in cases:
        assert _is_http_url(url) == (_URL.match(url) is not None), url


# ------------------------------------------------------------------ client address


@pytest.mark.parametrize("peer, xff, fwd", [
    ("127.0.0.1", b"198.51.100.7", None),
    ("127.0.0.1", b" 198.51.100.7 ", None),
    ("127.0.0.1", b"198.51.100.7\x00", None),
    ("127.0.0.1", b"garbage", None),
    ("127.0.0.1", b"1.1.1.1, 198.51.100.7, 127.0.0.1", None),
    ("127.0.0.1", b"203.0.113.9", b"for=198.51.100.7"),
    ("127.0.0.1", b"", b""),
    ("127.0.0.1", b"10.0.0.1, " * 40 + b"198.51.100.7", None),  # too long to be cached
    ("127.0.0.1", None, b"for=10.0.0.1, " * 30 + b"for=198.51.100.7"),
    ("203.0.113.5", b"198.51.100.7", None),
    ("203.0.113.5\x00", None, None),
    ("::ffff:127.0.0.1", b"198.51.100.7", None),
    ("2001:db8::1", None, None),
    (None, b"198.51.100.7", None),
])
def test_the_cached_client_address_is_client_ip(peer: str | None, xff: bytes | None,
                                                fwd: bytes | None) -> None:
    headers = {k: v for k, v in ((b"x-forwarded-for", xff), (b"forwarded", fwd)) if v is not None}
    expected = client_ip(peer, headers, PROXIES)
    cached = make_client_ip(PROXIES)
    assert cached(peer, xff, fwd) == expected
    assert cached(peer, xff, fwd) == expected  # and again, from the cache


# ------------------------------------------------------------------ the request


@pytest.mark.parametrize("content_type, status", [
    (b"text/plain;charset=UTF-8", 202),
    (b"application/json", 202),
    (b"", 202),
    (b"TEXT/PLAIN ; charset=latin-1", 202),  # not a usual spelling: parsed, still accepted
    (b"application/JSON;charset=utf-8", 202),
    (b"text/html", 415),
    (b"text/plain-ish", 415),
])
def test_content_types(content_type: bytes, status: int) -> None:
    body = hit_body()
    start, _ = call(handler(Writer()), [{"type": "http.request", "body": body}],
                    browser_headers(body, content_type=content_type))
    assert start["status"] == status


def test_the_answer_to_a_hit_is_exactly_this() -> None:
    writer = Writer()
    body = hit_body(visitor="abcdefgh1234")
    start, rest = call(handler(writer), [{"type": "http.request", "body": body}],
                       browser_headers(body))
    assert start == {"type": "http.response.start", "status": 202, "headers": [
        (b"content-type", b"application/json"), (b"content-length", b"26"),
        (b"cache-control", b"no-store"), (b"access-control-allow-origin", ORIGIN),
        (b"vary", b"Origin")]}
    assert rest == {"type": "http.response.body", "body": b'{"accepted":1,"dropped":0}'}
    [hit] = writer.hits
    # the trusted proxy's address was used for every IP step, then let go
    assert hit.client.ip is None and hit.client.ip_anon == "198.51.100.0"
    assert hit.client.visitor_key == "abcdefgh1234" and hit.client.browser == "Chrome"
    assert hit.source_class == "direct" and hit.received_at.tzinfo is not None


def test_a_body_sent_in_several_messages_is_read_whole() -> None:
    writer = Writer()
    body = hit_body(title="x" * 300)
    parts = [body[:10], body[10:200], body[200:]]
    messages = [{"type": "http.request", "body": p, "more_body": i < 2}
                for i, p in enumerate(parts)]
    start, _ = call(handler(writer), messages, browser_headers(body))
    assert start["status"] == 202 and writer.hits[0].title == "x" * 300


def test_an_oversize_body_in_several_messages_is_refused_from_its_start() -> None:
    writer = Writer()
    body = hit_body(title="x" * 300)
    messages = [{"type": "http.request", "body": body[i:i + 50], "more_body": True}
                for i in range(0, len(body), 50)]
    headers = [(k, v) for k, v in browser_headers(body) if k != b"content-length"]
    start, rest = call(handler(writer, max_body=120), messages, headers)
    assert start["status"] == 413 and b"body_too_large" in rest["body"]
    assert len(writer.quarantine[0]["payload"]) == 121 and not writer.hits


@pytest.mark.parametrize("messages", [
    [{"type": "http.disconnect"}],
    [{"type": "http.request", "body": b"", "more_body": False}],
])
def test_no_body_is_invalid_json(messages: list[dict[str, Any]]) -> None:
    start, rest = call(handler(Writer()), messages, browser_headers(b""))
    assert start["status"] == 400 and b"invalid_json" in rest["body"]


def test_request_and_outcome_stay_immutable() -> None:
    req = Request(body=b"{}", headers={}, peer=None)
    outcome = Outcome(202, {"accepted": 1})
    with pytest.raises(AttributeError):
        req.body = b"[]"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        outcome.status = 500  # type: ignore[misc]
    assert req.received.tzinfo is UTC and req.endpoint == "collect" and req.size is None
    assert msgspec.structs.replace(outcome, status=400).headers == ()


# ------------------------------------------------------------------ hit times


NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


@pytest.mark.parametrize("ts, trusted, expected", [
    (ms(NOW - timedelta(hours=1)), False, NOW - timedelta(hours=1)),  # a queued hit
    (ms(NOW - timedelta(hours=1, milliseconds=1)), False, NOW),  # too old: receive time
    (ms(NOW + timedelta(milliseconds=1)), False, NOW),  # ahead: receive time
    (ms(NOW - timedelta(days=400)), True, NOW - timedelta(days=400)),
    (ms(NOW + timedelta(minutes=5)), True, NOW + timedelta(minutes=5)),
    (ms(NOW - timedelta(days=400, milliseconds=1)), True, None),  # refused
    (ms(NOW + timedelta(minutes=5, milliseconds=1)), True, None),
])
def test_hit_time_bounds(ts: int, trusted: bool, expected: datetime | None) -> None:
    result = hit_time(ts, NOW, trusted=trusted)
    if expected is None:
        assert isinstance(result, Rejection) and result.reason == "ts_out_of_range"
    else:
        assert result == expected


# ------------------------------------------------------------------ addresses in the steps


ADDRESSES = ["198.51.100.7", "10.1.2.3", "0.0.0.0", "255.255.255.255", "01.2.3.4", "1.2.3",
             "256.1.1.1", "1.2.3.4 ", "", "garbage", "2001:db8::7", "::1", "::ffff:10.0.0.1",
             "::10.0.0.1", "fe80::1%eth0", "2001:DB8:0:0::1", "1::2::3", "::1.2.3.04"]


def reference_value(ip: str) -> tuple[int, int] | None:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return addr.version, int(addr)


def reference_truncate(ip: str) -> str | None:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if addr.version == 4:
        return str(ipaddress.IPv4Address(int(addr) & 0xFFFFFF00))
    return str(ipaddress.IPv6Address(int(addr) & ~((1 << 80) - 1)))


@pytest.mark.parametrize("ip", ADDRESSES)
def test_addresses_are_read_as_ipaddress_reads_them(ip: str) -> None:
    from webleads.enrich.anonymise import truncate_ip
    from webleads.networks.resolver import ip_value

    assert ip_value(ip) == reference_value(ip)
    assert truncate_ip(ip) == reference_truncate(ip)


@pytest.mark.parametrize("ip", ADDRESSES)
def test_ignored_networks_drop_what_ipaddress_says_they_hold(ip: str) -> None:
    from webleads.enrich.consent import drop_ignored_network
    from webleads.model import Client, Drop

    site = Site(id=2, workspace_id=1, key="k2", name="n", domain="d.example",
                ignored_networks=("10.0.0.0/8", "198.51.100.0/24", "fe80::/10", "::1/128"))
    expected = reference_value(ip) is not None and any(
        ipaddress.ip_address(ip) in net for net in site.ignored_nets)
    result = drop_ignored_network(Client(site=site, ip=ip, user_agent="x"))
    assert isinstance(result, Drop) == expected

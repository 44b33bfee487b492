"""Property-based fuzzing of POST /api/collect and GET /p.gif over real HTTP.

One real server per engine (SQLite and PostgreSQL) for the whole module, with a
small body limit (8 KiB) and a small quarantine cap (1 KiB) so that examples stay
fast and both limits are crossed often.  Each example sends one request and
compares the database before and after it:

* never a 5xx;
* every 4xx JSON body names an ``error`` from ``wire.RejectReason`` and a ``detail``;
* every 4xx of the hit path (but 405) adds exactly one quarantine row with the same
  reason and status, holding the body capped at ``quarantine_max_payload``;
* every 2xx is matched by stored hits and drop counts (``accepted``, ``dropped``);
* a well-formed batch sent with acceptable headers is accepted.

Examples are random on purpose (no ``derandomize``, a fresh seed each run); a failure
prints the run's seed and a ``@reproduce_failure`` blob to replay it.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, get_args
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, note, seed, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from tests.conftest import ENGINES, serve_in_thread
from webleads.app import create_app
from webleads.collect.wire import MAX_HITS, RejectReason
from webleads.db.engine import create_engine, read_only
from webleads.db.migrate import upgrade
from webleads.db.schema import drops, hits, quarantine
from webleads.model import HIT_TYPES
from webleads.settings import Settings
from webleads.sites import create_site

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

MAX_BODY = 8192
CAP = 1024  # quarantine_max_payload
REASONS = frozenset(get_args(RejectReason))
STATUS_OF: dict[str, int] = {
    "invalid_json": 400, "invalid_field": 400, "missing_field": 400, "empty_batch": 400,
    "too_many_hits": 413, "mixed_sites": 400, "body_too_large": 413,
    "unsupported_media_type": 415, "unknown_site": 400, "origin_not_allowed": 403,
    "bad_secret": 401, "ts_out_of_range": 400, "method_not_allowed": 405, "unstorable": 422,
}
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")

FUZZ = settings(deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# A new seed for every run (exploring is the point), printed with any failure: replay
# that run with WEBLEADS_FUZZ_SEED=<number>.  CI (CI=true) uses a fixed seed, so that a
# submission is never refused for a bug that a lucky draw found in code it did not
# touch; developers' runs keep exploring.
SEED = int(os.environ.get("WEBLEADS_FUZZ_SEED")
           or (20261122 if os.environ.get("CI") == "true"
               else random.SystemRandom().randrange(2**64)))


def test_status_table_covers_every_reason() -> None:
    assert set(STATUS_OF) == REASONS


# --------------------------------------------------------------------------- server


@dataclass(frozen=True)
class Target:
    engine: Engine
    client: httpx.Client
    key: str  # the site that allows http://127.0.0.1 and example.com
    other: str  # a second site, for mixed batches
    secret: str  # the first site's secret


@pytest.fixture(scope="module", params=ENGINES)
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Target]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'webleads.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database(
            "fuzz_" + uuid.uuid4().hex[:12])
    config = Settings(database_url=url, secret_key="fuzz-secret", sqlite_synchronous="NORMAL",
                      collect_max_body=MAX_BODY, quarantine_max_payload=CAP)
    engine = create_engine(url, sqlite_synchronous="NORMAL")
    upgrade(engine)
    made = create_site(engine, "Fuzz", "example.com", origins=["http://127.0.0.1"])
    other = create_site(engine, "Other", "other.example.net")
    server = serve_in_thread(create_app(config, engine=engine))
    try:
        with httpx.Client(base_url=server.url, timeout=20) as client:
            yield Target(engine, client, made.site.key, other.site.key, made.secret)
    finally:
        server.stop()
        engine.dispose()


@dataclass(frozen=True)
class Counts:
    hits: int
    dropped: int
    quarantined: int
    last_quarantine: int


def counts(engine: Engine) -> Counts:
    with read_only(engine) as conn, conn.begin():
        n_hits = conn.scalar(sa.select(sa.func.count()).select_from(hits))
        dropped = conn.scalar(sa.select(sa.func.coalesce(sa.func.sum(drops.c["count"]), 0)))
        n_quarantined, last = conn.execute(sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.max(quarantine.c.id), 0))).one()
    return Counts(int(n_hits or 0), int(dropped or 0), int(n_quarantined), int(last))


def new_quarantine_rows(engine: Engine, after_id: int) -> list[Any]:
    with read_only(engine) as conn, conn.begin():
        return list(conn.execute(sa.select(quarantine).where(quarantine.c.id > after_id)
                                 .order_by(quarantine.c.id)))


def error_of(r: httpx.Response) -> str:
    """The ``error`` of a JSON answer, for the statistics of a run."""
    if not r.content or not r.headers.get("content-type", "").startswith("application/json"):
        return ""
    return str(r.json().get("error", ""))


def describe(r: httpx.Response) -> str:
    return f"{r.request.method} {r.request.url} -> {r.status_code} {r.text[:300]!r}"


def check_outcome(t: Target, r: httpx.Response, before: Counts, *, endpoint: str,
                  payload: bytes | None, size: int | None = None,
                  content_type: str | bytes | None = None) -> None:
    """The invariants every response of the hit path keeps (see the module docstring).

    ``payload``: what the quarantine must hold for a 4xx (already capped), None to
    skip that comparison; ``size`` and ``content_type`` (the request header), likewise.
    """
    status = r.status_code
    info = describe(r)
    assert status < 500, info
    after = counts(t.engine)
    head = r.request.method == "HEAD"
    if status in (200, 202):  # 200: the pixel's GIF
        assert after.quarantined == before.quarantined, info
        stored = after.hits - before.hits
        dropped = after.dropped - before.dropped
        if status == 202:
            assert endpoint == "collect", info
            body = r.json()
            assert set(body) == {"accepted", "dropped"}, info
            assert (stored, dropped) == (body["accepted"], body["dropped"]), info
            assert body["accepted"] + body["dropped"] >= 1, info
        else:
            assert endpoint == "pixel", info
            assert r.headers["content-type"] == "image/gif", info
            assert stored + dropped == 1, info
        return
    assert (after.hits, after.dropped) == (before.hits, before.dropped), info
    if status == 204:  # CORS preflight
        assert r.request.method == "OPTIONS" and endpoint == "collect", info
        assert after.quarantined == before.quarantined, info
        return
    assert 400 <= status < 500, info
    reason = None
    if not head:
        assert r.headers["content-type"].startswith("application/json"), info
        body = r.json()
        assert isinstance(body, dict), info
        reason = body.get("error")
        assert reason in REASONS, info
        assert isinstance(body.get("detail"), str) and body["detail"], info
        assert STATUS_OF[reason] == status, info
        assert isinstance(body.get("field", ""), str), info
    if status == 405:
        assert endpoint == "collect" and r.request.method not in ("POST", "OPTIONS"), info
        assert reason in (None, "method_not_allowed"), info
        assert after.quarantined == before.quarantined, info
        return
    assert after.quarantined == before.quarantined + 1, info
    [row] = new_quarantine_rows(t.engine, before.last_quarantine)
    assert row.endpoint == endpoint and row.status == status, info
    if reason is not None:
        assert row.reason == reason, info
    assert STATUS_OF[row.reason] == status, info
    assert len(row.payload) <= CAP, info
    if payload is not None:
        assert row.payload == payload, info
    if size is not None:
        assert row.size == size, info
    if content_type is not None:
        text = content_type.decode("latin-1") if isinstance(content_type, bytes) else content_type
        assert row.content_type == (text[:200] or None), info


# --------------------------------------------------------------------------- strategies


class Raw(str):
    """A JSON fragment written into a body as is (invalid escapes, deep nesting...)."""


def encode(value: Any) -> bytes:
    fragments: list[str] = []

    def mark(v: Any) -> Any:
        if isinstance(v, Raw):
            fragments.append(str(v))
            return f"\x00raw{len(fragments) - 1}\x00"
        if isinstance(v, dict):
            return {k: mark(x) for k, x in v.items()}
        if isinstance(v, list):
            return [mark(x) for x in v]
        return v

    text = json.dumps(mark(value))
    for i, fragment in enumerate(fragments):
        text = text.replace(json.dumps(f"\x00raw{i}\x00"), fragment)
    return text.encode()


# Any character a valid hit may carry: everything but NUL and lone surrogates.
CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
SAFE_TEXT = st.text(CHARS, max_size=30)
HOSTS = st.sampled_from(["example.com", "www.example.com", "Shop.Example.com:8443",
                         "127.0.0.1", "xn--bcher-kva.example", "[2001:db8::1]", "a"])
PATHS = st.text(st.characters(codec="ascii", exclude_characters="#?\x00 \t\r\n\x0b\x0c"),
                max_size=30)
# Query values may hold anything once percent-decoded, NUL included.
ANY_CHAR = st.characters(codec="utf-8")
QUERIES = st.lists(st.tuples(
    st.sampled_from(["utm_source", "utm_medium", "utm_campaign", "utm_term", "gclid",
                     "fbclid", "q", "UTM_Source", ""]),
    st.one_of(st.text(ANY_CHAR, max_size=30), st.text(ANY_CHAR, min_size=150, max_size=250)),
), max_size=4).map(lambda pairs: ("?" + urlencode(pairs)) if pairs else "")
URLS = st.builds(lambda scheme, host, path, query: f"{scheme}://{host}/{path}{query}",
                 st.sampled_from(["http", "https", "HTTPS"]), HOSTS, PATHS, QUERIES,
                 ).filter(lambda url: len(url) <= 4096)  # percent-encoding grows long values
VISITORS = st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True)
EMAILS = st.one_of(
    st.from_regex(r"[a-zA-Z0-9._%+-]{1,20}@[a-z0-9-]{1,20}\.[a-z]{2,6}", fullmatch=True),
    st.sampled_from(["  Jane.Doe@ACME.fr ", "jöhn@exämple.com".replace("ä", "a"),
                     "İİ@example.com"]),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.text(CHARS, max_size=40))
PROPS = st.dictionaries(st.text(CHARS, max_size=20),
                        SCALARS, max_size=5)


def recent_ts() -> st.SearchStrategy[int | str]:
    """A ts accepted even from a server (at most 300 days old), as epoch ms or ISO."""
    def make(back: float, iso: bool, zone: str) -> int | str:
        when = datetime.now(UTC) - timedelta(seconds=back)
        if iso:
            return when.isoformat().replace("+00:00", zone)
        return int(when.timestamp() * 1000)
    return st.builds(make, st.floats(0, 300 * 86400), st.booleans(),
                     st.sampled_from(["Z", "+00:00", ""]))


@st.composite
def valid_hits(draw: st.DrawFn, site: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(HIT_TYPES))
    hit: dict[str, Any] = {"site": site, "type": kind}
    if kind == "pageview" or draw(st.booleans()):
        hit["url"] = draw(URLS)
    if kind == "event" or draw(st.integers(0, 4)) == 0:
        hit["name"] = draw(SAFE_TEXT.filter(bool))
    if kind == "engagement" or draw(st.integers(0, 4)) == 0:
        hit["engaged_ms"] = draw(st.integers(0, 86_400_000))
    if kind == "identify" or (kind == "form" and draw(st.booleans())):
        hit["email"] = draw(EMAILS)
    optional = {"referrer": st.one_of(URLS, SAFE_TEXT), "title": SAFE_TEXT, "props": PROPS,
                "traits": PROPS, "visitor": VISITORS, "ts": recent_ts()}
    for name, strategy in optional.items():
        if draw(st.integers(0, 3)) == 0:
            hit[name] = draw(strategy)
    return hit


BAD_FRAGMENTS = [
    r'"\ud800"', r'"a\udc00b"', r'"\udfff\ud800"', r'"\u0000"', r'"x\u0000"',
    r'"\uD83D\uDE00"', "1e400", "-1e400", "1" + "0" * 400, "18446744073709551616",
    "-9223372036854775809", "-0", "1.5e-400", "NaN", "Infinity", "[1,]", "{", '"\\x41"',
]
BAD_VALUES = st.one_of(
    st.integers(-(2**80), 2**80), st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), st.none(), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.text(max_size=50),
    st.text(max_size=20).map(lambda s: s + "\x00"),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "é", "\U0001f600", " "]),
              st.integers(50, 5000)),
    st.sampled_from(BAD_FRAGMENTS).map(Raw),
    st.builds(lambda n: Raw("[" * n + "]" * n), st.integers(1, 3000)),
    st.builds(lambda n: Raw('{"a":' * n + "1" + "}" * n), st.integers(1, 1500)),
    st.sampled_from([
        "", " ", "javascript:alert(1)", "http://", "https://[::1", "ftp://example.com/",
        "not-an-email", "a@b", "@example.com", "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00", "2026-13-45T00:00:00Z", "1970-01-01T00:00:00Z",
        "::1", "fe80::1%eth0", "999.1.1.1", "teleport", "PAGEVIEW", "wl_nope",
    ]),
    URLS, EMAILS, VISITORS, PROPS,
)
FIELDS = ["site", "type", "url", "referrer", "title", "name", "props", "engaged_ms", "email",
          "traits", "visitor", "ts", "ip", "user_agent", "unknown_field"]


@st.composite
def hit_bodies(draw: st.DrawFn, t: Target) -> tuple[bytes, int | None]:
    """(body, expected hit count when the body is a well-formed batch, else None)."""
    shape = draw(st.sampled_from(["one", "one", "list", "list", "list", "many", "empty"]))
    if shape == "one":
        batch = [draw(valid_hits(t.key))]
    elif shape == "list":
        batch = draw(st.lists(valid_hits(t.key), min_size=1, max_size=6))
    elif shape == "empty":
        batch = []
    else:  # around MAX_HITS, small hits so that the body fits
        n = draw(st.integers(MAX_HITS - 5, 120))
        batch = [{"site": t.key, "type": "event", "name": f"e{i}"} for i in range(n)]
    well_formed = True
    if batch and draw(st.booleans()):  # one field of one hit mutated
        hit = batch[draw(st.integers(0, len(batch) - 1))]
        name = draw(st.sampled_from(FIELDS))
        if draw(st.integers(0, 4)) == 0:
            hit.pop(name, None)
        else:
            hit[name] = draw(BAD_VALUES)
        well_formed = False
    if len(batch) > 1 and draw(st.integers(0, 5)) == 0:
        batch[draw(st.integers(1, len(batch) - 1))]["site"] = t.other
        well_formed = False
    body = encode(batch[0] if shape == "one" else batch)
    pad = draw(st.sampled_from(["none", "none", "none", "to_limit", "over_limit", "some"]))
    room = MAX_BODY - len(body)
    if pad == "to_limit" and room > 0:
        body = b" " * room + body
    elif pad == "over_limit":
        body = body + b" " * max(room + 1, 0)
    elif pad == "some":
        body = body + b"\n" * draw(st.integers(0, 3000))
    return body, len(batch) if well_formed else None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=5),
    max_leaves=30,
)

# Header values h11 can send: visible ASCII and obs-text, no leading/trailing blanks.
GARBAGE = st.binary(max_size=300).map(
    lambda b: bytes(c for c in b if c == 9 or 32 <= c < 127 or c >= 128).strip(b" \t"))

GOOD_TYPES = [None, "text/plain", "text/plain;charset=UTF-8", "application/json",
              "Application/JSON; charset=utf-8", "text/plain ;x=1"]
BAD_TYPES = ["multipart/form-data; boundary=x", "application/csp-report",
             "application/x-www-form-urlencoded", "text/html", "image/gif",
             "application/jsonx", "json", "*/*"]
GOOD_ORIGINS = [None, "http://127.0.0.1", "https://example.com", "https://www.example.com:8443",
                "HTTP://EXAMPLE.COM"]
BAD_ORIGINS = ["https://evil.example.org", "null", "http://[::1", "https://example.com.evil.org",
               "", "http://127.0.0.1:1", "https://[", "file://", "http://x:99999"]
GOOD_REFERERS = [None, "https://example.com/page?x=1", "http://127.0.0.1/x",
                 "https://shop.example.com/"]
BAD_REFERERS = ["https://evil.example.org/", "http://[::1/", "http://[/", "nonsense", "",
                "//example.com/"]
USER_AGENTS = st.one_of(
    st.just(CHROME), st.just(CHROME),
    st.sampled_from([
        "", "-", "curl/8.0", "python-httpx/0.28.1", "Mozilla/5.0", "Googlebot/2.1",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    ]),
    # Any version length: the stored one is cut to the column (browser_version).
    st.builds(lambda major, minor: CHROME.replace("131.0", f"{major}.{minor}"),
              st.integers(0, 10**40), st.integers(0, 10**40)),
    GARBAGE,
)


@st.composite
def header_sets(draw: st.DrawFn, t: Target, *, pixel: bool = False
                ) -> tuple[dict[str, str | bytes], bool]:
    """(headers, whether a well-formed batch must be accepted with them)."""
    headers: dict[str, str | bytes] = {}
    good = True

    def pick(name: str, good_values: list[str | None], bad_values: list[str]) -> None:
        nonlocal good
        choice = draw(st.integers(0, 19))
        value: str | bytes | None
        if choice < 16:
            value = draw(st.sampled_from(good_values))
        elif choice < 19:
            value, good = draw(st.sampled_from(bad_values)), False
        else:
            value, good = draw(GARBAGE), False
        if value is not None:
            headers[name] = value

    if not pixel:
        pick("content-type", GOOD_TYPES, BAD_TYPES)
    auth = draw(st.integers(0, 19))
    if auth == 0:
        headers["authorization"] = f"Bearer {t.secret}"
    elif auth == 1:
        headers["authorization"] = f"bearer   {t.secret}"
    elif auth == 2:
        headers["authorization"] = draw(st.sampled_from(
            ["Bearer wrong", "Basic dXNlcjpwYXNz", "", "Bearer", f"Token {t.secret}"]))
        good = False
    elif auth == 3:
        headers["authorization"] = draw(GARBAGE)
        good = False
    if not pixel:
        pick("origin", GOOD_ORIGINS, BAD_ORIGINS)
    pick("referer", GOOD_REFERERS, BAD_REFERERS)
    for name in ("dnt", "sec-gpc"):  # drops, never refusals
        value = draw(st.sampled_from([None, None, "1", "0", b"\xff yes"]))
        if value is not None:
            headers[name] = value
    headers["user-agent"] = draw(USER_AGENTS)
    if draw(st.booleans()):
        headers["x-forwarded-for"] = draw(st.sampled_from(["203.0.113.9", "garbage", "::1"]))
    return headers, good


METHODS = ["POST"] * 30 + ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


# --------------------------------------------------------------------------- properties


@settings(FUZZ, max_examples=300)
@seed(SEED)
@given(data=st.data())
def test_collect_survives_random_requests(target: Target, data: st.DataObject) -> None:
    note(f"seed of this run: {SEED}")
    t = target
    kind = data.draw(st.sampled_from(["hits"] * 4 + ["json", "bytes"]), label="kind")
    expected: int | None = None
    if kind == "hits":
        body, expected = data.draw(hit_bodies(t), label="body")
    elif kind == "json":
        body = json.dumps(data.draw(JSON_VALUES, label="value")).encode()
    else:
        body = data.draw(st.binary(max_size=MAX_BODY + 1500), label="body")
    headers, good = data.draw(header_sets(t), label="headers")
    method = data.draw(st.sampled_from(METHODS), label="method")
    chunked = data.draw(st.integers(0, 4), label="chunked") == 0
    content: bytes | Iterator[bytes] = body
    if chunked:  # no Content-Length: the limit must hold on the stream too
        content = iter([body[i:i + 1000] for i in range(0, len(body), 1000)] or [b""])

    before = counts(t.engine)
    r = t.client.request(method, "/api/collect", content=content, headers=headers)
    # The whole size is known from Content-Length; a chunked body over the limit is
    # read no further than the first chunk past it.
    size = None if chunked and len(body) > MAX_BODY else len(body)
    check_outcome(t, r, before, endpoint="collect", payload=body[:CAP],
                  size=size, content_type=headers.get("content-type", ""))
    info = describe(r)
    event(f"{r.status_code} {kind} {error_of(r)}")
    if method not in ("POST", "OPTIONS"):
        assert r.status_code == 405, info
    elif method == "POST" and len(body) > MAX_BODY:
        assert (r.status_code, r.json()["error"]) == (413, "body_too_large"), info
    elif method == "POST" and expected is not None and good:
        if expected == 0:
            assert (r.status_code, r.json()["error"]) == (400, "empty_batch"), info
        elif expected > MAX_HITS:
            assert (r.status_code, r.json()["error"]) == (413, "too_many_hits"), info
        else:
            assert r.status_code == 202, info
            assert r.json()["accepted"] + r.json()["dropped"] == expected, info


PIXEL_VALUES = st.one_of(
    SAFE_TEXT, URLS, st.text(max_size=20).map(lambda s: s + "\x00"),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "é"]), st.integers(100, 1500)),
    st.sampled_from(["javascript:alert(1)", "http://[::1", "%", "%zz", "%00", "wl_nope"]),
)


@settings(FUZZ, max_examples=200)
@seed(SEED)
@given(data=st.data())
def test_pixel_survives_random_queries(target: Target, data: st.DataObject) -> None:
    note(f"seed of this run: {SEED}")
    t = target
    good = True
    if data.draw(st.integers(0, 9), label="raw") == 0:  # any text; httpx escapes it
        query = data.draw(st.text(st.characters(exclude_categories=["Cc", "Cs"],
                                                exclude_characters="#"), max_size=300),
                          label="query")
        good = False
    else:
        pairs: list[tuple[str, str]] = []
        site = data.draw(st.sampled_from(["key"] * 5 + ["other", "none", "bad"]), label="site")
        if site in ("key", "other"):
            pairs.append(("site", t.key if site == "key" else t.other))
        elif site == "bad":
            pairs.append(("site", data.draw(PIXEL_VALUES)))
        good = site == "key"
        for name in ("r", "t"):  # still a valid hit
            if data.draw(st.integers(0, 3), label=f"has {name}") == 0:
                pairs.append((name, data.draw(SAFE_TEXT, label=name)))
        if data.draw(st.integers(0, 3), label="extra") == 0:
            names = ["url", "r", "t", "site", "x", "utm_source"]
            pairs += data.draw(st.lists(
                st.tuples(st.sampled_from(names), st.one_of(URLS, SAFE_TEXT, PIXEL_VALUES)),
                min_size=1, max_size=4), label="pairs")
            good = False  # may be anything: no expectation
        pairs = data.draw(st.permutations(pairs), label="order")
        query = urlencode(pairs)
    headers, good_headers = data.draw(header_sets(t, pixel=True), label="headers")
    method = data.draw(st.sampled_from(["GET"] * 6 + ["HEAD", "POST"]), label="method")

    before = counts(t.engine)
    r = t.client.request(method, f"/p.gif?{query}" if query else "/p.gif", headers=headers)
    # What the pixel quarantines: the JSON hit it made of the query (as the server saw it).
    sent = dict(parse_qsl(r.request.url.query.decode("latin-1"), keep_blank_values=True))
    referer = headers.get("referer")
    referer_text = referer.decode("latin-1") if isinstance(referer, bytes) else referer or ""
    made = {"site": sent.get("site", ""), "type": "pageview",
            "url": sent.get("url") or referer_text, "referrer": sent.get("r", ""),
            "title": sent.get("t", "")}
    check_outcome(t, r, before, endpoint="pixel", payload=None)
    event(f"{r.status_code} {error_of(r)}")
    if 400 <= r.status_code < 500:
        [row] = new_quarantine_rows(t.engine, before.last_quarantine)
        if len(row.payload) < CAP:
            assert json.loads(row.payload) == made, describe(r)
        assert row.content_type is None, describe(r)
    page_ok = referer in ("https://example.com/page?x=1", "http://127.0.0.1/x",
                          "https://shop.example.com/")
    if good and good_headers and page_ok:
        assert r.status_code == 200, describe(r)


# --------------------------------------------------------------------------- known bugs


def _post(t: Target, hit: dict[str, Any], user_agent: str = CHROME) -> httpx.Response:
    return t.client.post("/api/collect", content=json.dumps(hit).encode(),
                         headers={"content-type": "text/plain", "user-agent": user_agent})


def test_regressions_found_by_fuzzing(target: Target) -> None:
    """Inputs that once answered 500 or 503; each must now be a 4xx or a 202."""
    t = target
    cases: list[tuple[bytes, dict[str, str], int, str | None]] = [
        # msgspec raised RecursionError on deep nesting (in an ignored field too).
        (b'{"x":' + b"[" * 3000 + b"]" * 3000 + b',"site":"k","type":"pageview"}', {}, 400,
         "invalid_json"),
        # urlsplit raised ValueError on unbalanced IPv6 brackets.
        (encode({"site": t.key, "type": "pageview", "url": "https://example.com/"}),
         {"origin": "http://[::1"}, 403, "origin_not_allowed"),
        (encode({"site": t.key, "type": "pageview", "url": "https://example.com/"}),
         {"referer": "http://[::1/"}, 403, "origin_not_allowed"),
        # astimezone() overflowed for year 1 / 9999 with an offset.
        (encode({"site": t.key, "type": "pageview", "url": "https://example.com/",
                 "ts": "0001-01-01T00:00:00+01:00"}), {}, 202, None),
        (encode({"site": t.key, "type": "pageview", "url": "https://example.com/",
                 "ts": "9999-12-31T23:59:59-01:00"}),
         {"authorization": f"Bearer {t.secret}"}, 400, "ts_out_of_range"),
        # Lower-casing made the e-mail longer than contacts.email (PostgreSQL: 503).
        (encode({"site": t.key, "type": "identify",
                 "email": "İ" * 64 + "@" + "a" * 185 + ".com"}), {}, 400, "invalid_field"),
    ]
    for body, extra, status, reason in cases:
        before = counts(t.engine)
        r = t.client.post("/api/collect", content=body, headers={
            "content-type": "text/plain", "user-agent": CHROME, **extra})
        check_outcome(t, r, before, endpoint="collect", payload=body[:CAP], size=len(body))
        assert r.status_code == status, describe(r)
        if reason is not None:
            assert r.json()["error"] == reason, describe(r)


def test_long_browser_version_is_stored(target: Target) -> None:
    """A forged 40-digit Chrome version once overflowed hits.browser_version on PostgreSQL."""
    ua = CHROME.replace("131.0.0.0", "1" * 40 + ".0")
    before = counts(target.engine)
    r = _post(target, {"site": target.key, "type": "pageview", "url": "https://example.com/"},
              user_agent=ua)
    check_outcome(target, r, before, endpoint="collect", payload=None)
    assert r.status_code == 202 and r.json()["accepted"] == 1, describe(r)


def test_nul_in_utm_value_is_stored(target: Target) -> None:
    """Percent-decoded UTM values and click ids with NUL were once refused by PostgreSQL."""
    before = counts(target.engine)
    r = _post(target, {"site": target.key, "type": "pageview",
                       "url": "https://example.com/?utm_source=a%00b&gclid=%00"})
    check_outcome(target, r, before, endpoint="collect", payload=None)
    assert r.status_code == 202 and r.json()["accepted"] == 1, describe(r)


def test_long_campaign_is_stored(target: Target) -> None:
    """Three 200-character UTM values once overflowed visitors.session_campaign
    (VARCHAR(300)) on PostgreSQL, and the writer answered 503."""
    url = "https://example.com/?" + urlencode({"utm_source": "s" * 200,
                                               "utm_campaign": "c" * 200})
    before = counts(target.engine)
    r = _post(target, {"site": target.key, "type": "pageview", "url": url,
                       "visitor": "visitor-" + uuid.uuid4().hex})
    check_outcome(target, r, before, endpoint="collect", payload=None)
    assert r.status_code == 202 and r.json()["accepted"] == 1, describe(r)


def test_returning_identified_visitor_is_stored(target: Target) -> None:
    """A visitor identified in an earlier batch once made every later batch of its hits
    fail (KeyError in the writer: 503 for ever)."""
    visitor = "visitor-" + uuid.uuid4().hex
    for hit in ({"type": "identify", "email": "Jane.Doe@example.com"},
                {"type": "pageview", "url": "https://example.com/"},
                {"type": "event", "name": "again"}):
        before = counts(target.engine)
        r = _post(target, {"site": target.key, "visitor": visitor, **hit})
        check_outcome(target, r, before, endpoint="collect", payload=None)
        assert r.status_code == 202 and r.json()["accepted"] == 1, describe(r)


def test_module_runs_against_a_live_server(target: Target) -> None:
    """A cheap canary: the fixture's server answers and stores."""
    before = counts(target.engine)
    r = _post(target, {"site": target.key, "type": "pageview", "url": "https://example.com/",
                       "ts": int(time.time() * 1000)})
    check_outcome(target, r, before, endpoint="collect", payload=None)
    assert r.status_code == 202 and r.json() == {"accepted": 1, "dropped": 0}

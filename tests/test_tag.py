"""The tracking tag (webleads/collect/static/wl.js) in real Chromium.

A local Starlette app serves the tag, the pages of tests/tagpages/ and a collector that
records every POST.  Pages are reachable on two hosts of the same server, 127.0.0.1 and
localhost, so that "another host" (outbound links, a cross-origin collector) is real.
Each test uses its own site key: a late beacon from an earlier test cannot be mistaken
for one of its own.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
TAG = ROOT / "webleads" / "collect" / "static" / "wl.js"
DOCS = ROOT / "docs" / "tracker.md"
PAGES = Path(__file__).resolve().parent / "tagpages"

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
WAIT_S = 5.0  # deadline for anything the tag is expected to send
VISITOR_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
HIT_FIELDS = {
    "site", "type", "url", "referrer", "title", "name", "props", "engaged_ms",
    "email", "traits", "visitor", "ts",
}
Hit = dict[str, Any]


# --- the local server --------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    """One request received by a collector endpoint."""

    host: str
    path: str
    content_type: str
    body: str

    @property
    def hits(self) -> list[Hit]:
        data = json.loads(self.body)
        return data if isinstance(data, list) else [data]


@dataclass
class Collector:
    """Records every POST; reads are safe from the test thread."""

    posts: list[Post] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, post: Post) -> None:
        with self.lock:
            self.posts.append(post)

    def for_site(self, site: str) -> list[Post]:
        """The posts carrying hits of `site` (a body holds hits of one site only)."""
        with self.lock:
            posts = list(self.posts)
        return [p for p in posts if f'"site":"{site}"' in p.body]

    def hits(self, site: str) -> list[Hit]:
        return [h for p in self.for_site(site) for h in p.hits]


@dataclass(frozen=True)
class Server:
    base: str  # http://127.0.0.1:PORT
    other: str  # http://localhost:PORT, another host on the same server
    collector: Collector


def make_app(collector: Collector, other: str) -> Starlette:
    async def tag(request: Request) -> Response:
        return Response(TAG.read_bytes(), media_type="text/javascript")

    async def page(request: Request) -> Response:
        """Renders tagpages/NAME with the tag configured by the query string.

        site: data-site; attrs: extra attributes, e.g. "data-cookieless";
        src=other: load the tag from the other host.
        """
        query = request.query_params
        origin = other if query.get("src") == "other" else ""
        tag = (
            f'<script defer src="{origin}/wl.js" data-site="{html.escape(query.get("site", ""))}"'
            f' {query.get("attrs", "")}></script>'
        )
        text = (PAGES / request.path_params["name"]).read_text()
        text = text.replace("{{TAG}}", tag).replace("{{OTHER}}", other)
        return HTMLResponse(text.replace("{{QS}}", html.escape(str(query))))

    async def collect(request: Request) -> Response:
        collector.add(Post(
            host=request.headers.get("host", ""),
            path=request.url.path,
            content_type=request.headers.get("content-type", ""),
            body=(await request.body()).decode(),
        ))
        return Response(status_code=204)

    async def no_content(request: Request) -> Response:
        return Response(status_code=204)

    return Starlette(routes=[
        Route("/wl.js", tag),
        Route("/pages/{name}", page, methods=["GET", "POST"]),
        Route("/files/{name}", no_content),
        Route("/api/collect", collect, methods=["POST"]),
        Route("/custom/collect", collect, methods=["POST"]),
    ])


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    collector = Collector()
    app = make_app(collector, f"http://localhost:{port}")
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", loop="asyncio")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not uv.started:
        assert time.monotonic() < deadline, "test server did not start"
        time.sleep(0.02)
    yield Server(f"http://127.0.0.1:{port}", f"http://localhost:{port}", collector)
    uv.should_exit = True
    thread.join(WAIT_S)
    sock.close()


# --- the browser -------------------------------------------------------------------


# Module scope, not session: while sync Playwright runs, the main thread has a running
# event loop, and later modules that call asyncio.run() would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile per test; any uncaught error of a page fails the test."""
    ctx = browser.new_context()
    ctx.set_default_timeout(WAIT_S * 1000)
    errors: list[str] = []
    ctx.on("page", lambda p: p.on("pageerror", lambda e: errors.append(str(e))))
    yield ctx
    ctx.close()
    assert errors == [], "the tag threw into the page"


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def site() -> str:
    return "pk_" + uuid.uuid4().hex[:12]


def url(server: Server, name: str, site: str, **query: str) -> str:
    return f"{server.base}/pages/{name}?{urlencode({'site': site, **query})}"


def wait_for(
    server: Server, site: str, check: Callable[[list[Hit]], bool], what: str
) -> list[Hit]:
    """Polls the hits of `site` until `check` holds; fails after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while True:
        hits = server.collector.hits(site)
        if check(hits):
            return hits
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; got {json.dumps(hits, indent=1)}")
        time.sleep(0.05)


def of_type(hits: list[Hit], type_: str) -> list[Hit]:
    return [h for h in hits if h["type"] == type_]


def wait_type(server: Server, site: str, type_: str, n: int = 1) -> list[Hit]:
    hits = wait_for(server, site, lambda hs: len(of_type(hs, type_)) >= n, f"{n} {type_}")
    return of_type(hits, type_)


def sentinel(page: Page, server: Server, site: str) -> list[Hit]:
    """Sends an event and waits for it: whatever the tag queued before has arrived too."""
    page.evaluate("wl('event', 'sentinel')")
    return wait_for(
        server, site, lambda hs: any(h.get("name") == "sentinel" for h in hs), "sentinel"
    )


def pause_in(page: Page, seconds: float) -> None:
    """Jumps the page clock `seconds` ahead and stops it there: no timer fires after."""
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + seconds)


def hide(page: Page) -> None:
    """What the browser does when the tab goes to the background."""
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
        Object.defineProperty(document, 'hidden', {value: true, configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")


# --- the tag as a file -------------------------------------------------------------


def test_tag_is_at_most_2048_bytes_gzipped() -> None:
    assert len(gzip.compress(TAG.read_bytes(), compresslevel=9)) <= 2048


def test_header_and_docs_name_every_field() -> None:
    source = TAG.read_text()
    header = source[: source.index("*/")]
    docs = DOCS.read_text()
    for word in sorted(HIT_FIELDS) + ["_wl_vid", "data-cookieless", "data-respect-dnt"]:
        assert word in header, word
        assert word in docs, word
    assert "## Français" in docs


# --- pageviews and engagement ------------------------------------------------------


@pytest.mark.browser
def test_pageview_at_load(page: Page, server: Server, site: str) -> None:
    before = int(time.time() * 1000)
    page.goto(url(server, "page.html", site))
    (hit,) = wait_type(server, site, "pageview")
    after = int(time.time() * 1000)
    assert set(hit) == {"site", "type", "url", "referrer", "title", "ts", "visitor"}
    assert hit["site"] == site
    assert hit["url"] == page.url
    assert hit["referrer"] == ""
    assert hit["title"] == "Tag test page"
    assert isinstance(hit["ts"], int) and before - 1000 <= hit["ts"] <= after + 1000
    assert VISITOR_RE.match(hit["visitor"])
    (post,) = server.collector.for_site(site)
    assert post.content_type.startswith("text/plain")
    assert (post.host, post.path) == (server.base.removeprefix("http://"), "/api/collect")


@pytest.mark.browser
def test_spa_navigation_sends_engagement_then_pageview(
    page: Page, server: Server, site: str
) -> None:
    first = url(server, "page.html", site)
    page.goto(first)
    wait_type(server, site, "pageview")
    page.wait_for_timeout(200)  # some engaged time on the first page
    # Neither a hash change nor a replaceState to the same path and query is a new page.
    page.evaluate("history.replaceState(null, '', '#top'); history.pushState(null, '', '#a')")
    second = url(server, "page.html", site, step="2")
    page.evaluate("u => history.pushState({}, '', u)", second)
    assert page.url == second  # the wrapped pushState still navigates
    hits = wait_type(server, site, "pageview", 2)
    assert hits[1]["url"] == second and hits[1]["referrer"] == first
    hits = server.collector.hits(site)
    engaged = of_type(hits, "engagement")
    assert len(engaged) == 1 and engaged[0]["url"] == first and engaged[0]["engaged_ms"] >= 150
    assert hits.index(engaged[0]) < hits.index(of_type(hits, "pageview")[1])

    page.go_back()  # popstate back to the first page (and its hash)
    hits = wait_type(server, site, "pageview", 3)
    assert hits[2]["url"].startswith(first) and hits[2]["referrer"] == second
    assert len(of_type(server.collector.hits(site), "pageview")) == 3


@pytest.mark.browser
def test_heartbeat_sends_engaged_time_every_15_s(page: Page, server: Server, site: str) -> None:
    page.clock.install()
    page.goto(url(server, "page.html", site))
    wait_type(server, site, "pageview")
    page.clock.run_for(15_000)
    (first,) = wait_type(server, site, "engagement")
    assert 15_000 <= first["engaged_ms"] < 15_000 + WAIT_S * 1000
    page.clock.run_for(15_000)
    second = wait_type(server, site, "engagement", 2)[1]
    assert 15_000 <= second["engaged_ms"] < 15_000 + WAIT_S * 1000

    hide(page)  # flushes the time since the last beat, then counts nothing
    wait_type(server, site, "engagement", 3)
    page.clock.run_for(45_000)
    sentinel(page, server, site)
    assert len(of_type(server.collector.hits(site), "engagement")) == 3


@pytest.mark.browser
def test_hidden_page_flushes_at_once(page: Page, server: Server, site: str) -> None:
    page.clock.install()
    page.goto(url(server, "page.html", site))
    wait_type(server, site, "pageview")
    # From now on no timer fires: only an immediate send can deliver the hit.
    pause_in(page, 5)
    page.evaluate("wl('event', 'before-hiding')")
    hide(page)
    (hit,) = wait_type(server, site, "engagement")
    assert 5_000 <= hit["engaged_ms"] < 5_000 + WAIT_S * 1000
    assert [h.get("name") for h in of_type(server.collector.hits(site), "event")] == [
        "before-hiding"
    ]


@pytest.mark.browser
@pytest.mark.parametrize("how", ["navigate", "close", "pagehide-only"])
def test_pagehide_flushes_engaged_time(
    context: BrowserContext, page: Page, server: Server, site: str, how: str
) -> None:
    page.clock.install()
    first = url(server, "page.html", site)
    page.goto(first)
    wait_type(server, site, "pageview")
    pause_in(page, 3)
    if how == "navigate":
        page.goto(url(server, "thanks.html", site + "-next"))
    elif how == "close":
        page.close()
    else:  # Chromium also fires visibilitychange when leaving: test pagehide alone
        page.evaluate("dispatchEvent(new PageTransitionEvent('pagehide'))")
    (hit,) = wait_type(server, site, "engagement")
    assert hit["url"] == first and hit["engaged_ms"] >= 3_000


# --- links and forms ---------------------------------------------------------------


@pytest.mark.browser
def test_outbound_clicks_left_and_middle(page: Page, server: Server, site: str) -> None:
    page.goto(url(server, "page.html", site))
    wait_type(server, site, "pageview")
    href = page.eval_on_selector("#outbound", "a => a.href")
    assert href.startswith(server.other)
    page.click("#hash")
    page.click("#internal", button="middle")  # same host: not outbound
    hits = sentinel(page, server, site)
    assert of_type(hits, "click") == [] and of_type(hits, "download") == []

    page.click("#outbound", button="middle")
    wait_type(server, site, "click")
    page.click("#outbound")  # leaves the page: sent on pagehide
    clicks = wait_type(server, site, "click", 2)
    for hit in clicks:
        assert hit["name"] == "outbound" and hit["props"] == {"href": href}
        assert hit["url"] == url(server, "page.html", site)


@pytest.mark.browser
@pytest.mark.parametrize(
    ("link", "path"), [("#pdf", "/files/report.pdf"), ("#other-zip", "/files/archive.ZIP?v=2")]
)
def test_download_click(page: Page, server: Server, site: str, link: str, path: str) -> None:
    page.goto(url(server, "page.html", site))
    page.click(link)
    (hit,) = wait_type(server, site, "download")
    assert hit["name"] == "download" and hit["props"]["href"].endswith(path)
    assert hit["url"] == page.url
    assert of_type(server.collector.hits(site), "click") == []


@pytest.mark.browser
def test_marked_form_sends_email_and_nothing_else(page: Page, server: Server, site: str) -> None:
    page.goto(url(server, "page.html", site))
    page.fill("#contact-form [name=full_name]", "Zoé Unread-Name")
    page.fill("#contact-form [name=mail]", "zoe@example.com")
    page.fill("#contact-form [name=password]", "pw-never-sent-8731")
    page.click("#contact-send")  # posts to thanks.html: the hit leaves on pagehide
    (hit,) = wait_type(server, site, "form")
    assert hit["name"] == "contact" and hit["email"] == "zoe@example.com"
    assert hit["props"] == {"id": "contact-form"}
    wait_type(server, site, "pageview", 2)  # thanks.html loaded
    bodies = " ".join(p.body for p in server.collector.for_site(site))
    assert "pw-never-sent-8731" not in bodies and "Unread-Name" not in bodies


@pytest.mark.browser
def test_marked_form_without_value_is_named_by_id(page: Page, server: Server, site: str) -> None:
    page.goto(url(server, "page.html", site))
    page.fill("#quote [name=company]", "ACME Unread")
    page.fill("#quote [name=work_email]", "buyer@acme.example")
    page.click("#quote-send")
    (hit,) = wait_type(server, site, "form")
    assert (hit["name"], hit["email"]) == ("quote", "buyer@acme.example")
    assert "ACME Unread" not in json.dumps(server.collector.hits(site))


@pytest.mark.browser
def test_unmarked_form_sends_nothing(page: Page, server: Server, site: str) -> None:
    page.goto(url(server, "page.html", site))
    page.fill("#newsletter [name=email]", "quiet@example.com")
    page.click("#newsletter-send")
    hits = sentinel(page, server, site)
    assert of_type(hits, "form") == []
    assert "quiet@example.com" not in json.dumps(hits)


# --- the wl() API ------------------------------------------------------------------


@pytest.mark.browser
def test_event_and_identify(page: Page, server: Server, site: str) -> None:
    page.goto(url(server, "page.html", site))
    wait_type(server, site, "pageview")
    page.evaluate("""() => {
        wl('event', 'signup', {plan: 'pro', seats: 3, trial: true, nested: {a: 1},
                               list: [1], none: null, fn() {}});
        wl('identify', 'zoe@example.com', {company: 'ACME', employees: 40});
        wl('event');  // no name: ignored
        wl('unknown', 'x');  // unknown command: ignored
    }""")
    (event,) = wait_type(server, site, "event")
    assert event["name"] == "signup"
    assert event["props"] == {"plan": "pro", "seats": 3, "trial": True}
    (ident,) = wait_type(server, site, "identify")
    assert ident["email"] == "zoe@example.com"
    assert ident["traits"] == {"company": "ACME", "employees": 40}
    assert ident["url"] == page.url and VISITOR_RE.match(ident["visitor"])
    assert set(event) | set(ident) <= HIT_FIELDS


@pytest.mark.browser
def test_calls_queued_before_load_are_sent(page: Page, server: Server, site: str) -> None:
    page.goto(url(server, "queue.html", site))
    hits = wait_for(server, site, lambda hs: len(hs) >= 3, "pageview, event, identify")
    assert [h["type"] for h in hits] == ["pageview", "event", "identify"]
    assert hits[1]["name"] == "early" and hits[1]["props"] == {"step": 1}
    assert hits[2]["email"] == "early@example.com" and hits[2]["traits"] == {"plan": "trial"}
    (post,) = server.collector.for_site(site)  # one batch, sent as an array
    assert post.body.startswith("[")
    assert page.evaluate("typeof wl == 'function' && wl.q === undefined")


@pytest.mark.browser
def test_batches_hold_at_most_100_hits(page: Page, server: Server, site: str) -> None:
    page.goto(url(server, "page.html", site))
    wait_type(server, site, "pageview")
    page.evaluate("for (let i = 0; i < 150; i++) wl('event', 'e' + i)")
    events = wait_type(server, site, "event", 150)
    assert [e["name"] for e in events] == [f"e{i}" for i in range(150)]
    sizes = [len(p.hits) for p in server.collector.for_site(site)]
    assert max(sizes) == 100 and sum(sizes) == 151


@pytest.mark.browser
def test_only_global_is_wl(page: Page, server: Server, site: str) -> None:
    page.goto(url(server, "page.html", site))
    wait_type(server, site, "pageview")
    added = page.evaluate(
        "Object.getOwnPropertyNames(window).filter(k => !globalsBefore.includes(k))"
    )
    assert set(added) <= {"globalsBefore", "wl"}


# --- storage -----------------------------------------------------------------------


@pytest.mark.browser
def test_cookie_mode_sets_and_reuses_visitor_id(
    context: BrowserContext, page: Page, server: Server, site: str
) -> None:
    first = url(server, "page.html", site)
    page.goto(first)
    (hit,) = wait_type(server, site, "pageview")
    (cookie,) = context.cookies()
    assert cookie["name"] == "_wl_vid" and VISITOR_RE.match(cookie["value"])
    assert hit["visitor"] == cookie["value"]
    assert cookie["path"] == "/" and cookie["sameSite"] == "Lax" and not cookie["secure"]
    assert abs(cookie["expires"] - (time.time() + 33_696_000)) < 60

    page.wait_for_timeout(1100)
    page.click("#internal")
    hits = wait_type(server, site, "pageview", 2)
    assert hits[1]["visitor"] == hit["visitor"] and hits[1]["referrer"] == first
    (again,) = context.cookies()
    assert again["expires"] == cookie["expires"]  # not extended by the second visit
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0


@pytest.mark.browser
def test_cookieless_mode_stores_nothing(
    context: BrowserContext, page: Page, server: Server, site: str
) -> None:
    page.goto(url(server, "page.html", site, attrs="data-cookieless"))
    page.evaluate("wl('identify', 'zoe@example.com')")
    page.click("#internal")
    wait_type(server, site, "pageview", 2)
    page.evaluate("wl('event', 'second-page')")
    wait_type(server, site, "event")
    hits = server.collector.hits(site)
    assert {"pageview", "identify", "event"} <= {h["type"] for h in hits}
    assert all("visitor" not in h for h in hits)
    assert context.cookies() == []
    assert page.evaluate("document.cookie + localStorage.length + sessionStorage.length") == "00"


# --- privacy switches and transport ------------------------------------------------

GPC = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
DNT = "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})"


@pytest.mark.browser
@pytest.mark.parametrize(
    ("signal", "attrs", "sends"),
    [
        (GPC, "data-respect-dnt", False),
        (DNT, "data-respect-dnt", False),
        ("", "data-respect-dnt", True),  # the site honours DNT, the visitor sent none
        (GPC, "", True),  # the visitor sends GPC, the site does not honour it
    ],
    ids=["gpc", "dnt", "no-signal", "not-respected"],
)
def test_respect_dnt(
    context: BrowserContext, page: Page, server: Server, site: str,
    signal: str, attrs: str, sends: bool,
) -> None:
    if signal:
        context.add_init_script(signal)
    page.goto(url(server, "page.html", site, attrs=attrs))
    page.evaluate("wl('event', 'ignored-or-not'); wl('identify', 'zoe@example.com')")
    page.click("#pdf")
    page.wait_for_timeout(600)  # past the 300 ms flush delay
    # A control page of another site in the same browser: once its pageview is in,
    # anything the first page sent, even on pagehide, is in too.
    page.goto(url(server, "thanks.html", site + "-control"))
    wait_type(server, site + "-control", "pageview")
    types = {h["type"] for h in server.collector.hits(site)}
    everything = {"pageview", "event", "identify", "download", "engagement"}
    assert types == (everything if sends else set())


@pytest.mark.browser
def test_page_without_site_key_sends_nothing(page: Page, server: Server, site: str) -> None:
    page.goto(url(server, "page.html", ""))
    page.evaluate("wl('event', 'x')")
    page.wait_for_timeout(600)
    assert server.collector.for_site("") == []


@pytest.mark.browser
def test_collector_defaults_to_the_script_origin(page: Page, server: Server, site: str) -> None:
    page.goto(url(server, "page.html", site, src="other"))
    wait_type(server, site, "pageview")
    (post,) = server.collector.for_site(site)
    assert (post.host, post.path) == (server.other.removeprefix("http://"), "/api/collect")
    assert post.content_type.startswith("text/plain")


@pytest.mark.browser
def test_data_api_sets_the_collector(page: Page, server: Server, site: str) -> None:
    api = f"{server.other}/custom/collect"  # cross-origin: text/plain needs no preflight
    page.goto(url(server, "page.html", site, attrs=f'data-api="{api}"'))
    wait_type(server, site, "pageview")
    (post,) = server.collector.for_site(site)
    assert post.path == "/custom/collect" and post.content_type.startswith("text/plain")


@pytest.mark.browser
@pytest.mark.parametrize(
    "beacon",
    ["undefined", "() => false"],
    ids=["no-sendBeacon", "sendBeacon-refuses"],
)
def test_fetch_fallback(
    context: BrowserContext, page: Page, server: Server, site: str, beacon: str
) -> None:
    context.add_init_script(
        f"Object.defineProperty(Navigator.prototype, 'sendBeacon', {{value: {beacon}}})"
    )
    page.goto(url(server, "page.html", site))
    page.evaluate("wl('event', 'by-fetch')")
    wait_for(server, site, lambda hs: len(hs) >= 2, "pageview and event")
    posts = server.collector.for_site(site)
    assert all(p.content_type.startswith("text/plain") for p in posts)

"""Sites: validated creation, allowed origins, the tag snippet, the in-memory book."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webleads.db import sites as q
from webleads.db.engine import create_engine
from webleads.db.migrate import upgrade
from webleads.model import PageGroupRule, Site
from webleads.sites import SiteBook, SiteError, check_secret, create_site, origin_allowed, snippet


@pytest.fixture(scope="module")
def validating_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """Options are checked before the database is touched: one SQLite file will do."""
    eng = create_engine(f"sqlite:///{tmp_path_factory.mktemp('sites') / 'w.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.mark.parametrize("options, option", [
    ({"name": "  "}, "name"),
    ({"domain": "not a domain"}, "domain"),
    ({"domain": ""}, "domain"),
    ({"domain": "-example.com"}, "domain"),
    ({"domain": "exa_mple.com"}, "domain"),
    ({"domain": "example..com"}, "domain"),
    ({"domain": "https://"}, "domain"),
    ({"domain": "http://[::1"}, "domain"),
    ({"origins": ["example.com"]}, "origin"),
    ({"origins": ["ftp://example.com"]}, "origin"),
    ({"origins": ["https://example.com/path"]}, "origin"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"ignored_networks": ["10.0.0.0/33"]}, "ignore"),
    ({"ignored_networks": ["offices"]}, "ignore"),
    ({"page_groups": [PageGroupRule("", "/crm/**")]}, "page group"),
    ({"page_groups": [PageGroupRule("crm", "crm/**")]}, "page group"),
])
def test_create_site_errors_name_the_option(validating_engine: Engine,
                                            options: dict[str, Any], option: str) -> None:
    args: dict[str, Any] = {"name": "Example", "domain": "example.com", **options}
    with pytest.raises(SiteError) as raised:
        create_site(validating_engine, args.pop("name"), args.pop("domain"), **args)
    assert str(raised.value).startswith(f"{option}:")
    with validating_engine.connect() as conn:
        assert q.load_sites(conn) == []  # nothing half-created


def test_create_site_normalises_and_stores_options(engine: Engine) -> None:
    made = create_site(
        engine, " Example ", "https://WWW.Example.COM/", origins=["HTTP://127.0.0.1:8080", "https://partner.org/"],
        timezone="Europe/Paris", ignored_networks=["192.0.2.0/24", "2001:db8::/32"],
        page_groups=[PageGroupRule("crm", "/crm/**")], identity_mode="cookieless",
        respect_dnt=False, store_raw_ip=True, ip_mode="hash",
    )
    site = made.site
    assert site.key.startswith("wl_") and made.secret.startswith("wls_")
    assert check_secret(site, made.secret) and not check_secret(site, made.secret + "x")
    assert made.secret not in site.secret_hash
    assert (site.name, site.domain, site.origins, site.timezone) == (
        "Example", "www.example.com", ("http://127.0.0.1:8080", "https://partner.org"),
        "Europe/Paris")
    assert site.ignored_networks == ("192.0.2.0/24", "2001:db8::/32")
    assert site.page_groups == (PageGroupRule("crm", "/crm/**"),)
    assert (site.identity_mode, site.respect_dnt, site.store_raw_ip, site.ip_mode) == (
        "cookieless", False, True, "hash")
    with engine.connect() as conn:
        assert q.site_by_key(conn, site.key) == site
    other = create_site(engine, "Example", "example.com").site
    assert other.key != site.key and other.workspace_id == site.workspace_id


SITE = Site(id=1, workspace_id=1, key="wl_k", name="Example", domain="example.com",
            origins=("http://127.0.0.1:8080", "https://partner.org"))


@pytest.mark.parametrize("origin", [
    "https://example.com",
    "http://example.com",
    "https://www.example.com",
    "https://a.b.example.com:8443",
    "http://localhost.example.com:3000",
    "HTTPS://WWW.EXAMPLE.COM",
    "https://example.com/",
    "https://partner.org",
    "http://127.0.0.1:8080",
])
def test_origin_allowed(origin: str) -> None:
    assert origin_allowed(SITE, origin)


@pytest.mark.parametrize("origin", [
    "https://notexample.com",
    "https://example.com.evil.org",
    "https://www.example.com.evil.org",
    "https://example.co",
    "https://example.com@evil.org",
    "https://evil.org/example.com",
    "https://partner.org.evil.com",
    "https://www.partner.org",  # extra origins match exactly: no sub-domains
    "http://partner.org",  # nor another scheme
    "https://partner.org:8443",  # nor another port
    "http://127.0.0.1",
    "http://127.0.0.1:8081",
    "null",
    "",
    "http://[::1",
    "http://[example.com]",
])
def test_origin_refused(origin: str) -> None:
    assert not origin_allowed(SITE, origin)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("identity_mode, respect_dnt", [
    ("cookie", True), ("cookie", False), ("cookieless", True), ("cookieless", False),
])
def test_snippet(identity_mode: Any, respect_dnt: bool) -> None:
    site = Site(id=1, workspace_id=1, key="wl_AbC-123", name="n", domain="example.com",
                identity_mode=identity_mode, respect_dnt=respect_dnt)
    html = snippet(site, "https://t.example.org/")
    parser = _Tags()
    parser.feed(html)
    (script_tag, script), (noscript, _), (img_tag, img) = parser.tags
    assert (script_tag, noscript, img_tag) == ("script", "noscript", "img")
    assert script["src"] == "https://t.example.org/wl.js"
    assert script["data-site"] == "wl_AbC-123"
    assert "defer" in script
    # the attribute names the tag reads (dataset.cookieless, dataset.respectDnt)
    assert ("data-cookieless" in script) is (identity_mode == "cookieless")
    assert ("data-respect-dnt" in script) is respect_dnt
    assert img["src"] == "https://t.example.org/p.gif?site=wl_AbC-123"
    assert (img["width"], img["height"], img["alt"]) == ("1", "1", "")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_site_book_finds_a_site_created_after_it_loaded(engine: Engine) -> None:
    clock = FakeClock()
    book = SiteBook(engine, ttl=10, clock=clock)
    book.reload()
    assert book.get("wl_nothing") is None
    made = create_site(engine, "Later", "later.example").site
    assert book.get(made.key) == made  # at once, without waiting for the ttl
    assert book.get("wl_nothing") is None


def test_site_book_reloads_changed_settings_after_ttl(engine: Engine) -> None:
    made = create_site(engine, "Example", "example.com").site
    clock = FakeClock()
    book = SiteBook(engine, ttl=10, clock=clock)
    assert book.get(made.key) == made  # first use loads
    with engine.begin() as conn:
        q.update_site(conn, made.id, respect_dnt=False, ignored_networks=["192.0.2.0/24"])
    clock.now += 9
    cached = book.get(made.key)
    assert cached is not None and cached.respect_dnt  # within the ttl: from memory
    clock.now += 2
    fresh = book.get(made.key)
    assert fresh is not None and not fresh.respect_dnt
    assert fresh.ignored_networks == ("192.0.2.0/24",) and len(fresh.ignored_nets) == 1


def test_site_book_remembers_unknown_keys_for_a_moment(engine: Engine) -> None:
    clock = FakeClock()
    book = SiteBook(engine, ttl=60, miss_ttl=2, clock=clock)
    book.reload()
    reads: list[str] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda *args: reads.append(str(args[2])))
    for _ in range(50):
        assert book.get("wl_madeup") is None
    assert sum("FROM sites" in sql for sql in reads) == 1  # one read, not fifty
    clock.now += 3
    assert book.get("wl_madeup") is None
    assert sum("FROM sites" in sql for sql in reads) == 2

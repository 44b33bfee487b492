"""``GET /l/{code}`` in-process (httpx's ASGI transport), on both engines: 302 to the
UTM link and a counted click; 404 page in French and English otherwise; never 5xx."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer
from tests.test_campaigns_db import add, workspace
from webleads.campaigns import links
from webleads.campaigns.redirect import make_short_link
from webleads.db import campaigns as db
from webleads.db.engine import create_engine
from webleads.sites import NewSite

NOW = datetime(2026, 3, 9, 10, tzinfo=UTC)


def get(engine: Engine, *paths: str, method: str = "GET") -> list[httpx.Response]:
    handler = make_short_link(engine, clock=lambda: NOW)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=handler)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return [await client.request(method, p) for p in paths]

    return asyncio.run(run())


def test_redirects_and_counts(engine: Engine, site: NewSite) -> None:
    salon = add(engine, workspace(engine, site), "Salon", "event", utm="salon-2026")
    with engine.begin() as conn:
        link = links.create_link(conn, salon, "https://example.com/erp", source="newsletter",
                                 medium="email", now=NOW, code=lambda: "AbCdEf1234")
    first, second = get(engine, "/l/AbCdEf1234", "/l/AbCdEf1234")
    for r in (first, second):
        assert r.status_code == 302
        assert r.headers["location"] == link.url == (
            "https://example.com/erp?utm_source=newsletter&utm_medium=email"
            "&utm_campaign=salon-2026")
        assert r.headers["cache-control"] == "no-store"
    [head] = get(engine, "/l/AbCdEf1234", method="HEAD")  # link checkers: not counted
    assert head.status_code == 302
    with engine.connect() as conn:
        assert db.clicks_per_day(conn, "AbCdEf1234") == {date(2026, 3, 9): 2}
        assert [x.clicks for x in db.short_link_rows(conn, [salon.id])] == [2]


def test_unknown_and_bad_codes_get_the_404_page(engine: Engine, site: NewSite) -> None:
    responses = get(engine, "/l/Nope123456", "/l/", "/l/short", "/l/%00%ff", "/l/a/b/c",
                    "/l/" + "x" * 5000)
    for r in responses:
        assert r.status_code == 404
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert "Lien introuvable" in r.text and "Link not found" in r.text
    [post] = get(engine, "/l/Nope123456", method="POST")
    assert post.status_code == 405


def test_a_broken_database_is_a_404_not_a_5xx(tmp_path: Path) -> None:
    empty = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables
    try:
        [r] = get(empty, "/l/AbCdEf1234")
        assert r.status_code == 404
        with empty.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []
    finally:
        empty.dispose()


def test_the_app_serves_short_links(live_server: LiveServer, engine: Engine,
                                    site: NewSite) -> None:
    salon = add(engine, workspace(engine, site), "Salon", "event", utm="salon-2026")
    with engine.begin() as conn:
        link = links.create_link(conn, salon, "https://example.com/", source="badge",
                                 medium="qr", now=NOW, code=lambda: "Live123456")
    r = httpx.get(f"{live_server.url}/l/Live123456", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (302, link.url)
    missing = httpx.get(f"{live_server.url}/l/nope", follow_redirects=False)
    assert missing.status_code == 404 and "introuvable" in missing.text.lower()
    assert httpx.get(f"{live_server.url}/healthz").status_code == 200  # the rest unchanged

"""POST /api/collect over real HTTP, stored on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer
from webleads.db.schema import contacts, drops, hits, quarantine, sessions, visitors
from webleads.sites import NewSite

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


def post(server: LiveServer, body: Any, *, headers: dict[str, str] | None = None) -> httpx.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    base = {"content-type": "text/plain;charset=UTF-8", "user-agent": CHROME}
    return httpx.post(f"{server.url}/api/collect", content=data,
                      headers={**base, **(headers or {})}, timeout=10)


def rows(engine: Engine, table: sa.Table) -> list[Any]:
    with engine.connect() as conn:
        first_key = list(table.primary_key.columns)[0]
        return list(conn.execute(sa.select(table).order_by(first_key)))


def test_pageview_is_stored_enriched_after_202(live_server: LiveServer, engine: Engine,
                                               site: NewSite) -> None:
    key = site.site.key
    r = post(live_server, {"site": key, "type": "pageview", "visitor": "abcdefgh12345678",
                           "url": "https://www.example.com/pricing?utm_source=LinkedIn&utm_medium=cpc&utm_campaign=spring",
                           "referrer": "https://www.linkedin.com/", "title": "Pricing",
                           "unknown_field": {"ignored": True}},
             headers={"origin": "https://www.example.com"})
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 1, "dropped": 0}
    stored = rows(engine, hits)
    assert len(stored) == 1
    hit = stored[0]
    assert hit.type == "pageview" and hit.title == "Pricing"
    assert hit.visitor_key == "abcdefgh12345678"
    assert hit.utm_source == "linkedin" and hit.utm_campaign == "spring"
    assert hit.source_class == "paid"
    assert hit.browser == "Chrome" and hit.device_type == "desktop"
    assert hit.ip is None and hit.ip_anon == "127.0.0.0"
    assert r.headers["access-control-allow-origin"] == "https://www.example.com"


def test_batch_of_hits_shares_one_session(live_server: LiveServer, engine: Engine,
                                          site: NewSite) -> None:
    key = site.site.key
    batch = [{"site": key, "type": "pageview", "url": f"https://example.com/p{i}",
              "visitor": "visitor-0001"} for i in range(5)]
    batch.append({"site": key, "type": "engagement", "url": "https://example.com/p4",
                  "engaged_ms": 1500, "visitor": "visitor-0001"})
    r = post(live_server, batch)
    assert r.status_code == 202 and r.json()["accepted"] == 6
    [sess] = rows(engine, sessions)
    assert (sess.hits, sess.pageviews, sess.engaged_ms) == (6, 5, 1500)
    assert {h.session_id for h in rows(engine, hits)} == {sess.id}


def test_identify_links_earlier_sessions_to_contact(live_server: LiveServer, engine: Engine,
                                                   site: NewSite) -> None:
    key = site.site.key
    assert post(live_server, {"site": key, "type": "pageview", "url": "https://example.com/",
                              "visitor": "visitor-0002"}).status_code == 202
    r = post(live_server, {"site": key, "type": "identify", "email": "  Jane.Doe@ACME.fr ",
                           "traits": {"plan": "pro"}, "visitor": "visitor-0002"})
    assert r.status_code == 202, r.text
    [contact] = rows(engine, contacts)
    assert contact.email == "jane.doe@acme.fr" and contact.domain == "acme.fr"
    assert contact.traits == {"plan": "pro"}
    assert all(s.contact_id == contact.id for s in rows(engine, sessions))
    [visitor] = rows(engine, visitors)
    assert visitor.contact_id == contact.id


@pytest.mark.parametrize(
    ("body", "status", "reason", "field"),
    [
        (b"{not json", 400, "invalid_json", None),
        (b"[]", 400, "empty_batch", None),
        ({"type": "pageview"}, 400, "missing_field", "$.site"),
        ({"site": "SITE", "type": "pageview", "url": 42}, 400, "invalid_field", "$.url"),
        ({"site": "SITE", "type": "teleport", "url": "https://example.com/"}, 400,
         "invalid_field", "$.type"),
        ([{"site": "SITE", "type": "event", "name": "x"}, {"site": "SITE", "type": "event"}],
         400, "missing_field", "$[1].name"),
        ({"site": "SITE", "type": "identify", "email": "not-an-email"}, 400, "invalid_field",
         "$.email"),
        ({"site": "SITE", "type": "pageview", "url": "javascript:alert(1)"}, 400,
         "invalid_field", "$.url"),
        ({"site": "SITE", "type": "pageview", "url": "https://example.com/" + "x" * 5000}, 400,
         "invalid_field", "$.url"),
        ({"site": "nope", "type": "pageview", "url": "https://example.com/"}, 400,
         "unknown_site", "$.site"),
        ([{"site": "nope", "type": "pageview", "url": "https://example.com/"}], 400,
         "unknown_site", "$[0].site"),
        ([{"site": "SITE", "type": "event", "name": "e"}] * 101, 413, "too_many_hits", None),
        ({"site": "SITE", "type": "event", "name": "a\u0000b"}, 400, "invalid_field", "$.name"),
    ],
)
def test_bad_input_gets_4xx_with_reason_and_is_quarantined(
    live_server: LiveServer, engine: Engine, site: NewSite, body: Any, status: int, reason: str,
    field: str | None,
) -> None:
    if not isinstance(body, bytes):
        body = json.dumps(body).replace("SITE", site.site.key).encode()
    r = post(live_server, body)
    assert r.status_code == status, r.text
    assert r.json()["error"] == reason
    assert r.json().get("field") == field
    [kept] = rows(engine, quarantine)
    assert kept.reason == reason and kept.status == status
    assert kept.payload == body[:16384]
    assert rows(engine, hits) == []


def test_origin_not_allowed_and_bad_secret(live_server: LiveServer, engine: Engine,
                                           site: NewSite) -> None:
    hit = {"site": site.site.key, "type": "pageview", "url": "https://example.com/"}
    r = post(live_server, hit, headers={"origin": "https://evil.example.org"})
    assert (r.status_code, r.json()["error"]) == (403, "origin_not_allowed")
    r = post(live_server, hit, headers={"authorization": "Bearer wrong"})
    assert (r.status_code, r.json()["error"]) == (401, "bad_secret")
    assert len(rows(engine, quarantine)) == 2


def test_oversize_body_and_wrong_media_type(live_server: LiveServer, engine: Engine,
                                            site: NewSite) -> None:
    r = post(live_server, b"[" + b" " * 300_000 + b"]")
    assert (r.status_code, r.json()["error"]) == (413, "body_too_large")
    r = post(live_server, b"{}", headers={"content-type": "multipart/form-data; boundary=x"})
    assert (r.status_code, r.json()["error"]) == (415, "unsupported_media_type")
    assert [q.reason for q in rows(engine, quarantine)] == ["body_too_large",
                                                            "unsupported_media_type"]


def test_server_side_variant_gives_ip_and_user_agent(live_server: LiveServer, engine: Engine,
                                                     site: NewSite) -> None:
    hit = {"site": site.site.key, "type": "pageview", "url": "https://example.com/a",
           "ip": "198.51.100.7", "user_agent": CHROME, "ts": "2026-01-02T03:04:05Z"}
    r = post(live_server, hit, headers={"authorization": f"Bearer {site.secret}",
                                        "user-agent": "my-backend/1.0"})
    assert r.status_code == 202, r.text
    [stored] = rows(engine, hits)
    assert stored.ip_anon == "198.51.100.0" and stored.browser == "Chrome"
    assert stored.ts.isoformat() == "2026-01-02T03:04:05+00:00"
    # Without the secret, ip and user_agent are ignored fields, not errors.
    r = post(live_server, {**hit, "ts": None}, headers={"user-agent": "curl/8.0"})
    assert r.status_code == 202 and r.json() == {"accepted": 0, "dropped": 1}
    with engine.connect() as conn:
        assert conn.execute(sa.select(drops.c.reason, drops.c.count)).all() == [("bot", 1)]


def test_do_not_track_is_honoured(live_server: LiveServer, engine: Engine, site: NewSite) -> None:
    hit = {"site": site.site.key, "type": "pageview", "url": "https://example.com/"}
    assert post(live_server, hit, headers={"sec-gpc": "1"}).json() == {"accepted": 0,
                                                                       "dropped": 1}
    assert post(live_server, hit, headers={"dnt": "1"}).json() == {"accepted": 0, "dropped": 1}
    with engine.connect() as conn:
        assert conn.execute(sa.select(drops.c.reason, drops.c.count)).all() == [
            ("do_not_track", 2)]


def test_pixel_records_pageview_from_referer(live_server: LiveServer, engine: Engine,
                                             site: NewSite) -> None:
    r = httpx.get(f"{live_server.url}/p.gif", params={"site": site.site.key},
                  headers={"referer": "https://example.com/no-js", "user-agent": CHROME})
    assert r.status_code == 200 and r.headers["content-type"] == "image/gif"
    [stored] = rows(engine, hits)
    assert stored.url == "https://example.com/no-js" and stored.type == "pageview"
    r = httpx.get(f"{live_server.url}/p.gif", params={"site": "nope"},
                  headers={"referer": "https://example.com/", "user-agent": CHROME})
    assert (r.status_code, r.json()["error"]) == (400, "unknown_site")


def test_tag_is_served_gzipped_with_cache_headers(live_server: LiveServer) -> None:
    r = httpx.get(f"{live_server.url}/wl.js", headers={"accept-encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert "javascript" in r.headers["content-type"]
    assert b"data-site" in r.content or b"dataset" in r.content
    etag = r.headers["etag"]
    again = httpx.get(f"{live_server.url}/wl.js", headers={"if-none-match": etag})
    assert again.status_code == 304


def test_health_and_metrics(live_server: LiveServer, site: NewSite) -> None:
    assert httpx.get(f"{live_server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{live_server.url}/readyz").json()["status"] == "ready"
    post(live_server, {"site": site.site.key, "type": "pageview", "url": "https://example.com/"})
    post(live_server, b"nope")
    text = httpx.get(f"{live_server.url}/metrics").text
    assert "webleads_hits_accepted_total 1" in text
    assert 'webleads_requests_rejected_total{reason="invalid_json"} 1' in text
    assert "webleads_commit_seconds_count" in text


def test_hits_the_database_refuses_get_422_and_are_quarantined(
    live_server: LiveServer, engine: Engine, site: NewSite, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A job the database refuses fails alone, with a 4xx (not 503 for ever), and its
    payload is kept; other requests of the same moment are stored."""
    from webleads.db import store

    real = store.store_hits

    def refuse_marked(conn: Any, batch: list[Any]) -> Any:
        if any("refuse-me" in h.url for h in batch):
            raise sa.exc.DataError("INSERT", {}, ValueError("value too long"))
        return real(conn, batch)

    monkeypatch.setattr(store, "store_hits", refuse_marked)
    key = site.site.key
    bad = {"site": key, "type": "pageview", "url": "https://example.com/refuse-me"}
    r = post(live_server, bad)
    assert (r.status_code, r.json()["error"]) == (422, "unstorable")
    good = post(live_server, {"site": key, "type": "pageview", "url": "https://example.com/"})
    assert good.status_code == 202
    [kept] = rows(engine, quarantine)
    assert kept.reason == "unstorable" and b"refuse-me" in kept.payload
    assert [h.url for h in rows(engine, hits)] == ["https://example.com/"]


def test_contact_traits_accumulate_across_requests(live_server: LiveServer, engine: Engine,
                                                   site: NewSite) -> None:
    key = site.site.key
    for traits in ({"plan": "free", "company": "ACME"}, {"plan": "pro"}):
        r = post(live_server, {"site": key, "type": "identify", "email": "jane@acme.fr",
                               "traits": traits, "visitor": "visitor-0003"})
        assert r.status_code == 202, r.text
    [contact] = rows(engine, contacts)
    assert contact.traits == {"plan": "pro", "company": "ACME"}


def test_huge_body_is_refused_from_its_start_and_the_connection_goes_on(
    live_server: LiveServer, engine: Engine, site: NewSite,
) -> None:
    huge = b"[" + b" " * (5 * 1024 * 1024) + b"]"
    with httpx.Client(base_url=live_server.url, timeout=30,
                      headers={"content-type": "text/plain", "user-agent": CHROME}) as client:
        r = client.post("/api/collect", content=huge)
        assert (r.status_code, r.json()["error"]) == (413, "body_too_large")
        ok = client.post("/api/collect", content=json.dumps(
            {"site": site.site.key, "type": "pageview", "url": "https://example.com/"}))
        assert ok.status_code == 202, ok.text
    [kept] = rows(engine, quarantine)
    assert kept.size == len(huge) and len(kept.payload) == 16384
    assert len(rows(engine, hits)) == 1


def test_data_sources_are_listed_with_their_attribution(live_server: LiveServer) -> None:
    r = httpx.get(f"{live_server.url}/api/data-sources")
    assert r.status_code == 200
    sources = {s["source"]: s for s in r.json()["sources"]}
    assert {"asn", "country", "ranges", "curated", "freemail"} <= set(sources)
    assert "DB-IP" in sources["asn"]["attribution"] and sources["asn"]["licence"] == "CC BY 4.0"
    assert all("path" not in s for s in sources.values())  # no server paths leak

"""Rate limits of the hit path (webleads/collect/limits.py): token buckets per client
address and per site, answered 429 with Retry-After, counted, never quarantined."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer, serve_in_thread
from webleads.app import create_app
from webleads.collect.limits import RateLimits, TokenBuckets, address_key
from webleads.db.schema import hits, quarantine
from webleads.settings import Settings
from webleads.sites import create_site

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBuckets(2.0, 4.0, clock=clock)
    assert [bucket.take("a") for _ in range(4)] == [0.0] * 4
    assert bucket.take("a") == pytest.approx(0.5)  # one token comes back every 0.5 s
    assert bucket.take("b") == 0.0  # another key has its own bucket
    clock.now += 0.5
    assert bucket.take("a") == 0.0 and bucket.take("a") > 0
    clock.now += 100  # a long pause refills the bucket, never beyond its burst
    assert [bucket.take("a") for _ in range(5)].count(0.0) == 4


def test_bucket_memory_stays_bounded() -> None:
    clock = Clock()
    bucket = TokenBuckets(1.0, 2.0, max_keys=100, clock=clock)
    for i in range(100):
        bucket.take(f"idle-{i}")
    clock.now += 10  # every bucket is full again: forgotten at the next sweep
    bucket.take("busy")
    assert len(bucket) == 1
    for i in range(250):  # a flood from ever new keys: never more than max_keys
        bucket.take(f"new-{i}")
        assert len(bucket) <= 100


@pytest.mark.parametrize("address, key", [
    ("198.51.100.7", "198.51.100.7"),
    ("2001:db8:1:2:aaaa::1", "20010db800010002::/64"),
    ("2001:db8:1:2:bbbb::9", "20010db800010002::/64"),  # one subscriber's /64
    ("2001:db8:1:3::1", "20010db800010003::/64"),
    ("127.0.0.1", None), ("127.8.9.1", None), ("::1", None), ("not-an-ip:x", None),
])
def test_address_keys(address: str, key: str | None) -> None:
    assert address_key(address) == key


def test_zero_turns_a_limit_off() -> None:
    limits = RateLimits(per_ip=0, per_site=0)
    assert all(limits.ip("198.51.100.7") == 0 and limits.site("wl_x") == 0 for _ in range(1000))
    with pytest.raises(ValueError):
        TokenBuckets(0, 1)


# -- over HTTP -------------------------------------------------------------------------------

@pytest.fixture
def limited(settings: Settings, engine: Engine) -> Iterator[LiveServer]:
    """Tiny limits: one request every 2 s per address (bursts of 5), 1/s per site (bursts
    of 10); X-Forwarded-For is believed from 127.0.0.1."""
    config = Settings(database_url=settings.database_url, secret_key="test-secret",
                      sqlite_synchronous="NORMAL", trusted_proxies="127.0.0.1/32",
                      collect_rate_per_ip=0.5, collect_rate_per_site=1)
    server = serve_in_thread(create_app(config, engine=engine))
    yield server
    server.stop()


def send(server: LiveServer, key: str, address: str | None) -> httpx.Response:
    headers = {"content-type": "text/plain", "user-agent": CHROME}
    if address:
        headers["x-forwarded-for"] = address
    body = {"site": key, "type": "pageview", "url": "https://example.com/"}
    return httpx.post(f"{server.url}/api/collect", content=json.dumps(body), headers=headers,
                      timeout=10)


def count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_429_per_address_after_the_burst(limited: LiveServer, engine: Engine) -> None:
    key = create_site(engine, "Example", "example.com").site.key
    answers = [send(limited, key, "198.51.100.7").status_code for _ in range(5)]
    assert answers == [202] * 5
    r = send(limited, key, "198.51.100.7")
    assert r.status_code == 429 and r.headers["retry-after"] in ("1", "2")
    body: dict[str, Any] = r.json()
    assert body["error"] == "rate_limited_ip"
    assert body["retry_after"] == int(r.headers["retry-after"])
    assert f"retry after {body['retry_after']} s" in body["detail"]
    pixel = httpx.get(f"{limited.url}/p.gif", params={"site": key, "url": "https://example.com/"},
                      headers={"x-forwarded-for": "198.51.100.7", "user-agent": CHROME})
    assert pixel.status_code == 429  # the pixel shares the address's bucket
    assert send(limited, key, "198.51.100.8").status_code == 202  # another address
    assert send(limited, key, None).status_code == 202  # loopback: not limited per address
    assert count(engine, hits) == 7 and count(engine, quarantine) == 0  # 429s not kept
    metrics = httpx.get(f"{limited.url}/metrics").text
    assert 'webleads_requests_rejected_total{reason="rate_limited_ip"} 2' in metrics


def test_429_per_site_after_the_burst(limited: LiveServer, engine: Engine) -> None:
    key = create_site(engine, "Example", "example.com").site.key
    other = create_site(engine, "Other", "other.example").site.key
    answers = [send(limited, key, f"198.51.100.{i}").status_code for i in range(1, 11)]
    assert answers == [202] * 10
    r = send(limited, key, "203.0.113.1")
    assert r.status_code == 429 and r.json()["error"] == "rate_limited_site"
    assert int(r.headers["retry-after"]) >= 1
    assert send(limited, other, "203.0.113.1").status_code == 202  # other sites go on
    metrics = httpx.get(f"{limited.url}/metrics").text
    assert 'webleads_requests_rejected_total{reason="rate_limited_site"} 1' in metrics


def test_normal_traffic_is_not_limited_by_the_defaults(settings: Settings,
                                                       engine: Engine) -> None:
    """An office of 40 people behind one address, each loading 5 pages, plus 200 other
    visitors: nothing is refused with the default settings."""
    config = Settings(database_url=settings.database_url, secret_key="test-secret",
                      sqlite_synchronous="NORMAL", trusted_proxies="127.0.0.1/32")
    assert (config.collect_rate_per_ip, config.collect_rate_per_site) == (50, 1000)
    server = serve_in_thread(create_app(config, engine=engine))
    try:
        key = create_site(engine, "Example", "example.com").site.key
        with httpx.Client(base_url=server.url, timeout=10) as client:
            statuses = []
            for i in range(400):
                address = "198.51.100.1" if i % 2 else f"203.0.113.{i % 200}"
                body = json.dumps({"site": key, "type": "pageview", "url": "https://example.com/"})
                statuses.append(client.post("/api/collect", content=body, headers={
                    "content-type": "text/plain", "user-agent": CHROME,
                    "x-forwarded-for": address}).status_code)
        assert statuses == [202] * 400
    finally:
        server.stop()

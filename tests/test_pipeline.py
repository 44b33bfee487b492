"""The enrichment chain: how ``Pipeline`` runs steps, and ``build_pipeline``'s real chain."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from msgspec.structs import replace

from webleads.enrich.pipeline import Pipeline, PipelineConfigError, build_pipeline
from webleads.enrich.visitor import make_put_visitor
from webleads.model import Client, Drop, Hit, Network, PageGroupRule, Site
from webleads.networks.resolver import RangesResolver
from webleads.settings import Settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
SITE = Site(id=1, workspace_id=1, key="wl_site", name="Example", domain="example.com",
            page_groups=(PageGroupRule("crm", "/crm/**"),))


def client(site: Site = SITE, **fields: object) -> Client:
    values: dict[str, object] = {"ip": "198.51.100.23", "user_agent": CHROME, **fields}
    return Client(site=site, **values)  # type: ignore[arg-type]


def hit(c: Client, url: str = "https://www.example.com/", **fields: object) -> Hit:
    return Hit(client=c, type="pageview", ts=T0, received_at=T0, url=url,
               **fields)  # type: ignore[arg-type]


# -- Pipeline with small test steps -------------------------------------------------------

def tagging(name: str, calls: list[str]) -> Callable[[Client], Client]:
    def step(c: Client) -> Client:
        calls.append(name)
        return replace(c, browser=(c.browser or "") + name)
    return step


def test_steps_run_in_order_and_hits_see_the_enriched_client() -> None:
    calls: list[str] = []

    def hit_step(name: str) -> Callable[[Hit], Hit]:
        def step(h: Hit) -> Hit:
            calls.append(f"{name}:{h.url}")
            return replace(h, title=h.title + name)
        return step

    pipeline = Pipeline((tagging("a", calls), tagging("b", calls), tagging("c", calls)),
                        (hit_step("x"), hit_step("y")))
    kept, dropped = pipeline.run(client(), [hit(client(), "/1"), hit(client(), "/2")])
    assert dropped == []
    assert calls == ["a", "b", "c", "x:/1", "y:/1", "x:/2", "y:/2"]  # client steps once
    assert [h.title for h in kept] == ["xy", "xy"]
    assert all(h.client.browser == "abc" for h in kept)


def test_dropped_client_drops_every_hit_with_its_reason() -> None:
    calls: list[str] = []

    def drop_step(c: Client) -> Client | Drop:
        calls.append("drop")
        return Drop("headless_browser")

    def hit_step(h: Hit) -> Hit:
        calls.append("hit")
        return h

    pipeline = Pipeline((tagging("a", calls), drop_step, tagging("never", calls)), (hit_step,))
    kept, dropped = pipeline.run(client(), [hit(client()) for _ in range(3)])
    assert kept == [] and dropped == [Drop("headless_browser")] * 3
    assert calls == ["a", "drop"]  # no step after the drop, no hit step


def test_hit_level_drop_drops_that_hit_only() -> None:
    def drop_private(h: Hit) -> Hit | Drop:
        return Drop("bot") if "/private" in h.url else h

    def after(h: Hit) -> Hit:
        return replace(h, title="seen")

    pipeline = Pipeline((), (drop_private, after))
    kept, dropped = pipeline.run(client(), [hit(client(), "/a"), hit(client(), "/private"),
                                            hit(client(), "/b")])
    assert [h.url for h in kept] == ["/a", "/b"] and all(h.title == "seen" for h in kept)
    assert dropped == [Drop("bot")]


# -- build_pipeline: the real chain -------------------------------------------------------

ACME = Network(asn=64500, as_org="ACME-AS", org_name="ACME SA", org_domain="acme.fr",
               category="enterprise", confidence=0.95, country="FR")


def daily_salt(day: date) -> bytes:
    return hashlib.sha256(day.isoformat().encode()).digest()


@pytest.fixture(scope="module")
def chain() -> Pipeline:
    resolver = RangesResolver([("198.51.100.0/24", ACME)])
    return build_pipeline(resolver=resolver, salt_for=daily_salt, secret_key="test-secret")


def run_one(chain: Pipeline, c: Client, url: str = "https://www.example.com/") -> Hit | Drop:
    kept, dropped = chain.run(c, [hit(c, url)])
    return kept[0] if kept else dropped[0]


def test_realistic_hit_is_enriched(chain: Pipeline) -> None:
    result = run_one(chain, client(visitor="tag-id-0123456789abcd"),
                     "https://www.example.com/crm/features?utm_source=Newsletter"
                     "&utm_medium=email&utm_campaign=march")
    assert isinstance(result, Hit)
    c = result.client
    assert c.network == ACME and c.country == "FR"
    assert (c.browser, c.os, c.device_type) == ("Chrome", "Windows", "desktop")
    assert c.visitor_key == "tag-id-0123456789abcd"
    assert c.ip is None and c.ip_anon == "198.51.100.0"
    assert (result.source_class, result.utm_source, result.utm_campaign) == (
        "email", "newsletter", "march")
    assert result.page_group == "crm"


@pytest.mark.parametrize("store_raw_ip, ip, kept_ip", [
    (False, "198.51.100.23", None),
    (True, "198.51.100.23", "198.51.100.23"),
    (False, "2001:db8:abcd:12::1", None),
])
def test_raw_ip_is_cleared_unless_the_site_stores_it(chain: Pipeline, store_raw_ip: bool,
                                                     ip: str, kept_ip: str | None) -> None:
    site = replace_site(store_raw_ip=store_raw_ip)
    result = run_one(chain, client(site, ip=ip))
    assert isinstance(result, Hit)
    assert result.client.ip == kept_ip
    assert result.client.ip_anon is not None


def replace_site(**options: object) -> Site:
    fields = {f: getattr(SITE, f) for f in ("id", "workspace_id", "key", "name", "domain",
                                            "page_groups")}
    return Site(**{**fields, **options})


@pytest.mark.parametrize("ip, expected", [
    ("198.51.100.23", "198.51.100.0"),
    ("203.0.113.255", "203.0.113.0"),
    ("2001:db8:abcd:12::1", "2001:db8:abcd::"),
    ("2001:db8:abcd:ffff:ffff::", "2001:db8:abcd::"),
])
def test_truncate_mode(chain: Pipeline, ip: str, expected: str) -> None:
    result = run_one(chain, client(replace_site(ip_mode="truncate"), ip=ip))
    assert isinstance(result, Hit) and result.client.ip_anon == expected


def test_hash_mode(chain: Pipeline) -> None:
    other_secret = build_pipeline(resolver=RangesResolver([]), salt_for=daily_salt,
                                  secret_key="another-secret")

    def anon(ip: str, *, key: str = "wl_site", secret: str = "test-secret") -> str:
        pipeline = chain if secret == "test-secret" else other_secret
        result = run_one(pipeline, client(replace_site(ip_mode="hash", key=key), ip=ip))
        assert isinstance(result, Hit) and result.client.ip_anon is not None
        return result.client.ip_anon

    value = anon("198.51.100.23")
    assert re.fullmatch(r"[0-9a-f]{16}", value)
    assert anon("198.51.100.23") == value  # stable: visits can be counted per address
    assert anon("198.51.100.24") != value
    assert anon("198.51.100.23", key="wl_other") != value  # not linkable across sites
    assert anon("198.51.100.23", secret="another-secret") != value
    # not a plain hash of the address
    assert value not in hashlib.sha256(b"198.51.100.23").hexdigest()


@pytest.mark.parametrize("identity_mode, tag_id, uses_tag_id", [
    ("cookie", "tag-id-0123456789abcd", True),
    ("cookie", None, False),  # no id sent: the daily hash
    ("cookieless", "tag-id-0123456789abcd", False),  # a cookieless site ignores any id
])
def test_visitor_key_mode(chain: Pipeline, identity_mode: str, tag_id: str | None,
                          uses_tag_id: bool) -> None:
    result = run_one(chain, client(replace_site(identity_mode=identity_mode), visitor=tag_id))
    assert isinstance(result, Hit)
    key = result.client.visitor_key
    if uses_tag_id:
        assert key == tag_id
    else:
        assert key is not None and re.fullmatch(r"h-[0-9a-f]{24}", key)


def test_cookieless_key_uses_the_raw_ip_and_user_agent(chain: Pipeline) -> None:
    site = replace_site(identity_mode="cookieless")

    def key(**fields: object) -> str | None:
        result = run_one(chain, client(site, **fields))
        assert isinstance(result, Hit)
        return result.client.visitor_key

    base = key()
    assert key() == base
    # the raw address is still there when the visitor is hashed (anonymised after)
    assert key(ip="198.51.100.24") != base
    assert key(user_agent=CHROME.replace("131", "130")) != base
    other_site = run_one(chain, client(replace_site(identity_mode="cookieless", id=2)))
    assert isinstance(other_site, Hit) and other_site.client.visitor_key != base


def test_cookieless_key_is_stable_within_a_day_and_changes_with_the_day() -> None:
    days: list[date] = []

    def salt_for(day: date) -> bytes:
        days.append(day)
        return daily_salt(day)

    now = T0.replace(hour=0, minute=1)

    def clock() -> datetime:
        return now

    put_visitor = make_put_visitor(salt_for, now=clock)
    c = client(replace_site(identity_mode="cookieless"))
    morning = put_visitor(c).visitor_key
    now = T0.replace(hour=23, minute=59)
    evening = put_visitor(c).visitor_key
    now = T0 + timedelta(days=1)
    tomorrow = put_visitor(c).visitor_key
    assert morning == evening
    assert tomorrow != morning
    assert days == [T0.date(), T0.date(), T0.date() + timedelta(days=1)]


@pytest.mark.parametrize("ip, dropped", [
    ("192.0.2.10", True),
    ("192.0.2.255", True),
    ("2001:db8:1::5", True),
    ("198.51.100.23", False),
])
def test_ignored_network_drops(chain: Pipeline, ip: str, dropped: bool) -> None:
    site = replace_site(ignored_networks=("192.0.2.0/24", "2001:db8:1::/48"))
    result = run_one(chain, client(site, ip=ip))
    assert (result == Drop("ignored_network")) is dropped


@pytest.mark.parametrize("dnt, respect_dnt, dropped", [
    (True, True, True),
    (True, False, False),
    (False, True, False),
    (False, False, False),
])
def test_do_not_track(chain: Pipeline, dnt: bool, respect_dnt: bool, dropped: bool) -> None:
    result = run_one(chain, client(replace_site(respect_dnt=respect_dnt), dnt=dnt))
    assert (result == Drop("do_not_track")) is dropped
    if not dropped:
        assert isinstance(result, Hit)


def test_bots_are_dropped_first(chain: Pipeline) -> None:
    c = client(replace_site(ignored_networks=("198.51.100.0/24",)), dnt=True,
               user_agent="curl/8.5.0")
    kept, dropped = chain.run(c, [hit(c), hit(c)])
    assert kept == [] and dropped == [Drop("bot"), Drop("bot")]


def test_unknown_network_and_no_ip(chain: Pipeline) -> None:
    result = run_one(chain, client(ip="203.0.113.7"))
    assert isinstance(result, Hit)
    assert result.client.network is None and result.client.country is None
    assert result.client.ip_anon == "203.0.113.0"
    no_ip = run_one(chain, client(ip=None, visitor="tag-id-0123456789abcd"))
    assert isinstance(no_ip, Hit) and no_ip.client.ip_anon is None


def test_disabled_steps_are_left_out() -> None:
    resolver = RangesResolver([("198.51.100.0/24", ACME)])
    lean = build_pipeline(resolver=resolver, salt_for=daily_salt, secret_key="test-secret",
                          disabled={"put_network", "put_device", "put_page_group"})
    result = run_one(lean, client(visitor="tag-id-0123456789abcd"),
                     "https://www.example.com/crm/features")
    assert isinstance(result, Hit)
    assert result.client.network is None and result.client.browser is None
    assert result.page_group is None
    assert result.client.ip is None  # anonymisation still ran
    assert len(lean.client_steps) == 9 and len(lean.hit_steps) == 2


def test_bad_step_configuration_reports_every_problem() -> None:
    with pytest.raises(PipelineConfigError) as caught:
        build_pipeline(resolver=RangesResolver([]), salt_for=daily_salt, secret_key="s",
                       disabled={"put_anonymised_ip", "put_weather"})
    message = str(caught.value)
    assert "'put_anonymised_ip' cannot be disabled" in message
    assert "'put_weather' is not a step" in message
    with pytest.raises(ValueError, match="put_visitor"):
        Settings(enrich_disable="put_geo, put_visitor")
    assert Settings(enrich_disable=" put_geo ,put_device").disabled_steps == {"put_geo",
                                                                              "put_device"}

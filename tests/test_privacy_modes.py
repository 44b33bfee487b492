"""Privacy modes (webleads/privacy/modes.py): the audience mode stores no organisation, no
contact and no IP beyond its truncated form, in any column of any table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer, serve_in_thread
from webleads.app import create_app
from webleads.db import privacy as privacy_db
from webleads.db import schema
from webleads.db.reidentify import reidentify
from webleads.db.schema import metadata
from webleads.enrich.pipeline import build_pipeline
from webleads.model import Client, Drop, Hit, Network, Site
from webleads.networks.overrides import OverrideBook
from webleads.networks.resolver import RangesResolver
from webleads.privacy import modes
from webleads.privacy.audit import entries
from webleads.privacy.modes import ModeConflict, consent_verdict, redact_payload
from webleads.privacy.retention import Retention, purge, set_retention
from webleads.settings import Settings
from webleads.sites import SiteError, create_site, snippet, update_site

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
ACME = Network(asn=4200000123, as_org="ACME-AS", org_name="Acme Industries",
               org_domain="acme-industries.example", category="enterprise", confidence=0.95,
               country="FR")
RESOLVER = RangesResolver([("198.51.100.0/24", ACME), ("2001:db8:1234::/48", ACME)])
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# What must never be stored in audience mode, lower case: the organisation (its name, AS
# name, number and domain, which the e-mail addresses share), the contacts (the local part
# of each address), the raw IP addresses, an ad click id.
ORGANISATION = ("acme industries", "acme-as", "4200000123", "acme-industries.example")
CONTACTS = ("zoe.lead", "max.form", "prop.mail", "server.side")
RAW_IPS = ("198.51.100.77", "198.51.100.78", "2001:db8:1234:5678")
FORBIDDEN = ORGANISATION + CONTACTS + RAW_IPS + ("gclid-secret-42",)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1").lower()
    if isinstance(value, dict | list):
        return json.dumps(value).lower()
    return str(value).lower()


def stored_leaks(engine: Engine, tokens: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(table, column, token) for every token found in any column of any table: every
    table of the schema, so that a new table is inspected without changing this test."""
    found = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    text = _text(value)
                    found += [(table.name, column.name, t) for t in tokens if t in text]
    return sorted(set(found))


@pytest.fixture
def tracker(settings: Settings, engine: Engine) -> Iterator[LiveServer]:
    """The real app, behind a trusted proxy (so X-Forwarded-For sets the visitor's
    address), with a resolver that knows Acme Industries' networks."""
    config = Settings(database_url=settings.database_url, secret_key="test-secret",
                      sqlite_synchronous="NORMAL", trusted_proxies="127.0.0.1/32")
    server = serve_in_thread(create_app(config, engine=engine, resolver=RESOLVER))
    yield server
    server.stop()


def realistic_traffic(server: LiveServer, key: str, secret: str) -> None:
    """What a B2B site receives: tag batches with forms, identify calls and e-mails in
    URLs, an IPv6 visitor, the pixel, a server-side sender, refused requests, DNT."""
    page = "https://www.shop.example"
    tag = {"content-type": "text/plain;charset=UTF-8", "user-agent": CHROME,
           "origin": page, "x-forwarded-for": "198.51.100.77"}
    email_url = f"{page}/thanks?email=zoe.lead%40acme-industries.example&utm_source=crm"
    batch = [
        {"site": key, "type": "pageview", "visitor": "cookie-id-0000000001",
         "url": f"{page}/pricing?utm_source=newsletter&utm_medium=email"
                "&utm_content=zoe.lead%40acme-industries.example&gclid=gclid-secret-42",
         "referrer": "https://www.google.com/", "title": "Pricing"},
        {"site": key, "type": "identify", "visitor": "cookie-id-0000000001",
         "email": "Zoe.Lead@acme-industries.example", "url": f"{page}/pricing",
         "traits": {"company": "Acme Industries", "plan": "pro"}},
        {"site": key, "type": "form", "visitor": "cookie-id-0000000001", "name": "contact",
         "email": "max.form@acme-industries.example", "url": f"{page}/contact",
         "props": {"id": "contact-form"}},
        {"site": key, "type": "event", "visitor": "cookie-id-0000000001", "name": "download",
         "url": f"{page}/pricing", "props": {"reader": "prop.mail@acme-industries.example"}},
        {"site": key, "type": "pageview", "visitor": "cookie-id-0000000001", "url": email_url,
         "title": "Welcome zoe.lead@acme-industries.example"},
        {"site": key, "type": "engagement", "visitor": "cookie-id-0000000001",
         "url": email_url, "engaged_ms": 15000},
    ]
    responses = [httpx.post(f"{server.url}/api/collect", content=json.dumps(batch),
                            headers=tag, timeout=10)]
    v6 = {**tag, "x-forwarded-for": "2001:db8:1234:5678::9"}
    responses.append(httpx.post(f"{server.url}/api/collect", headers=v6, timeout=10,
                                content=json.dumps([
                                    {"site": key, "type": "pageview", "url": f"{page}/"},
                                    {"site": key, "type": "identify", "url": f"{page}/",
                                     "email": "zoe.lead@acme-industries.example"}])))
    responses.append(httpx.get(f"{server.url}/p.gif", headers=tag, timeout=10,
                               params={"site": key, "url": email_url}))
    server_side = {"content-type": "application/json", "authorization": f"Bearer {secret}"}
    responses.append(httpx.post(f"{server.url}/api/collect", headers=server_side, timeout=10,
                                content=json.dumps([
                                    {"site": key, "type": "identify", "ip": "198.51.100.78",
                                     "user_agent": CHROME, "visitor": "crm-user-000042",
                                     "email": "server.side@acme-industries.example"},
                                    {"site": key, "type": "pageview", "ip": "198.51.100.78",
                                     "user_agent": CHROME, "visitor": "crm-user-000042",
                                     "url": f"{page}/account"}])))
    for hit in responses:
        assert hit.status_code in (200, 202), hit.text
    refused = [
        # an identify call next to a broken hit: the whole request goes to quarantine
        (tag, [{"site": key, "type": "identify", "email": "zoe.lead@acme-industries.example"},
               {"site": key, "type": "engagement", "url": f"{page}/"}]),
        # a server-side hit dated too far back, with the visitor's address in the body
        (server_side, [{"site": key, "type": "pageview", "url": f"{page}/", "ts": 1,
                        "ip": "198.51.100.78", "email": "server.side@acme-industries.example"}]),
    ]
    for headers, body in refused:
        r = httpx.post(f"{server.url}/api/collect", content=json.dumps(body), headers=headers,
                       timeout=10)
        assert r.status_code == 400, r.text
    for extra in ({"dnt": "1"}, {}):  # a DNT request, then a refused consent
        r = httpx.post(f"{server.url}/api/collect", headers={**tag, **extra}, timeout=10,
                       content=json.dumps({"site": key, "type": "pageview", "url": email_url,
                                           "visitor": "cookie-id-0000000002",
                                           "consent": False}))
        assert r.status_code == 202, r.text


def test_audience_mode_stores_no_organisation_contact_or_ip(
        tracker: LiveServer, engine: Engine) -> None:
    made = create_site(engine, "Shop", "shop.example", privacy_mode="audience")
    realistic_traffic(tracker, made.site.key, made.secret)

    assert stored_leaks(engine, FORBIDDEN) == []
    with engine.connect() as conn:  # and the traffic was measured, not thrown away
        hits = conn.execute(sa.text("SELECT ip_anon, visitor_key, network_category, country, "
                                    "url, title FROM hits")).all()
        drops = dict(conn.execute(sa.text("SELECT reason, count FROM drops")).all())
    assert len(hits) == 9
    assert {h.ip_anon for h in hits} == {"198.51.100.0", "2001:db8:1234::"}
    assert all(h.visitor_key.startswith("a-") for h in hits)
    assert {h.network_category for h in hits} == {"enterprise"}
    assert {h.country for h in hits} == {"FR"}
    assert any("?email=[email]&" in h.url for h in hits)
    assert any(h.title == "Welcome [email]" for h in hits)
    assert drops == {"no_identification": 3, "do_not_track": 1}

    # Re-identifying stored hits later finds nothing to name either.
    report = reidentify(engine, RESOLVER, OverrideBook(engine))
    assert report.hits_changed == 0 and stored_leaks(engine, FORBIDDEN) == []


def test_the_same_traffic_in_b2b_mode_shows_what_the_inspection_catches(
        tracker: LiveServer, engine: Engine) -> None:
    """The control: the same traffic on a B2B site that also stores raw IPs holds every
    kind of forbidden value, so the inspection above can fail."""
    made = create_site(engine, "Shop", "shop.example", store_raw_ip=True)
    realistic_traffic(tracker, made.site.key, made.secret)
    found = {token for _, _, token in stored_leaks(engine, FORBIDDEN)}
    assert set(ORGANISATION) <= found
    assert set(CONTACTS) <= found
    assert set(RAW_IPS) <= found


def test_refused_request_with_an_impossible_site_key_is_a_400(live_server: LiveServer) -> None:
    """Regression (fuzzing): looking up the site of a refused request, to know whether its
    body must be cleaned, read the database with a NUL in the key: a 500 on PostgreSQL."""
    r = httpx.get(f"{live_server.url}/p.gif", params={"site": "\x00", "url": "https://a.example/"},
                  headers={"user-agent": CHROME}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_field"


# -- the steps, without a database ---------------------------------------------------------

SITE = Site(id=1, workspace_id=1, key="wl_site", name="Shop", domain="shop.example")


class SpyResolver:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def lookup(self, ip: str) -> Network | None:
        self.seen.append(ip)
        return RESOLVER.lookup(ip)


def run(site: Site, *, ip: str = "198.51.100.77", visitor: str | None = "cookie-id-0001",
        consent: bool | None = None, type_: str = "pageview", spy: SpyResolver | None = None,
        **fields: Any) -> Hit | Drop:
    pipeline = build_pipeline(resolver=spy or SpyResolver(), salt_for=lambda day: b"s" * 32,
                              secret_key="k")
    client = pipeline.run_client(Client(site=site, ip=ip, user_agent=CHROME, visitor=visitor,
                                        consent=consent))
    if isinstance(client, Drop):
        return client
    return pipeline.run_hit(Hit(client=client, type=type_, ts=T0,  # type: ignore[arg-type]
                                received_at=T0, **fields))


@pytest.mark.parametrize("ip, truncated", [("198.51.100.77", "198.51.100.0"),
                                           ("2001:db8:1234:5678::9", "2001:db8:1234::")])
def test_audience_mode_truncates_the_ip_before_any_lookup(ip: str, truncated: str) -> None:
    spy = SpyResolver()
    hit = run(replace(SITE, privacy_mode="audience"), ip=ip, spy=spy,
              url="https://shop.example/")
    assert isinstance(hit, Hit)
    assert spy.seen == [truncated]
    client = hit.client
    assert (client.ip, client.ip_anon, client.identify) == (None, truncated, False)
    assert client.network == Network(category="enterprise", country="FR")
    assert client.visitor_key == "a-cookie-id-0001"

    b2b = SpyResolver()
    hit = run(SITE, ip=ip, spy=b2b, url="https://shop.example/")
    assert isinstance(hit, Hit) and b2b.seen == [ip]
    assert hit.client.network == ACME and hit.client.visitor_key == "cookie-id-0001"


def test_no_identification_form_removes_what_names_a_person() -> None:
    audience = replace(SITE, privacy_mode="audience")
    assert run(audience, type_="identify", email="zoe@acme.example") == Drop("no_identification")
    url = ("https://shop.example/p?utm_source=Mail&utm_term=zoe%40acme.example&gclid=abc123"
           "&x=1#top")
    hit = run(audience, type_="form", url=url, email="zoe@acme.example", name="zoe@acme.example",
              referrer="https://l.example/?fbclid=xyz&to=ZOE@ACME.EXAMPLE",
              title="Hello zoe@acme.example", props={"who": "zoe@acme.example", "n": 3},
              traits={"plan": "pro"})
    assert isinstance(hit, Hit)
    assert hit.email is None and hit.traits is None
    assert hit.url == "https://shop.example/p?utm_source=Mail&utm_term=[email]&gclid=&x=1#top"
    assert hit.referrer == "https://l.example/?fbclid=&to=[email]"
    assert (hit.title, hit.name) == ("Hello [email]", "[email]")
    assert hit.props == {"who": "[email]", "n": 3}
    assert hit.utm_term == "[email]" and hit.utm_source == "mail"
    assert (hit.click_id_kind, hit.click_id, hit.source_class) == ("gclid", None, "paid")


@pytest.mark.parametrize("mode, consent, verdict", [
    ("wait", None, "drop"), ("wait", False, "drop"), ("wait", True, "full"),
    ("anonymous", None, "anonymous"), ("anonymous", False, "anonymous"),
    ("anonymous", True, "full"),
    ("ignore", None, "full"), ("ignore", False, "anonymous"), ("ignore", True, "full"),
])
def test_consent_verdict(mode: Any, consent: bool | None, verdict: str) -> None:
    assert consent_verdict(mode, consent) == verdict
    hit = run(replace(SITE, consent=mode), consent=consent, url="https://shop.example/")
    if verdict == "drop":
        assert hit == Drop("no_consent")
        return
    assert isinstance(hit, Hit)
    assert hit.client.identify is (verdict == "full")
    key = hit.client.visitor_key or ""
    if verdict == "full":
        assert key == "cookie-id-0001"
    else:  # without consent the tag's id is not used: a daily hash of the truncated address
        assert key.startswith("a-") and "cookie" not in key


def test_opted_out_request_is_dropped_first() -> None:
    pipeline = build_pipeline(resolver=SpyResolver(), salt_for=lambda day: b"s" * 32,
                              secret_key="k")
    result = pipeline.run_client(Client(site=SITE, ip="198.51.100.77", user_agent="curl/8",
                                        opted_out=True))
    assert result == Drop("opted_out")  # not "bot": the person's choice is counted


def test_quarantined_payloads_lose_addresses() -> None:
    body = (b'[{"email":"Zoe.Lead@acme.example","ip":"198.51.100.7","url":"https://x.example/'
            b'?m=zoe%40acme.example"},{"ip":"2001:db8::1","ts":"2026-01-01T10:00:00Z"}]')
    cleaned = redact_payload(body)
    assert cleaned == (b'[{"email":"[email]","ip":"[ip]","url":"https://x.example/?m=[email]"},'
                       b'{"ip":"[ip]","ts":"2026-01-01T10:00:00Z"}]')


# -- site options, snippet, retention --------------------------------------------------------

@pytest.mark.parametrize("options, option", [
    ({"privacy_mode": "anonymous"}, "privacy-mode"),
    ({"privacy_mode": ""}, "privacy-mode"),
    ({"consent": "yes"}, "consent"),
    ({"consent": "WAIT"}, "consent"),
    ({"privacy_mode": "audience", "store_raw_ip": True}, "store-ip"),
])
def test_bad_privacy_options_name_the_field(engine: Engine, options: dict[str, Any],
                                            option: str) -> None:
    with pytest.raises(SiteError, match=f"^{option}:"):
        create_site(engine, "Shop", "shop.example", **options)
    made = create_site(engine, "Shop", "shop.example", store_raw_ip=True)
    if option != "store-ip":
        with pytest.raises(SiteError, match=f"^{option}:"):
            update_site(engine, made.site.key, **options)
    else:
        with pytest.raises(SiteError, match="^store-ip:"):
            update_site(engine, made.site.key, store_raw_ip=True, privacy_mode="audience")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT privacy_mode, consent FROM sites")).all() == [
            ("b2b", "ignore")]


def test_snippet_carries_the_consent_mode() -> None:
    assert 'data-consent' not in snippet(SITE, "https://t.example")
    anonymous = snippet(replace(SITE, consent="anonymous"), "https://t.example")
    assert 'data-consent="anonymous"' in anonymous and "p.gif" in anonymous
    wait = snippet(replace(SITE, consent="wait"), "https://t.example")
    assert 'data-consent="wait"' in wait and "p.gif" not in wait  # a pixel cannot wait


def test_moving_to_audience_caps_retention_and_raw_ips_and_is_audited(engine: Engine) -> None:
    made = create_site(engine, "Shop", "shop.example", store_raw_ip=True)
    site_id = made.site.id
    set_retention(engine, site_id, Retention(1000, 900, 1200), by="admin", now=T0)
    updated = update_site(engine, made.site.key, privacy_mode="audience", consent="anonymous",
                          by="admin@shop.example", now=T0)
    assert (updated.privacy_mode, updated.consent, updated.store_raw_ip) == (
        "audience", "anonymous", False)
    with engine.connect() as conn:
        row = privacy_db.site_rows(conn, site_id=site_id)[0]
        log = entries(conn)
    assert (row.hits_days, row.sessions_days, row.contacts_days) == (760, 760, 1200)
    assert log[0].action == "site.privacy" and log[0].actor == "admin@shop.example"
    assert log[0].details == {"privacy_mode": "audience", "consent": "anonymous",
                              "store_raw_ip": False,
                              "retention": {"hits_days": 760, "sessions_days": 760,
                                            "contacts_days": 1200}}
    with pytest.raises(ModeConflict, match="760"):
        set_retention(engine, site_id, Retention(761, 700, 1200), by="admin", now=T0)
    set_retention(engine, site_id, Retention(390, 760, 1200), by="admin", now=T0)
    update_site(engine, made.site.key, privacy_mode="b2b", now=T0)
    set_retention(engine, site_id, Retention(1000, 1000, 1200), by="admin", now=T0)


def test_audience_data_is_purged_after_25_months(engine: Engine) -> None:
    made = create_site(engine, "Shop", "shop.example", privacy_mode="audience")
    assert modes.retention_problem("audience", hits_days=400, sessions_days=760) is None
    page = {"site_id": made.site.id, "visitor_key": "a-x"}
    with engine.begin() as conn:  # a session and its hit, 761 days old
        conn.execute(sa.insert(schema.sessions).values(
            id=1, started_at=T0, last_seen=T0, hits=1, pageviews=1, engaged_ms=0,
            entry_url="https://shop.example/", referrer="", **page))
        conn.execute(sa.insert(schema.hits).values(
            session_id=1, ts=T0, received_at=T0, type="pageview", url="https://shop.example/",
            referrer="", title="", engaged_ms=0, **page))
    report = purge(engine, now=T0 + timedelta(days=761))
    assert (report.hits, report.sessions) == (1, 1)

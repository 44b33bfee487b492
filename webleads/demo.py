"""``webleads demo``: weeks of realistic B2B traffic, sent through the real collect path.

``demo_hits`` simulates the visitors of a fictional software vendor's site
(``demo_data``): employees of a few hundred fictional organisations on their own
networks (a Zipf-like spread: a few hot accounts, a long tail), anonymous visitors
on ISP and mobile networks, a few VPN exits on hosting networks, and crawlers.
People come back across days with the same first-party visitor id, mostly in
office hours of their own time zone on weekdays, through direct visits, search,
social posts, newsletters, paid campaigns with their own windows, and partner
links; they read 1 to 8 pages, watch videos, download PDFs, and some book a demo
(form + identify with an e-mail on their organisation's ``.example`` domain).
Interest deepens with visits (blog -> products -> pricing -> demo) and traffic grows
over the period.  The same arguments give the same hits.

``run_demo`` posts them with the site's secret key (the server-side variant: each
hit carries its visitor's ``ip``, ``user_agent`` and a backdated ``ts``), in
batches of up to 100 hits, so enrichment, bot drops, sessions, accounts and
contacts are exactly what real traffic would give.  The app must be built with
``demo_networks(organisations, seed)`` as its resolver so the fictional networks
are known.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import math
import random
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import msgspec

from webleads import demo_data as data
from webleads.collect.wire import MAX_HITS
from webleads.demo_data import DemoOrganisation, demo_networks, demo_organisations, slug

if TYPE_CHECKING:
    from webleads.app import WebleadsApp

__all__ = ["DemoError", "DemoReport", "demo_hits", "demo_networks", "demo_organisations",
           "run_demo"]

LANES = 8  # concurrent senders; a visitor's hits always go through the same one, in order
BOT_SHARE = 0.07
_OFFICE_HOURS = {8: 4, 9: 10, 10: 13, 11: 12, 12: 5, 13: 6, 14: 11, 15: 12, 16: 10, 17: 6,
                 18: 3, 19: 1}
_HOME_HOURS = {7: 2, 8: 3, 9: 4, 10: 5, 11: 5, 12: 6, 13: 6, 14: 5, 15: 5, 16: 5, 17: 6,
               18: 8, 19: 9, 20: 10, 21: 9, 22: 6, 23: 2}
_PAGES_PER_VISIT = {0: (36, 20, 15, 10, 8, 5, 3, 3), 1: (25, 18, 17, 13, 10, 8, 5, 4),
                    2: (15, 15, 16, 15, 13, 11, 8, 7)}
_TOPICS: dict[str, dict[str, float]] = {  # persona[/stage] -> topic weights
    "prospect/0": {"home": 2, "blog": 3, "interest": 3, "other": 1, "pricing": 0.7,
                   "company": 1, "docs": 0.3, "contact": 0.15, "careers": 0.2},
    "prospect/1": {"home": 0.7, "blog": 1.5, "interest": 4, "other": 1.5, "pricing": 2,
                   "company": 1.2, "docs": 1, "contact": 0.5, "careers": 0.1},
    "prospect/2": {"home": 0.3, "blog": 0.5, "interest": 3, "other": 1, "pricing": 3,
                   "company": 1.2, "docs": 1.5, "contact": 1.5},
    "customer": {"docs": 6, "interest": 1.5, "blog": 1, "pricing": 0.6, "home": 0.5,
                 "contact": 0.3, "company": 0.3},
    "competitor": {"pricing": 3, "interest": 2, "other": 2, "careers": 1, "blog": 1,
                   "company": 1.5, "docs": 0.5},
    "reader": {"blog": 5, "home": 1, "interest": 1, "careers": 0.3, "company": 0.5,
               "pricing": 0.3},
    "jobseeker": {"careers": 5, "company": 2, "home": 1, "blog": 1},
}
_INTERESTS = {"banking": "analytics", "insurance": "analytics", "retail": "automation",
              "logistics": "automation", "industry": "crm", "automotive": "crm",
              "media": "automation", "software": "analytics"}
_PEOPLE = {"10-49": (1, 2), "50-249": (1, 3), "250-999": (2, 5), "1000-4999": (3, 8),
           "5000+": (4, 12)}
_SIZE_PULL = {"10-49": 0.5, "50-249": 0.8, "250-999": 1.0, "1000-4999": 1.4, "5000+": 1.8}

Page = tuple[str, str, str]  # path, title, topic


class DemoError(RuntimeError):
    """The collect endpoint refused demo traffic (wrong key or secret, storage down)."""


@dataclass(frozen=True, slots=True)
class DemoReport:
    hits_sent: int
    accepted: int
    dropped: int
    organisations: int
    days: int
    seconds: float = 0.0


@dataclass(slots=True)
class _Account:
    org: DemoOrganisation
    weight: float
    profile: tuple[str, float]  # steady / rising / burst (around a day)
    relationship: str  # prospect, customer, competitor
    interest: str
    people: list[_Person]
    sessions: int = 0


@dataclass(slots=True)
class _Person:
    visitor: str
    agent: str
    ip: str
    country: str
    language: str
    zone: ZoneInfo
    persona: str
    interest: str
    account: _Account | None = None
    home_ip: str | None = None  # employees: their home ISP address
    rotating: str | None = None  # mobile network: a new address per visit
    subscriber: bool = False  # receives the newsletter
    visits: int = 0
    email: str | None = None


def demo_hits(*, site_key: str, days: int = 30, organisations: int = 300, seed: int = 7,
              now: datetime | None = None) -> list[dict[str, Any]]:
    """The demo's hits as collect JSON objects, in time order, none after ``now``."""
    if not 1 <= days <= 365:
        raise ValueError("days: 1 to 365")
    return _Simulation(site_key, days, organisations, seed, now or datetime.now(UTC)).run()


async def run_demo(app: WebleadsApp, *, site_key: str, site_secret: str, days: int = 30,
                   organisations: int = 300, seed: int = 7, now: datetime | None = None,
                   progress: Callable[[int, int], None] | None = None) -> DemoReport:
    """Send the demo traffic to ``app``'s /api/collect, in process; starts and stops the
    app's writer, so everything is committed on return.  ``progress(sent, total)`` is
    called after each request."""
    hits = demo_hits(site_key=site_key, days=days, organisations=organisations, seed=seed,
                     now=now)
    lanes: list[list[dict[str, Any]]] = [[] for _ in range(LANES)]
    for hit in hits:
        key = hit.get("visitor") or f"{hit['ip']} {hit['user_agent']}"
        lanes[zlib.crc32(key.encode()) % LANES].append(hit)
    total, counts = len(hits), {"sent": 0, "accepted": 0, "dropped": 0}
    encode = msgspec.json.Encoder().encode
    started = time.perf_counter()

    async def send(client: httpx.AsyncClient, lane: list[dict[str, Any]]) -> None:
        for start in range(0, len(lane), MAX_HITS):
            batch = lane[start:start + MAX_HITS]
            body = await _post(client, encode(batch))
            counts["sent"] += len(batch)
            counts["accepted"] += int(body.get("accepted", 0))
            counts["dropped"] += int(body.get("dropped", 0))
            if progress is not None:
                progress(counts["sent"], total)

    async with app.running():
        headers = {"authorization": f"Bearer {site_secret}", "content-type": "application/json"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=data.BASE_URL, headers=headers) as client:
            await asyncio.gather(*(send(client, lane) for lane in lanes))
    return DemoReport(hits_sent=counts["sent"], accepted=counts["accepted"],
                      dropped=counts["dropped"], organisations=organisations, days=days,
                      seconds=round(time.perf_counter() - started, 3))


async def _post(client: httpx.AsyncClient, body: bytes) -> dict[str, Any]:
    """POST one batch; retry while the writer is busy (503 overloaded), a few times only
    when storage failed (503 unavailable); any other refusal is a ``DemoError``."""
    failures = 0
    for attempt in range(100):
        response = await client.post("/api/collect", content=body)
        if response.status_code == 202:
            result: dict[str, Any] = response.json()
            return result
        if response.status_code != 503:
            break
        if response.json().get("error") != "overloaded":
            failures += 1
            if failures == 3:
                break
        await asyncio.sleep(min(0.05 * (attempt + 1), 1.0))
    raise DemoError(f"/api/collect answered {response.status_code}: {response.text}")


class _Simulation:
    def __init__(self, site_key: str, days: int, organisations: int, seed: int,
                 now: datetime) -> None:
        self.site_key, self.days, self.now = site_key, days, now.astimezone(UTC)
        self.now_ms = int(self.now.timestamp() * 1000)
        self.rng = random.Random(f"webleads-demo/traffic/{seed}")
        self.hits: list[dict[str, Any]] = []
        self.today = self.now.astimezone(ZoneInfo(data.SITE_TIMEZONE)).date()
        self.isps: dict[str, list[tuple[str, str]]] = {}
        for _, country, category, cidr, cidr6 in data.ISPS:
            self.isps.setdefault(country, []).append((category, cidr))
            if cidr6:
                self.isps[country].append((category, cidr6))
        self.accounts = [self._account(org) for org in demo_organisations(organisations, seed)]
        # Zipf-like: the account ranked r (bigger organisations rank higher, on average)
        # gets 1 / (r + 3) of the organisations' visits: a few hot accounts, a long tail.
        ranked = sorted(self.accounts, key=lambda a: a.weight, reverse=True)
        for rank, account in enumerate(ranked):
            account.weight = 1 / (rank + 3)
        self.anonymous = [self._anonymous() for _ in range(2 * organisations)]
        self.anon_weights = [1 / (rank + 4) for rank in range(len(self.anonymous))]
        self.rate = 0.3 * organisations  # sessions per weekday, for each of org and anonymous

    # -- the population ---------------------------------------------------------------
    def _account(self, org: DemoOrganisation) -> _Account:
        rng = self.rng
        kind = rng.choices(("steady", "rising", "burst"), (60, 25, 15))[0]
        relationship = rng.choices(("prospect", "customer", "competitor"),
                                   (82, 12, 6) if org.sector != "software" else (60, 10, 30))[0]
        interest = _INTERESTS.get(org.sector) if rng.random() < 0.6 else None
        account = _Account(org, rng.random() * _SIZE_PULL[org.size],
                           (kind, rng.uniform(self.days * 0.3, self.days - 1)), relationship,
                           interest or rng.choice(data.PRODUCTS), [])
        low, high = _PEOPLE[org.size]
        for _ in range(rng.randint(low, high)):
            v6 = org.cidr6 is not None and rng.random() < 0.5
            person = self._person(org.country, org.language, org.timezone,
                                  _address(rng, org.cidr6 if v6 and org.cidr6 else org.cidr),
                                  mobile=rng.random() < 0.1)
            person.account, person.persona = account, relationship
            person.interest = interest or account.interest
            person.home_ip = _address(rng, self._isp(org.country, mobile=False)[1])
            person.subscriber = rng.random() < 0.4
            account.people.append(person)
        return account

    def _anonymous(self) -> _Person:
        rng = self.rng
        country = rng.choices(list(data.COUNTRIES), (60, 7, 5, 2, 7, 7, 3, 3, 3, 3))[0]
        language, zone = data.COUNTRIES[country][1][0], data.COUNTRIES[country][2]
        mobile = rng.random() < 0.3
        category, cidr = self._isp(country, mobile=mobile)
        person = self._person(country, language, zone, _address(rng, cidr), mobile=mobile)
        person.persona = rng.choices(("reader", "prospect", "jobseeker", "competitor",
                                      "customer"), (40, 30, 15, 5, 10))[0]
        person.rotating = cidr if category == "mobile" else None
        person.subscriber = rng.random() < 0.25
        return person

    def _person(self, country: str, language: str, zone: str, ip: str, *,
                mobile: bool) -> _Person:
        rng = self.rng
        agents = data.MOBILE_AGENTS if mobile else data.DESKTOP_AGENTS
        agent = rng.choices([a for a, _ in agents], [w for _, w in agents])[0]
        visitor = base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big"))[:22]
        return _Person(visitor.decode(), agent, ip, country, language, ZoneInfo(zone),
                       "reader", rng.choice(data.PRODUCTS))

    def _isp(self, country: str, *, mobile: bool) -> tuple[str, str]:
        networks = self.isps[country]
        wanted = [n for n in networks if (n[0] == "mobile") == mobile] or networks
        return self.rng.choice(wanted)

    # -- the days ---------------------------------------------------------------------
    def run(self) -> list[dict[str, Any]]:
        rng = self.rng
        for d in range(self.days):
            day = self.today - timedelta(days=self.days - 1 - d)
            growth = 0.8 + 0.45 * d / max(self.days - 1, 1)
            weekend = day.weekday() >= 5
            weights = [a.weight * _activity(a.profile, d, self.days) for a in self.accounts]
            for account in rng.choices(self.accounts, weights,
                                       k=self._poisson(self.rate * growth * (0.12 if weekend
                                                                              else 1.0))):
                people = account.people
                person = rng.choices(people, [1 / (j + 1) ** 1.2 for j in range(len(people))])[0]
                self._visit(person, day, d)
            for person in rng.choices(self.anonymous, self.anon_weights,
                                      k=self._poisson(self.rate * growth * (0.55 if weekend
                                                                             else 1.0))):
                self._visit(person, day, d)
            for _ in range(self._poisson(self.rate * growth / 30)):
                self._visit(self._vpn_user(), day, d)
        self._bots()
        self.hits.sort(key=lambda h: h["ts"])
        return [h for h in self.hits if h["ts"] <= self.now_ms]

    def _vpn_user(self) -> _Person:
        cidr = self.rng.choice(data.HOSTING)[2]
        person = self._person("FR", "fr", data.SITE_TIMEZONE, _address(self.rng, cidr),
                              mobile=False)
        person.persona = self.rng.choice(("reader", "prospect", "competitor"))
        return person

    def _poisson(self, lam: float) -> int:
        if lam > 30:
            return max(0, round(self.rng.gauss(lam, math.sqrt(lam))))
        limit, k, p = math.exp(-lam), 0, self.rng.random()
        while p > limit:
            k, p = k + 1, p * self.rng.random()
        return k

    # -- one visit --------------------------------------------------------------------
    def _visit(self, person: _Person, day: date, d: int) -> None:
        rng = self.rng
        account = person.account
        weekend = day.weekday() >= 5
        at_home = account is not None and (weekend or rng.random() < 0.15)
        hours = _OFFICE_HOURS if account is not None and not at_home else _HOME_HOURS
        hour = rng.choices(list(hours), list(hours.values()))[0]
        local = datetime.combine(day, clock_time(hour, rng.randrange(60), rng.randrange(60)),
                                 tzinfo=person.zone)
        t = local.astimezone(UTC)
        if t >= self.now:
            return
        ip = person.home_ip if at_home and person.home_ip else person.ip
        if person.rotating:
            ip = _address(rng, person.rotating)
        seen = account.sessions if account is not None else person.visits
        stage = 0 if seen < 2 else 1 if seen < 6 else 2
        key = f"{person.persona}/{stage}" if person.persona == "prospect" else person.persona
        page, referrer, query = self._source(person, day, d, key)
        depth = stage if person.persona == "prospect" else min(stage, 1)
        count = rng.choices(range(1, 9), _PAGES_PER_VISIT[depth])[0]
        i = 0
        while i < count:
            url = data.BASE_URL + page[0] + (query if i == 0 else "")
            self._hit(person, ip, t, "pageview", url=url, referrer=referrer, title=page[1])
            dwell = min(max(rng.lognormvariate(math.log(40), 0.9), 4.0), 600.0)
            if page[2] in ("blog", "docs"):
                dwell = min(dwell * 1.6, 900.0)
            thanks = self._on_page(person, ip, t, dwell, page, url)
            t += timedelta(seconds=dwell)
            self._hit(person, ip, t, "engagement", url=url,
                      engaged_ms=int(dwell * 1000 * rng.uniform(0.45, 0.95)))
            t += timedelta(seconds=rng.uniform(1, 6))
            referrer, i = url, i + 1
            if thanks:  # the form leads to its thank-you page
                page, count = (page[0] + "/thanks", "Thank you", "contact"), max(count, i + 1)
            else:
                page = self._page(person, key, exclude=page[0])
        person.visits += 1
        if account is not None:
            account.sessions += 1

    def _on_page(self, person: _Person, ip: str, t: datetime, dwell: float, page: Page,
                 url: str) -> bool:
        """Clicks, downloads, events and forms while on a page; True after a demo form."""
        rng = self.rng
        path, _, topic = page
        at = t + timedelta(seconds=dwell * rng.uniform(0.3, 0.9))
        if topic in data.PRODUCTS and path.endswith("/") and rng.random() < 0.12:
            self._hit(person, ip, at, "event", url=url, name="video_play",
                      props={"video": f"{topic}-overview", "percent": rng.choice((25, 50, 100))})
        if path == "/pricing" and rng.random() < 0.2:
            self._hit(person, ip, at, "event", url=url, name="pricing_calculator",
                      props={"plan": rng.choice(("team", "business", "enterprise")),
                             "seats": rng.choice((5, 10, 25, 50, 200))})
        if topic in data.DOWNLOADS and rng.random() < 0.06:
            href = data.BASE_URL + rng.choice(data.DOWNLOADS[topic])
            self._hit(person, ip, at, "download", url=url, name="download", props={"href": href})
        if topic in data.OUTBOUND and rng.random() < 0.04:
            self._hit(person, ip, at, "click", url=url, name="outbound",
                      props={"href": rng.choice(data.OUTBOUND[topic])})
        if rng.random() < 0.01:
            self._hit(person, ip, at, "event", url=url, name="chat_open", props={"page": path})
        if person.email is not None:
            return False
        chance = {"prospect": 0.35 if person.account else 0.1, "customer": 0.2}
        if path == "/demo" and rng.random() < chance.get(person.persona, 0.0):
            self._identify(person, ip, at, url, "demo_request")
            return True
        if path == "/contact" and rng.random() < 0.2 and person.persona != "jobseeker":
            self._identify(person, ip, at, url, "contact")
        elif topic == "blog" and path != "/blog/" and rng.random() < 0.02:
            self._identify(person, ip, at, url, "newsletter")
        elif person.persona == "customer" and topic == "docs" and rng.random() < 0.1:
            self._identify(person, ip, at, url, None)  # signed in to the product
        return False

    def _identify(self, person: _Person, ip: str, at: datetime, url: str,
                  form: str | None) -> None:
        rng = self.rng
        first = rng.choice(data.FIRST_NAMES[person.language])
        last = rng.choice(data.LAST_NAMES[person.language])
        account = person.account
        local = slug(first) + "." + slug(last).replace("-", "")
        if account is not None:
            person.email = f"{local}@{account.org.domain}"
        else:
            person.email = f"{local}{rng.randint(1, 99)}@laposte.net"  # free mail: no account
        if form is not None:
            self._hit(person, ip, at, "form", url=url, name=form, email=person.email,
                      props={"id": f"{form}-form"})
        titles = data.JOB_TITLES["fr" if person.language == "fr" else "en"]
        traits: dict[str, Any] = {"first_name": first, "last_name": last,
                                  "job_title": rng.choice(titles), "country": person.country}
        if account is not None:
            traits["company"] = account.org.name
        self._hit(person, ip, at + timedelta(milliseconds=400), "identify", url=url,
                  email=person.email, traits=traits)

    # -- where visits come from and go ------------------------------------------------
    def _source(self, person: _Person, day: date, d: int, key: str) -> tuple[Page, str, str]:
        """Landing page, referrer and campaign query string of a visit's entry."""
        rng = self.rng
        options: dict[str, float] = {"direct": 24 + 8 * min(person.visits, 3), "search": 26,
                                     "social": 7, "referral": 7, "google_ads": 7,
                                     "bing_ads": 1.5}
        sent = day - timedelta(days=(day.weekday() - 1) % 7)  # newsletter: Tuesdays
        if person.subscriber and (day - sent).days <= 2:
            options["newsletter"] = 45 / (1 + 1.5 * (day - sent).days)
        if 0.35 * self.days <= d <= 0.8 * self.days:
            options["linkedin_ads"] = 14 if person.account else 5
        if person.subscriber and 0.55 * self.days <= d <= 0.75 * self.days:
            options["webinar"] = 10
        source = rng.choices(list(options), list(options.values()))[0]
        interest = self._topic_page(person.interest)
        search = f"https://{data.SEARCH_HOSTS.get(person.country, 'www.google.com')}/"
        mobile = "Mobile" in person.agent
        if source == "search":
            engine = rng.choices(("google", "bing", "other"), (80, 12, 8))[0]
            ref = search if engine == "google" else "https://www.bing.com/" if engine == "bing" \
                else rng.choice(("https://www.qwant.com/", "https://duckduckgo.com/"))
            return self._landing((("blog", 45), ("interest", 25), ("home", 20),
                                  ("pricing", 10)), person), ref, ""
        if source == "social":
            ref = rng.choice(("https://www.linkedin.com/", "https://t.co/", "https://x.com/"))
            if mobile and ref.endswith("linkedin.com/"):
                ref = "android-app://com.linkedin.android/"
            return self._landing((("blog", 80), ("home", 20)), person), ref, ""
        if source == "referral":
            return (self._landing((("company", 30), ("interest", 40), ("blog", 30)), person),
                    rng.choice(data.PARTNER_REFERRERS), "")
        if source == "google_ads":
            query = _query(utm_source="google", utm_medium="cpc",
                           utm_campaign="analytics-search", utm_term=rng.choice(data.SEARCH_TERMS),
                           gclid=_token(rng, 40))
            page = rng.choice((self._topic_page("analytics"), ("/pricing", "Pricing", "pricing")))
            return page, search, query
        if source == "bing_ads":
            query = _query(utm_source="bing", utm_medium="cpc", utm_campaign="brand",
                           msclkid=uuid.UUID(int=rng.getrandbits(128)).hex)
            return ("/pricing", "Pricing", "pricing"), "https://www.bing.com/", query
        if source == "linkedin_ads":
            query = _query(utm_source="linkedin", utm_medium="paid_social",
                           utm_campaign="crm-launch", utm_content=rng.choice(("video", "carousel")),
                           li_fat_id=str(uuid.UUID(int=rng.getrandbits(128))))
            ref = "android-app://com.linkedin.android/" if mobile else "https://www.linkedin.com/"
            return data.PAGES["crm"][0] + ("crm",), ref, query
        if source == "newsletter":
            post = rng.choice(data.PAGES["blog"][1:])
            query = _query(utm_source="newsletter", utm_medium="email",
                           utm_campaign=f"newsletter-{sent.isoformat()}", utm_content="top-story")
            ref = rng.choices(("", "https://outlook.office.com/", "https://mail.google.com/"),
                              (70, 20, 10))[0]
            return post + ("blog",), ref, query
        if source == "webinar":
            query = _query(utm_source="webinar-invite", utm_medium="email",
                           utm_campaign="automation-webinar")
            return data.PAGES["automation"][3] + ("automation",), "", query
        if person.visits == 0:
            return self._landing((("home", 60), ("interest", 20), ("pricing", 10),
                                  ("careers", 10)), person), "", ""
        return (interest if rng.random() < 0.3 else self._page(person, key, exclude="")), "", ""

    def _landing(self, choices: tuple[tuple[str, int], ...], person: _Person) -> Page:
        topic = self.rng.choices([c for c, _ in choices], [w for _, w in choices])[0]
        if person.persona == "jobseeker" and self.rng.random() < 0.5:
            topic = "careers"
        return self._topic_page(person.interest if topic == "interest" else topic)

    def _topic_page(self, topic: str) -> Page:
        pages = data.PAGES[topic]
        # The first page of a topic is its landing page: more visited than the others.
        path, title = pages[0] if self.rng.random() < 0.4 else self.rng.choice(pages)
        return path, title, topic

    def _page(self, person: _Person, key: str, *, exclude: str) -> Page:
        weights = _TOPICS[key]
        for _ in range(3):
            topic = self.rng.choices(list(weights), list(weights.values()))[0]
            if topic == "interest":
                topic = person.interest
            elif topic == "other":
                topic = self.rng.choice([p for p in data.PRODUCTS if p != person.interest])
            page = self._topic_page(topic)
            if page[0] != exclude:
                break
        return page

    # -- crawlers and tools -----------------------------------------------------------
    def _bots(self) -> None:
        rng = self.rng
        target = round(len(self.hits) * BOT_SHARE / (1 - BOT_SHARE))
        first = datetime.combine(self.today - timedelta(days=self.days - 1), clock_time(),
                                 tzinfo=ZoneInfo(data.SITE_TIMEZONE)).timestamp()
        span = self.now.timestamp() - first
        paths = [(path, title) for pages in data.PAGES.values() for path, title in pages]
        agents = [(agent, pages) for agent, _, pages in data.BOT_AGENTS]
        weights = [weight for _, weight, _ in data.BOT_AGENTS]
        sent = 0
        while sent < target:
            agent, pages = rng.choices(agents, weights)[0]
            ip = _address(rng, rng.choice(data.HOSTING)[2])
            t = datetime.fromtimestamp(first + rng.random() * span, UTC)
            for _ in range(1 if pages == 1 else rng.randint(max(1, pages // 3), pages)):
                path, title = ("/", data.PAGES["home"][0][1]) if pages == 1 else rng.choice(paths)
                self.hits.append({"site": self.site_key, "type": "pageview", "ip": ip,
                                  "user_agent": agent, "url": data.BASE_URL + path,
                                  "title": title, "ts": int(t.timestamp() * 1000)})
                t += timedelta(seconds=rng.uniform(0.5, 15))
                sent += 1

    def _hit(self, person: _Person, ip: str, t: datetime, kind: str, **fields: Any) -> None:
        self.hits.append({"site": self.site_key, "type": kind, "visitor": person.visitor,
                          "ip": ip, "user_agent": person.agent,
                          "ts": int(t.timestamp() * 1000), **fields})


def _activity(profile: tuple[str, float], d: int, days: int) -> float:
    kind, centre = profile
    if kind == "rising":
        return 0.3 + 1.4 * d / max(days - 1, 1)
    if kind == "burst":
        return 0.2 + 3 * math.exp(-(((d - centre) / 2.5) ** 2))
    return 1.0


def _address(rng: random.Random, cidr: str) -> str:
    net = ipaddress.ip_network(cidr)
    return str(net.network_address + rng.randrange(1, min(net.num_addresses - 1, 1 << 32)))


def _token(rng: random.Random, length: int) -> str:
    raw = base64.urlsafe_b64encode(rng.getrandbits(8 * length).to_bytes(length, "big"))
    return "Cj0KCQ" + raw.decode()[: length - 6]


def _query(**params: str) -> str:
    return "?" + urlencode(params)


# Sales reps of the demo company, by team; accounts from German-speaking countries go to
# the DACH team, the others to the French team in turn (round robin).
DEMO_OWNERS = (("Camille Martin", "camille.martin@demo.example", "France", "fr"),
               ("Lucas Bernard", "lucas.bernard@demo.example", "France", "fr"),
               ("Hanna Schmidt", "hanna.schmidt@demo.example", "DACH", "en"))


def seed_team(engine: Any, workspace_id: int, *, now: datetime) -> int:
    """Owners and assignment rules of the demo workspace (before its traffic, so that
    accounts get an owner as they warm up); nothing when the workspace has owners."""
    from webleads.db import lifecycle as lifecycle_db
    from webleads.lifecycle import actions

    with engine.begin() as conn:
        if lifecycle_db.list_owners(conn, workspace_id):
            return 0
        for name, email, team, language in DEMO_OWNERS:
            actions.add_owner(conn, workspace_id, name=name, email=email, team=team,
                              language=language, now=now)
        actions.add_assignment_rule(conn, workspace_id, kind="territory",
                                    conditions={"countries": ["DE", "AT", "CH"]},
                                    owner_email=None, team="DACH", now=now)
        actions.add_assignment_rule(conn, workspace_id, kind="round_robin", conditions={},
                                    owner_email=None, team="France", now=now)
    return len(DEMO_OWNERS)

"""The public API "recherche d'entreprises" (annuaire-entreprises, data.gouv.fr): opt-in.

It is only called when the caller builds a :class:`RechercheClient` and passes it in
(``webleads fr match --online``): it sends company names out of the server.  Calls are
spaced by a token bucket (the API accepts at most 7 requests per second and per IP
address, and answers 429 with ``Retry-After`` beyond), answers are cached in the
database (``fr_api_cache``) for a TTL, and errors never stop the caller: a 5xx, a
timeout or a refused connection makes the client give up for the rest of the run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

import httpx
import msgspec
from sqlalchemy.engine import Connection

from webleads.db import fr as db
from webleads.fr.naf import CATEGORIES, HEADCOUNT_BANDS, SUBCLASS

DEFAULT_BASE_URL = "https://recherche-entreprises.api.gouv.fr"
DEFAULT_RATE = 7.0  # requests per second, the API's documented maximum per IP address
DEFAULT_TTL = timedelta(days=30)
MAX_PER_PAGE = 25  # the API's limit
PER_PAGE = 5  # results asked for one account: the right one is nearly always first

Outcome = Literal["ok", "cached", "rate_limited", "unavailable", "refused", "invalid"]


class TokenBucket:
    """At most ``rate`` calls per second on average, ``capacity`` at once.  With the
    default capacity of 1, calls are spaced by at least 1/rate seconds.  ``clock`` and
    ``sleep`` are parameters so that tests run on a fake clock."""

    def __init__(self, rate: float, *, capacity: float = 1.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be > 0 and capacity >= 1")
        self.rate = rate
        self.capacity = capacity
        self.clock = clock
        self.sleep = sleep
        self._tokens = capacity
        self._stamp = clock()
        self._blocked_until = float("-inf")
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            while True:
                now = self.clock()
                if now < self._blocked_until:
                    self.sleep(self._blocked_until - now)
                    continue
                self._tokens = min(self.capacity,
                                   self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1 - 1e-9:
                    self._tokens = max(0.0, self._tokens - 1)
                    return
                self.sleep((1 - self._tokens) / self.rate)

    def block(self, seconds: float) -> None:
        """No call before ``seconds`` from now (a server's Retry-After)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self.clock() + seconds)
            self._tokens = 0.0
            self._stamp = self._blocked_until


@dataclass(frozen=True, slots=True)
class Fetched:
    outcome: Outcome
    body: str | None = None


class RechercheClient:
    """``GET {base_url}/search?q=...&page=1&per_page=...``, rate-limited."""

    def __init__(self, *, base_url: str = DEFAULT_BASE_URL, rate: float = DEFAULT_RATE,
                 timeout: float = 10.0, max_wait: float = 60.0, retries: int = 2,
                 user_agent: str = "webleads-tracker (self-hosted B2B web-leads tracker)",
                 transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.bucket = TokenBucket(rate, clock=clock, sleep=sleep)
        self.max_wait = max_wait
        self.retries = retries
        self.calls = 0
        self.gave_up: Outcome | None = None  # set once the service failed: no more calls
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout,
                                  transport=transport,
                                  headers={"User-Agent": user_agent,
                                           "Accept": "application/json"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RechercheClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def search(self, q: str, *, per_page: int = 5) -> Fetched:
        """One search; the body of a 200 answer, or why there is none."""
        if self.gave_up is not None:
            return Fetched(self.gave_up)
        size = max(1, min(per_page, MAX_PER_PAGE))
        params: dict[str, str | int] = {"q": q, "page": 1, "per_page": size}
        for attempt in range(self.retries + 1):
            self.bucket.acquire()
            self.calls += 1
            try:
                response = self._http.get("/search", params=params)
            except httpx.HTTPError:  # timeout, refused connection, broken answer
                self.gave_up = "unavailable"
                return Fetched("unavailable")
            if response.status_code == 429:
                wait = retry_after(response)
                self.bucket.block(min(wait, self.max_wait))
                if wait > self.max_wait or attempt == self.retries:
                    self.gave_up = "rate_limited"
                    return Fetched("rate_limited")
                continue
            if response.status_code >= 500:
                self.gave_up = "unavailable"
                return Fetched("unavailable")
            if response.status_code != 200:
                return Fetched("refused")
            return Fetched("ok", response.text)
        return Fetched("rate_limited")  # not reached: the loop returns


def retry_after(response: httpx.Response, default: float = 1.0) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        sent = parsedate_to_datetime(response.headers["Date"]) if "Date" in response.headers \
            else datetime.now(UTC)
    except (TypeError, ValueError, IndexError):
        return default
    return max(0.0, (when - sent).total_seconds())


# --- answers ------------------------------------------------------------------------------

class _Siege(msgspec.Struct):
    siret: str | None = None
    code_postal: str | None = None
    libelle_commune: str | None = None
    nom_commercial: str | None = None
    liste_enseignes: list[str] | None = None


class _Result(msgspec.Struct):
    siren: str
    nom_complet: str | None = None
    nom_raison_sociale: str | None = None
    sigle: str | None = None
    activite_principale: str | None = None
    activite_principale_naf25: str | None = None
    tranche_effectif_salarie: str | None = None
    categorie_entreprise: str | None = None
    etat_administratif: str | None = None
    siege: _Siege | None = None


class _Payload(msgspec.Struct):
    results: list[_Result] = msgspec.field(default_factory=list)
    total_results: int = 0


_decode = msgspec.json.Decoder(_Payload).decode


@dataclass(frozen=True, slots=True)
class FoundCompany:
    """A company as the API describes it."""

    siren: str
    name: str
    sigle: str | None
    trade_name: str | None
    naf: str | None
    naf25: str | None
    headcount_band: str | None
    category: str | None
    active: bool
    head_office_siret: str | None
    postcode: str | None
    city: str | None


def parse_answer(body: str) -> list[FoundCompany] | None:
    """The companies of a search answer; None when it is not the documented shape.
    Results with an invalid SIREN or no name are left out."""
    try:
        payload = _decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    found = []
    for r in payload.results:
        name = r.nom_raison_sociale or r.nom_complet
        if not (len(r.siren) == 9 and r.siren.isdigit()) or not name:
            continue
        siege = r.siege or _Siege()
        trade = siege.nom_commercial or next(iter(siege.liste_enseignes or []), None)
        found.append(FoundCompany(
            siren=r.siren, name=" ".join(name.split())[:300], sigle=r.sigle or None,
            trade_name=trade,
            naf=_code(r.activite_principale), naf25=_code(r.activite_principale_naf25),
            headcount_band=r.tranche_effectif_salarie
            if r.tranche_effectif_salarie in HEADCOUNT_BANDS else None,
            category=r.categorie_entreprise if r.categorie_entreprise in CATEGORIES else None,
            active=r.etat_administratif != "C",
            head_office_siret=siege.siret if siege.siret and len(siege.siret) == 14 else None,
            postcode=siege.code_postal, city=siege.libelle_commune,
        ))
    return found


def _code(value: str | None) -> str | None:
    return value if value and SUBCLASS.match(value) else None


@dataclass(frozen=True, slots=True)
class Lookup:
    outcome: Outcome
    companies: tuple[FoundCompany, ...] = ()


def cache_key(q: str, per_page: int = PER_PAGE) -> str:
    return f"search:{per_page}:{q}"[:300]


def cached_lookup(conn: Connection, q: str, *, now: datetime, ttl: timedelta = DEFAULT_TTL,
                  per_page: int = PER_PAGE) -> Lookup | None:
    """The cached answer to the query ``q`` (a name key), when fresh."""
    body = db.cached_answer(conn, cache_key(q, per_page), fresh_after=now - ttl)
    if body is None:
        return None
    companies = parse_answer(body)
    return Lookup("cached", tuple(companies)) if companies is not None else None


def fetch(client: RechercheClient, q: str, *, per_page: int = PER_PAGE
          ) -> tuple[Lookup, str | None]:
    """Ask the API (no database work: run it outside any transaction); the lookup and
    the body to cache."""
    got = client.search(q, per_page=per_page)
    if got.outcome != "ok" or got.body is None:
        return Lookup(got.outcome), None
    companies = parse_answer(got.body)
    if companies is None:
        return Lookup("invalid"), None
    return Lookup("ok", tuple(companies)), got.body

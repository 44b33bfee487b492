"""The online enricher against a local HTTP server that answers like the public API.

The server is real (127.0.0.1, real sockets); time is a fake clock shared by the client's
token bucket and the server, so the rate limit is checked on the server's record of
calls, not with timing assertions.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webleads.db import fr as db
from webleads.db.schema import accounts
from webleads.db.schema_fr import account_fr, fr_api_cache
from webleads.fr import match, recherche
from webleads.fr.recherche import RechercheClient, TokenBucket, parse_answer, retry_after
from webleads.fr.sirene import import_units
from webleads.sites import NewSite

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
FIXTURES = Path(__file__).parent / "fixtures" / "fr"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.now += seconds


def result(siren: str, name: str, **extra: Any) -> dict[str, Any]:
    """One result as the API documents it (a subset of its fields)."""
    found: dict[str, Any] = {
        "siren": siren, "nom_complet": name.lower(), "nom_raison_sociale": name,
        "sigle": None, "nombre_etablissements": 3, "nombre_etablissements_ouverts": 2,
        "siege": {"siret": siren + "00017", "code_postal": "44000",
                  "libelle_commune": "NANTES", "est_siege": True, "etat_administratif": "A",
                  "liste_enseignes": None, "nom_commercial": None},
        "activite_principale": "62.01Z", "activite_principale_naf25": "62.10A",
        "categorie_entreprise": "PME", "etat_administratif": "A",
        "nature_juridique": "5710", "section_activite_principale": "J",
        "tranche_effectif_salarie": "12", "statut_diffusion": "O",
        "dirigeants": [], "matching_etablissements": [], "finances": {},
        "complements": {"est_entrepreneur_individuel": False},
    }
    found.update(extra)
    return found


@dataclass
class FakeApi:
    url: str
    clock: FakeClock
    calls: list[tuple[float, dict[str, str]]] = field(default_factory=list)
    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    script: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    delay: float = 0.0  # real seconds before answering


@pytest.fixture
def api() -> Iterator[FakeApi]:
    clock = FakeClock()
    state = FakeApi("", clock)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlparse(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            state.calls.append((clock.now, params))
            if state.delay:
                time.sleep(state.delay)
            if state.script:
                status, headers, body = state.script.pop(0)
            elif url.path != "/search" or not params.get("q"):
                status, headers, body = 400, {}, json.dumps(
                    {"erreur": "Veuillez indiquer au moins un paramètre de recherche."})
            else:
                found = state.answers.get(params["q"], [])
                per_page = int(params.get("per_page", "10"))
                status, headers, body = 200, {}, json.dumps({
                    "results": found[:per_page], "total_results": len(found),
                    "page": int(params.get("page", "1")), "per_page": per_page,
                    "total_pages": max(1, -(-len(found) // per_page))})
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(10)


def client(api: FakeApi, **options: Any) -> RechercheClient:
    return RechercheClient(base_url=api.url, clock=api.clock, sleep=api.clock.sleep,
                           **options)


def test_search_and_parse_the_documented_answer(api: FakeApi) -> None:
    api.answers["nantes logiciels"] = [
        result("200000001", "NANTES LOGICIELS", sigle="NL", tranche_effectif_salarie="21")]
    with client(api) as c:
        got = c.search("nantes logiciels")
    assert got.outcome == "ok" and got.body is not None
    assert api.calls[0][1] == {"q": "nantes logiciels", "page": "1", "per_page": "5"}
    [company] = parse_answer(got.body) or []
    assert company == recherche.FoundCompany(
        siren="200000001", name="NANTES LOGICIELS", sigle="NL", trade_name=None,
        naf="62.01Z", naf25="62.10A", headcount_band="21", category="PME", active=True,
        head_office_siret="20000000100017", postcode="44000", city="NANTES")


def test_parse_is_lenient_but_checks_the_shape() -> None:
    body = json.dumps({"results": [
        result("12345", "BAD SIREN"), result("200000002", "", nom_complet=None),
        result("200000003", "OK", tranche_effectif_salarie="99", categorie_entreprise="XX",
               activite_principale="6201Z", etat_administratif="C", siege=None),
    ], "total_results": 3, "page": 1, "per_page": 10, "total_pages": 1})
    [ok] = parse_answer(body) or []
    assert (ok.siren, ok.headcount_band, ok.category, ok.naf, ok.active, ok.postcode) == (
        "200000003", None, None, None, False, None)
    assert parse_answer("not json") is None
    assert parse_answer(json.dumps({"results": [{"nom_complet": "no siren"}]})) is None
    assert parse_answer(json.dumps({"results": "nope"})) is None


def test_the_rate_limit_is_respected(api: FakeApi) -> None:
    with client(api, rate=7) as c:
        for i in range(30):
            assert c.search(f"entreprise {i}").outcome == "ok"
    times = [t for t, _ in api.calls]
    assert len(times) == 30 and times == sorted(times)
    # At most 7 calls in any one-second window of the server's clock.
    for first, eighth in zip(times, times[7:], strict=False):
        assert eighth - first >= 1 - 1e-9
    assert times[-1] - times[0] == pytest.approx(29 / 7)


@pytest.mark.parametrize("rate", [1, 2.5, 7])
def test_the_limit_is_a_parameter(api: FakeApi, rate: float) -> None:
    with client(api, rate=rate) as c:
        for i in range(6):
            c.search(f"q{i}")
    times = [t for t, _ in api.calls]
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 1 / rate - 1e-9


def test_429_waits_for_retry_after_then_retries(api: FakeApi) -> None:
    api.script.append((429, {"Retry-After": "3"}, '{"erreur": "Too many requests"}'))
    api.answers["acme"] = [result("200000004", "ACME")]
    with client(api) as c:
        got = c.search("acme")
        assert got.outcome == "ok" and c.calls == 2
    (first, _), (second, _) = api.calls
    assert second - first >= 3


def test_429_beyond_the_longest_wait_gives_up(api: FakeApi) -> None:
    api.script.append((429, {"Retry-After": "3600"}, ""))
    with client(api, max_wait=60) as c:
        assert c.search("acme").outcome == "rate_limited"
        assert c.search("other").outcome == "rate_limited"  # no more calls this run
        assert c.gave_up == "rate_limited"
    assert len(api.calls) == 1


def test_retry_after_forms() -> None:
    def response(**headers: str) -> httpx.Response:
        return httpx.Response(429, headers=headers)

    assert retry_after(response(**{"Retry-After": "2"})) == 2
    assert retry_after(response(**{"Retry-After": "1.5"})) == 1.5
    assert retry_after(response()) == 1.0
    assert retry_after(response(**{"Retry-After": "soon"})) == 1.0
    assert retry_after(response(**{"Retry-After": "Wed, 21 Oct 2026 07:28:30 GMT",
                                   "Date": "Wed, 21 Oct 2026 07:28:00 GMT"})) == 30


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_give_up_for_now(api: FakeApi, status: int) -> None:
    api.script.append((status, {}, "<html>Bad gateway</html>"))
    with client(api) as c:
        assert c.search("acme").outcome == "unavailable"
        assert c.search("acme").outcome == "unavailable"
    assert len(api.calls) == 1


def test_a_client_error_is_not_fatal(api: FakeApi) -> None:
    with client(api) as c:
        assert c.search("").outcome == "refused"
        api.answers["acme"] = []
        assert c.search("acme").outcome == "ok"


def test_timeout_and_unreachable_server(api: FakeApi) -> None:
    api.delay = 1.0
    with client(api, timeout=0.2) as c:
        assert c.search("acme").outcome == "unavailable"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with RechercheClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as c:
        assert c.search("acme").outcome == "unavailable"


def test_token_bucket_capacity() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2, capacity=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        bucket.acquire()
    assert clock.slept == []  # a burst of ``capacity`` calls
    bucket.acquire()
    assert clock.now == pytest.approx(1000.5)
    with pytest.raises(ValueError):
        TokenBucket(0)


# --- with the database --------------------------------------------------------------------

def add_account(engine: Engine, workspace_id: int, name: str) -> int:
    with engine.begin() as conn:
        return int(conn.execute(sa.insert(accounts).values(
            workspace_id=workspace_id, org_key=name, name=name, category="enterprise",
            country="FR", visits=1, pageviews=1, engaged_ms=0, first_seen=NOW,
            last_seen=NOW).returning(accounts.c.id)).scalar_one())


def test_online_match_is_cached(engine: Engine, site: NewSite, api: FakeApi) -> None:
    api.answers["nantes logiciels"] = [result("200000001", "NANTES LOGICIELS"),
                                       result("200000009", "NANTES LOGICIELS SERVICES")]
    account = add_account(engine, site.site.workspace_id, "Nantes Logiciels SAS")
    with client(api) as c:
        report = match.match_accounts(engine, now=NOW, online=c)
    assert report.online == {"ok": 1} and report.matched == {"api": 1}
    with engine.connect() as conn:
        found = db.match_of(conn, account)
        cached = conn.execute(sa.select(fr_api_cache.c.query)).scalars().all()
    assert found is not None
    company, confidence, method = found
    assert (company.siren, company.source, company.naf, company.postcode, method) == (
        "200000001", "api", "62.01Z", "44000", "api")
    assert confidence == pytest.approx(match.API_FACTOR)
    assert cached == [recherche.cache_key("nantes logiciels")]

    # Known now, the company is found offline: no more question.
    with client(api) as c:
        report = match.match_accounts(engine, now=NOW + timedelta(days=1), online=c)
        assert c.calls == 0 and report.online == {}


def test_answers_are_cached_for_the_ttl(engine: Engine, site: NewSite, api: FakeApi) -> None:
    api.answers["inconnue"] = [result("200000002", "TOUT AUTRE CHOSE")]
    add_account(engine, site.site.workspace_id, "Inconnue")
    with client(api) as c:
        report = match.match_accounts(engine, now=NOW, online=c)
    assert report.online == {"ok": 1} and report.unmatched == 1
    with client(api) as c:  # a second run: the cache answers
        report = match.match_accounts(engine, now=NOW + timedelta(days=29), online=c)
        assert c.calls == 0
    assert report.online == {"cached": 1} and len(api.calls) == 1
    with client(api) as c:  # past the TTL, the API is asked again
        report = match.match_accounts(engine, now=NOW + timedelta(days=31), online=c)
        assert c.calls == 1
    assert report.online == {"ok": 1} and len(api.calls) == 2
    with client(api) as c:  # a shorter TTL
        report = match.match_accounts(engine, now=NOW + timedelta(days=33), online=c,
                                      ttl=timedelta(days=1))
    assert report.online == {"ok": 1} and len(api.calls) == 3


def test_no_call_when_offline_is_sure(engine: Engine, site: NewSite, api: FakeApi) -> None:
    import_units(engine, FIXTURES / "StockUniteLegale_utf8.csv", now=NOW)
    add_account(engine, site.site.workspace_id, "Société Générale")
    with client(api) as c:
        report = match.match_accounts(engine, now=NOW, online=c)
    assert api.calls == [] and report.matched == {"name": 1}


def test_api_companies_never_overwrite_the_stock(engine: Engine, site: NewSite,
                                                 api: FakeApi) -> None:
    import_units(engine, FIXTURES / "StockUniteLegale_utf8.csv", now=NOW)
    # Offline, "Mega Corp" is too far from MEGA CORP FRANCE; the API finds the same SIREN.
    # ("Corp" is a legal form: the query is "mega".)
    api.answers["mega"] = [result("100000011", "MEGA CORP", activite_principale="01.11Z")]
    account = add_account(engine, site.site.workspace_id, "Mega Corp")
    with client(api) as c:
        match.match_accounts(engine, now=NOW, online=c)
    with engine.connect() as conn:
        found = db.match_of(conn, account)
    assert found is not None
    assert (found[0].name, found[0].naf, found[0].source, found[2]) == (
        "MEGA CORP FRANCE", "70.10Z", "stock", "api")


def test_errors_do_not_stop_matching(engine: Engine, site: NewSite, api: FakeApi) -> None:
    import_units(engine, FIXTURES / "StockUniteLegale_utf8.csv", now=NOW)
    ws = site.site.workspace_id
    add_account(engine, ws, "Inconnue Une")
    add_account(engine, ws, "Inconnue Deux")
    known = add_account(engine, ws, "L'Oréal")
    api.script.append((503, {}, "down"))
    with client(api) as c:
        report = match.match_accounts(engine, now=NOW, online=c)
        assert c.gave_up == "unavailable"
    assert report.online == {"unavailable": 2} and len(api.calls) == 1
    assert report.unmatched == 2 and report.matched == {"name": 1}
    with engine.connect() as conn:
        assert conn.execute(sa.select(account_fr.c.account_id)).scalars().all() == [known]
        assert conn.execute(sa.select(sa.func.count()).select_from(fr_api_cache)).scalar() == 0


def test_an_invalid_answer_is_not_cached(engine: Engine, site: NewSite, api: FakeApi) -> None:
    add_account(engine, site.site.workspace_id, "Inconnue")
    api.script.append((200, {}, "<html>maintenance</html>"))
    with client(api) as c:
        report = match.match_accounts(engine, now=NOW, online=c)
    assert report.online == {"invalid": 1}
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(fr_api_cache)).scalar() == 0

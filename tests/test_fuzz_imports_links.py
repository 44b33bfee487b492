"""Property-based fuzzing of the other public inputs (issue 7): the CSV imports of
contacts, deals and costs never raise (any text gives a result with errors naming a
line and a field, or an import), and the redirect endpoints of short links (/l/CODE)
and tracked e-mail links (/r/TOKEN) never answer 5xx and never send the browser to
another site for a forged link.  Bounded: a few hundred examples in all (SQLite)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from webleads.app import WebleadsApp, create_app
from webleads.campaigns.contacts import import_contacts
from webleads.campaigns.costs import import_costs
from webleads.campaigns.deals import import_deals
from webleads.db.engine import create_engine
from webleads.db.migrate import upgrade
from webleads.settings import Settings
from webleads.sites import create_site

NOW = datetime(2026, 11, 1, tzinfo=UTC)
FUZZ = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

# Text close to what people upload: header words, separators, quotes, odd characters.
WORDS = st.sampled_from(["email", "e-mail", "name", "nom", "organisation", "consent",
                         "oui", "no", "day", "date", "campaign", "amount", "montant",
                         "currency", "EUR", "2026-11-01", "01/11/2026", "12,50", "-3",
                         "jane@acme.example", "@", "\"", ";", ",", "\t", "=cmd|' /C calc'!A0",
                         "\x00", "é", "🙂", "", " ", "\r", "1e309", "NaN"])
CSV = st.lists(st.lists(WORDS, max_size=6).map(lambda cells: ";".join(cells)),
               max_size=8).map("\n".join) | st.text(max_size=300)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'f.db'}")
    upgrade(eng)
    create_site(eng, "Shop", "example.com")
    yield eng
    eng.dispose()


@FUZZ
@given(text=CSV, skip=st.booleans())
def test_imports_never_raise(engine: Engine, text: str, skip: bool) -> None:
    with engine.connect() as conn, conn.begin() as txn:
        for result in (import_contacts(conn, 1, text, now=NOW, skip_invalid=skip),
                       import_deals(conn, 1, text, now=NOW, skip_invalid=skip),
                       import_costs(conn, 1, text, now=NOW)):
            for error in getattr(result, "errors", ()):
                assert str(error)  # something a person can read
        txn.rollback()


@pytest.fixture(scope="module")
def app(engine: Engine) -> WebleadsApp:
    return create_app(Settings(database_url=str(engine.url), secret_key="fuzz"), engine=engine)


def _get(app: WebleadsApp, path: str) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://t.example") as c:
            return await c.get(path)

    return asyncio.run(run())


@FUZZ
@given(code=st.text(max_size=80), target=st.text(max_size=120))
def test_redirect_endpoints_never_fail_nor_open_redirect(app: WebleadsApp, code: str,
                                                         target: str) -> None:
    for prefix in ("/l/", "/r/"):
        path = prefix + quote(code, safe="") + "?u=" + quote(target, safe="")
        response = _get(app, path)
        assert response.status_code < 500, (path, response.status_code, response.text[:200])
        location = response.headers.get("location", "")
        # Nothing forged may send the browser elsewhere than the workspace's sites.
        assert not location or location.startswith(("https://example.com", "http://example.com",
                                                     "/")), (path, location)


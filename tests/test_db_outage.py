"""The database becomes unavailable during collect (issue 7): answers are 503 with
Retry-After (never a 5xx crash page, never a 2xx for a hit that was not stored), the
product recovers by itself when the database comes back, and every hit that got a 2xx
is in the database.  On PostgreSQL, whose database is made to refuse connections."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
import sqlalchemy as sa
from psycopg import sql

from tests.conftest import serve_in_thread
from tests.test_tag_e2e import DESKTOP_UA
from webleads.app import create_app
from webleads.db.engine import create_engine
from webleads.db.migrate import upgrade
from webleads.db.schema import hits
from webleads.processor import store_queued
from webleads.settings import Settings
from webleads.sites import create_site
from webleads.testing.pgcluster import PgCluster


def _database(cluster: PgCluster, name: str, *, allow: bool) -> None:
    with cluster.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(
            sql.Identifier(name), sql.SQL("true" if allow else "false")))
        if not allow:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))


@pytest.mark.parametrize("processor", ["separate", "inline"])
def test_collect_through_a_database_outage(pg_cluster: PgCluster, processor: str) -> None:
    name = "t_outage_" + uuid.uuid4().hex[:10]
    url = pg_cluster.create_database(name)
    engine = create_engine(url)
    upgrade(engine)
    site = create_site(engine, "Shop", "example.com").site
    server = serve_in_thread(create_app(Settings(database_url=url, secret_key="x",
                                                 processor=processor), engine=engine))
    acked: list[str] = []
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            def send(i: int) -> httpx.Response:
                page = f"https://example.com/p{i}"
                hit = {"site": site.key, "type": "pageview", "url": page,
                       "visitor": f"visitor-{i:04d}"}
                response = client.post("/api/collect", content=json.dumps(hit),
                    headers={"content-type": "text/plain", "origin": "https://example.com",
                             "user-agent": DESKTOP_UA})
                if 200 <= response.status_code < 300:
                    acked.append(page)
                return response

            first = [send(i) for i in range(10)]
            assert all(r.status_code == 202 for r in first), first[0].text
            _database(pg_cluster, name, allow=False)
            during = [send(i) for i in range(10, 30)]
            refused = [r for r in during if r.status_code != 202]
            assert refused, "the outage was not noticed"
            for r in refused:
                assert r.status_code == 503, r.text
                assert r.headers["retry-after"] and r.json()["error"] in (
                    "unavailable", "overloaded")
            assert client.get("/readyz").status_code == 503
            _database(pg_cluster, name, allow=True)
            deadline = time.monotonic() + 30
            while send(1000).status_code != 202:  # recovers without a restart
                assert time.monotonic() < deadline, "no recovery after the outage"
                time.sleep(0.5)
            assert all(send(i).status_code == 202 for i in range(30, 40))
            assert client.get("/readyz").status_code == 200
    finally:
        server.stop()
        _database(pg_cluster, name, allow=True)
    if processor == "separate":  # what was acknowledged waits in the queue: store it
        assert store_queued(engine) == len(acked)
    with engine.connect() as conn:
        stored = set(conn.execute(sa.select(hits.c.url)).scalars())
    engine.dispose()
    missing = [page for page in acked if page not in stored]
    assert missing == [], f"acknowledged and lost: {missing}"
    assert len(acked) >= 21


@pytest.fixture(autouse=True)
def _needs_postgres(pg_cluster: PgCluster) -> None:
    """PostgreSQL only: SQLite has no server to lose."""

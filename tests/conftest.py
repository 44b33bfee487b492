"""Fixtures shared by the suite.

Everything that touches the database runs on SQLite **and** PostgreSQL: the
``db_url`` fixture is parametrized over both engines; PostgreSQL is a throwaway
cluster started once per test session from the machine's server binaries.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.engine import Engine

from webleads.app import WebleadsApp, create_app
from webleads.db.engine import create_engine
from webleads.db.migrate import upgrade
from webleads.settings import Settings
from webleads.sites import NewSite, create_site
from webleads.testing.pgcluster import PgCluster, postgres_available, start_cluster

ENGINES = ["sqlite", "postgresql"]

# Most tests read the reports right after a 2xx from collect: they run the inline
# processor (a 2xx means stored everywhere).  The product's default, the separate
# processor, has its own tests (test_processor.py, test_crash.py, test_tag.py), which
# set WEBLEADS_PROCESSOR themselves; subprocesses inherit this default.
os.environ.setdefault("WEBLEADS_PROCESSOR", "inline")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    if not postgres_available():
        if os.environ.get("WEBLEADS_REQUIRE_PG") == "1":
            pytest.fail("PostgreSQL server binaries are required (WEBLEADS_REQUIRE_PG=1)")
        pytest.skip("PostgreSQL server binaries not installed")
    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'webleads.db'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database("t_" + uuid.uuid4().hex[:12])


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, secret_key="test-secret", sqlite_synchronous="NORMAL")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = create_engine(settings.database_url, sqlite_synchronous="NORMAL")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def site(engine: Engine) -> NewSite:
    return create_site(engine, "Example", "example.com", origins=["http://127.0.0.1"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    app: WebleadsApp
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def serve_in_thread(app: WebleadsApp, **config: Any) -> LiveServer:
    """Run ``app`` under uvicorn on a free port of 127.0.0.1, in a thread."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, loop="asyncio",
                                           log_level="warning", proxy_headers=False, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", app, server, thread)


@pytest.fixture
def live_app(settings: Settings, engine: Engine) -> WebleadsApp:
    return create_app(settings, engine=engine)


@pytest.fixture
def live_server(live_app: WebleadsApp) -> Iterator[LiveServer]:
    server = serve_in_thread(live_app)
    yield server
    server.stop()

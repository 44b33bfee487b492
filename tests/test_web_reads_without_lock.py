"""The dashboard's busiest pages only read: on SQLite they must answer while another
process holds the database's write lock (the processor storing a big batch, a slice of
a background rescore, an import), instead of queueing behind it for up to the busy
timeout (30 s).  PostgreSQL has no such lock; the test is SQLite's."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.dashboard import Browser, add_user
from tests.test_scoring_db import hit
from webleads.app import create_app
from webleads.db import store
from webleads.db.engine import create_engine
from webleads.db.migrate import upgrade
from webleads.db.schema import accounts
from webleads.settings import Settings
from webleads.sites import create_site


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only: PostgreSQL readers never wait for writers."""
    made = create_engine(f"sqlite:///{tmp_path / 'webleads.db'}", sqlite_synchronous="NORMAL")
    upgrade(made)
    yield made
    made.dispose()


def test_accounts_pages_answer_while_the_write_lock_is_held(engine: Engine) -> None:
    settings = Settings(database_url=str(engine.url), secret_key="test-secret",
                        sqlite_synchronous="NORMAL")
    site = create_site(engine, "Shop", "example.com").site
    with engine.begin() as conn:
        store.store_hits(conn, [hit(site, "acme-1", timedelta(minutes=m)) for m in range(3)])
    with engine.connect() as conn:
        account_id = conn.scalar(sa.select(accounts.c.id))
    app = create_app(settings, engine=engine)
    add_user(app, "admin@example.com", workspace=site.workspace_id)
    ws = site.workspace_id
    with Browser(app) as b:
        b.login("admin@example.com")
        pages = [f"/w/{ws}/accounts", f"/w/{ws}/account/{account_id}",
                 f"/w/{ws}/account/{account_id}/sessions", f"/w/{ws}/settings/deliveries",
                 f"/w/{ws}/settings/scoring"]
        for page in pages:  # warm: sessions, caches, the default scoring rules written
            assert b.get(page).status_code == 200, page
        holder = sqlite3.connect(str(engine.url.database), timeout=1, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another writer, mid-transaction
            for page in pages:
                started = time.monotonic()
                answer = b.get(page, timeout=10)
                assert answer.status_code == 200, (page, answer.text[:300])
                assert time.monotonic() - started < 5, page
        finally:
            holder.execute("ROLLBACK")
            holder.close()

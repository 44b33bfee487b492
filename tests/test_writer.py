"""The group-commit writer on a real engine (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from webleads.db import store
from webleads.db.reads import count_hits
from webleads.db.schema import drops, quarantine
from webleads.metrics import Metrics
from webleads.model import Client, Hit, Site
from webleads.sites import NewSite
from webleads.writer import Writer, WriterUnavailable

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def hits_for(site: Site, visitor: str, n: int = 1) -> list[Hit]:
    client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor_key=visitor)
    return [Hit(client=client, type="pageview", ts=T0 + timedelta(seconds=i), received_at=T0,
                url=f"https://example.com/{visitor}/{i}") for i in range(n)]


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return count_hits(conn)


@pytest.fixture
def commits(engine: Engine) -> Iterator[list[float]]:
    """Times of the transactions committed on ``engine``."""
    seen: list[float] = []

    def on_commit(conn: Any) -> None:
        seen.append(time.monotonic())

    event.listen(engine, "commit", on_commit)
    yield seen
    event.remove(engine, "commit", on_commit)


def test_submit_resolves_only_after_commit(engine: Engine, site: NewSite) -> None:
    writer = Writer(engine, Metrics(), delay=0)
    done_at_commit: list[bool] = []
    futures: list[asyncio.Future[None]] = []

    def slow_commit(conn: Any) -> None:
        # The transaction is about to commit: nobody may have been told yet.
        done_at_commit.append(futures[0].done())
        time.sleep(0.2)

    event.listen(engine, "commit", slow_commit)

    async def main() -> int:
        future = writer.submit(hits_for(site.site, "visitor-1", 3))
        assert future is not None
        futures.append(future)
        await future
        return await asyncio.to_thread(stored, engine)

    writer.start()
    try:
        assert asyncio.run(main()) == 3
    finally:
        writer.stop()
        event.remove(engine, "commit", slow_commit)
    assert done_at_commit == [False]


def test_concurrent_submits_share_transactions(engine: Engine, site: NewSite,
                                               commits: list[float]) -> None:
    metrics = Metrics()
    writer = Writer(engine, metrics, delay=0.05)
    n = 40

    async def request(i: int) -> None:
        future = writer.submit(hits_for(site.site, f"visitor-{i}", 2))
        assert future is not None
        await future

    async def main() -> None:
        await asyncio.gather(*(request(i) for i in range(n)))

    writer.start()
    try:
        asyncio.run(main())
    finally:
        writer.stop()
    assert stored(engine) == 2 * n
    assert metrics.hits_accepted == metrics.commit_hits == 2 * n
    assert 1 <= metrics._commit_count <= 3
    assert len(commits) == metrics._commit_count


def test_batch_max_bounds_a_transaction(engine: Engine, site: NewSite,
                                        commits: list[float]) -> None:
    metrics = Metrics()
    writer = Writer(engine, metrics, delay=0, batch_max=4)

    async def main() -> None:
        futures = [writer.submit(hits_for(site.site, f"visitor-{i}", 3)) for i in range(5)]
        writer.start()  # every job is queued before the writer looks
        await asyncio.gather(*futures)  # type: ignore[arg-type]

    try:
        asyncio.run(main())
    finally:
        writer.stop()
    # 3 hits a job, at most 4 hits a transaction: one job each (an oversized job
    # still goes through alone).
    assert len(commits) == metrics._commit_count == 5
    assert stored(engine) == 15


def test_full_queue_refuses(engine: Engine, site: NewSite) -> None:
    metrics = Metrics()
    writer = Writer(engine, metrics, delay=0, queue_max=5)

    async def main() -> None:
        first = writer.submit(hits_for(site.site, "visitor-1", 3))
        assert first is not None
        assert writer.submit(hits_for(site.site, "visitor-2", 3)) is None  # 3 + 3 > 5
        second = writer.submit(hits_for(site.site, "visitor-3", 2))  # 3 + 2 fits
        assert second is not None
        assert writer.pending == metrics.queue_depth == 5
        writer.start()
        await asyncio.gather(first, second)
        assert writer.pending == metrics.queue_depth == 0
        again = writer.submit(hits_for(site.site, "visitor-2", 3))
        assert again is not None
        await again

    try:
        asyncio.run(main())
    finally:
        writer.stop()
    assert stored(engine) == 8


def test_a_failing_job_fails_alone(engine: Engine, site: NewSite) -> None:
    metrics = Metrics()
    writer = Writer(engine, metrics, delay=0)
    ghost = Site(id=999_999, workspace_id=1, key="wl_ghost", name="Ghost", domain="ghost.example")
    day = date(2026, 3, 2)

    async def main() -> list[BaseException | None]:
        futures = [
            writer.submit(hits_for(site.site, "visitor-1", 2), {(site.site.id, day, "bot"): 1}),
            writer.submit(hits_for(ghost, "visitor-2", 1)),  # no such site: FK violation
            writer.submit(hits_for(site.site, "visitor-3", 2)),
        ]
        writer.start()  # the three jobs go into one transaction first
        results = await asyncio.gather(*futures, return_exceptions=True)  # type: ignore[arg-type]
        return list(results)

    try:
        ok1, failed, ok2 = asyncio.run(main())
    finally:
        writer.stop()
    assert ok1 is None and ok2 is None
    assert isinstance(failed, WriterUnavailable)
    assert stored(engine) == 4
    with engine.connect() as conn:
        assert conn.execute(sa.select(drops.c.count)).scalar_one() == 1
    assert metrics.hits_accepted == 4 and metrics.commit_errors >= 1
    assert writer.pending == 0


def test_store_failure_of_one_job_does_not_refuse_the_others(
        engine: Engine, site: NewSite, monkeypatch: pytest.MonkeyPatch) -> None:
    real = store.store_hits

    def store_hits(conn: Any, batch: list[Hit]) -> Any:
        if any(h.client.visitor_key == "poison" for h in batch):
            raise ValueError("poison")
        return real(conn, batch)

    monkeypatch.setattr(store, "store_hits", store_hits)
    writer = Writer(engine, Metrics(), delay=0)
    row = {"received_at": T0, "endpoint": "collect", "status": 400, "reason": "invalid_json",
           "field": None, "detail": "x", "site_key": None, "content_type": "text/plain",
           "size": 1, "payload": b"{"}

    async def main() -> list[BaseException | None]:
        futures = [
            writer.submit(hits_for(site.site, "poison", 1)),
            writer.submit([], quarantine=[row]),
            writer.submit(hits_for(site.site, "visitor-1", 1)),
        ]
        writer.start()
        return list(await asyncio.gather(*futures,  # type: ignore[arg-type]
                                         return_exceptions=True))

    try:
        failed, ok1, ok2 = asyncio.run(main())
    finally:
        writer.stop()
    assert isinstance(failed, WriterUnavailable) and "poison" in str(failed)
    assert ok1 is None and ok2 is None
    assert stored(engine) == 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(quarantine)).scalar() == 1


def test_stop_drains_queued_jobs(engine: Engine, site: NewSite) -> None:
    metrics = Metrics()
    writer = Writer(engine, metrics, delay=0.5, batch_max=2)

    async def main() -> None:
        futures = [writer.submit(hits_for(site.site, f"visitor-{i}", 2)) for i in range(4)]
        writer.start()
        started = time.monotonic()
        await asyncio.to_thread(writer.stop)
        # stop() returns after the queue is committed, without waiting out the delay of
        # every batch.
        assert time.monotonic() - started < 2
        await asyncio.gather(*futures)  # type: ignore[arg-type]
        assert writer.submit(hits_for(site.site, "late", 1)) is None  # stopped

    asyncio.run(main())
    assert stored(engine) == 8
    assert metrics._commit_count == 4 and writer.pending == 0


def test_futures_of_a_closed_loop_do_not_break_the_writer(engine: Engine,
                                                          site: NewSite) -> None:
    """A request whose event loop went away must not stop the writer thread."""
    writer = Writer(engine, Metrics(), delay=0)

    async def abandon() -> None:
        assert writer.submit(hits_for(site.site, "visitor-1", 1)) is not None

    asyncio.run(abandon())  # the loop is closed before the job is written
    writer.start()

    async def later() -> None:
        future = writer.submit(hits_for(site.site, "visitor-2", 1))
        assert future is not None
        await asyncio.wait_for(future, 10)

    try:
        asyncio.run(later())
    finally:
        writer.stop()
    assert stored(engine) == 2

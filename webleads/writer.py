"""Group commit: one background thread writes batches of hits, one transaction each.

A request hands its enriched hits to ``Writer.submit`` and awaits the returned
future: it resolves only after the transaction holding those hits committed, so a
2xx always means "durably stored".  Hits of many concurrent requests share one
transaction (a few milliseconds of waiting, ``delay``), which is what makes durable
writes cheap.  When more than ``queue_max`` hits wait, ``submit`` refuses (the caller
answers 503 with Retry-After) rather than queueing without bound.

Two modes (``WEBLEADS_PROCESSOR``):

- ``inline``: the transaction sessionises, stores and scores the hits
  (``store.store_hits``); a 2xx means the hits are in every table and report.
- ``separate``: the transaction appends the batch, enriched, to the hit queue
  (``hit_queue.py``: one row per batch); a 2xx means the hits are durably queued, and
  the processor (``processor.py``, its own process) stores them moments later.  The
  server's core then spends per hit only the encoding and its share of one INSERT.
  Above ``backlog_max`` hits waiting in the queue, ``submit`` refuses as when full.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.engine import Engine

from webleads import hit_queue as codec
from webleads.db import hit_queue, store
from webleads.db.engine import read_only
from webleads.metrics import Metrics
from webleads.model import Hit

log = logging.getLogger("webleads.writer")


class WriterUnavailable(Exception):
    """The batch could not be committed (database down, writer stopped)."""


class WriterRejected(WriterUnavailable):
    """This job alone failed for a reason other than the connection (a constraint or a
    value the database refuses): sending the same request again cannot succeed."""


@dataclass(slots=True)
class Job:
    hits: list[Hit]
    drops: dict[tuple[int, date, str], int]
    quarantine: list[dict[str, Any]]
    future: asyncio.Future[None] | None
    loop: asyncio.AbstractEventLoop | None
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(self.hits) + len(self.quarantine)


class Writer:
    def __init__(self, engine: Engine, metrics: Metrics, *, batch_max: int = 2000,
                 delay: float = 0.002, queue_max: int = 20_000,
                 allow_private_destinations: bool = False, queue: Engine | None = None,
                 backlog_max: int = 1_000_000, threads: int = 1) -> None:
        self._engine = engine
        self._queue = queue  # separate mode: the hit queue's engine
        self._backlog_max = backlog_max
        self._backlog = 0  # hits in the hit queue at the last look (separate mode)
        self._backlog_read = float("-inf")
        # Options of store.store_hits (alerts to private webhook addresses, if allowed).
        self._store_options: dict[str, bool] = (
            {"allow_private": True} if allow_private_destinations else {})
        self._metrics = metrics
        self._batch_max = batch_max
        self._delay = delay
        self._queue_max = queue_max
        self._jobs: deque[Job] = deque()
        self._pending = 0
        self._cond = threading.Condition()
        self._stopping = False
        # More than one thread only where commits may overlap: the hit queue on
        # PostgreSQL (its group commit flushes concurrent commits together).  A commit
        # waits for the disk; meanwhile another thread commits the next batch.
        self._n_threads = threads
        self._threads: list[threading.Thread] = []
        self._counts = threading.Lock()

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._run, name=f"webleads-writer-{i}",
                                          daemon=True) for i in range(self._n_threads)]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._queue is not None and self._queue is not self._engine:
            self._queue.dispose()

    @property
    def pending(self) -> int:
        return self._pending

    @property
    def backlog(self) -> int:
        """Hits in the hit queue at the last look (separate mode; 0 inline)."""
        return self._backlog

    def submit(self, hits: list[Hit], drops: dict[tuple[int, date, str], int] | None = None,
               quarantine: list[dict[str, Any]] | None = None, *, wait: bool = True,
               ) -> asyncio.Future[None] | None:
        """Queue a job; returns the future of its commit, or None when the writer is full.

        With ``wait=False`` the job is queued without a future (counts that need no
        acknowledgement) and the return value is a done future.
        """
        job_hits = len(hits) + len(quarantine or ())
        with self._cond:
            if self._stopping or (job_hits and (
                    self._pending + job_hits > self._queue_max
                    or self._backlog + self._pending + job_hits > self._backlog_max)):
                return None
            loop = asyncio.get_running_loop() if wait else None
            future: asyncio.Future[None] | None = loop.create_future() if loop else None
            job = Job(hits, drops or {}, quarantine or [], future, loop)
            self._jobs.append(job)
            self._pending += job.size
            self._metrics.queue_depth = self._pending
            self._cond.notify()
        if future is None:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        return future

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stopping:
                    self._cond.wait()
                if not self._jobs and self._stopping:
                    return
            if self._delay and not self._stopping:
                time.sleep(self._delay)  # let concurrent requests join this batch
            if self._queue:
                self.read_backlog()
            jobs = self._take()
            self._commit(jobs)

    def _take(self) -> list[Job]:
        jobs: list[Job] = []
        n = 0
        with self._cond:
            while self._jobs and (not jobs or n + self._jobs[0].size <= self._batch_max):
                job = self._jobs.popleft()
                jobs.append(job)
                n += job.size
        return jobs

    def _commit(self, jobs: list[Job]) -> None:
        try:
            self._write(jobs)
        except Exception as exc:  # noqa: BLE001 - any failure must reach the requests
            self._metrics.commit_errors += 1
            if len(jobs) > 1 and not is_connection_error(exc):
                # Isolate the job that fails so that others are not refused with it.
                for job in jobs:
                    self._commit([job])
                return
            log.error("writer transaction failed: %s", exc, exc_info=exc)
            error = (WriterUnavailable if is_connection_error(exc) else WriterRejected)(str(exc))
            self._settle(jobs, error)
            return
        self._settle(jobs, None)

    def _write(self, jobs: list[Job]) -> None:
        batch = [h for job in jobs for h in job.hits]
        counts: dict[tuple[int, date, str], int] = {}
        for job in jobs:
            for key, n in job.drops.items():
                counts[key] = counts.get(key, 0) + n
        quarantined = [row for job in jobs for row in job.quarantine]
        started = time.perf_counter()
        if batch and self._queue is not None:
            hit_queue.enqueue_now(self._queue, max(h.received_at for h in batch), len(batch),
                                  codec.encode(batch))
            with self._counts:
                self._backlog += len(batch)
            batch_stored: list[Hit] = []
        else:
            batch_stored = batch
        if batch_stored or counts or quarantined:
            with self._engine.begin() as conn:
                if batch_stored:
                    store.store_hits(conn, batch_stored, **self._store_options)
                store.add_drops(conn, counts)
                store.add_quarantine(conn, quarantined)
        self._metrics.observe_commit(time.perf_counter() - started, len(batch))
        with self._counts:
            self._metrics.hits_accepted += len(batch)
            self._metrics.quarantined += len(quarantined)

    def read_backlog(self, every: float = 0.5) -> None:
        """Refresh the count of queued hits (the processor drains it from elsewhere), at
        most every ``every`` seconds; nothing to do without a hit queue."""
        if self._queue is None:
            return
        now = time.monotonic()
        if now - self._backlog_read < every:
            return
        self._backlog_read = now
        try:
            with read_only(self._queue or self._engine) as conn, conn.begin():
                self._backlog, oldest = hit_queue.backlog(conn)
            self._metrics.queue_oldest_seconds = (
                max(0.0, (datetime.now(UTC) - oldest).total_seconds()) if oldest else 0.0)
        except Exception as exc:  # noqa: BLE001 - the commit that follows reports it
            log.warning("could not read the hit queue's backlog: %s", exc)
        self._metrics.queue_backlog = self._backlog

    def _settle(self, jobs: list[Job], error: Exception | None) -> None:
        with self._cond:
            for job in jobs:
                self._pending -= job.size
            self._metrics.queue_depth = self._pending
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for job in jobs:
            if job.future is not None and job.loop is not None:
                by_loop.setdefault(job.loop, []).append(job.future)
        for loop, futures in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, futures, error)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass


def _resolve(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def is_connection_error(exc: Exception) -> bool:
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated) or (
        exc.__class__.__name__ in {"OperationalError", "InterfaceError"}
    )

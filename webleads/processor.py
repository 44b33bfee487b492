"""The processor: hit queue -> sessions, accounts, hits, scores (WEBLEADS_PROCESSOR=separate).

The server's writer acknowledges a batch once it is durably in the hit queue; this
loop takes the oldest rows, runs ``store.store_hits`` on their hits (visitors,
sessions, accounts, contacts, hits, scoring, lifecycle and alerts: the same code as
the inline mode) and deletes the rows, all in one transaction.  A crash at any point
leaves each hit either queued or stored, so nothing acknowledged is lost and nothing
is stored twice.

``webleads serve`` runs it as a child process, so that on a machine with two cores the
server's core serves HTTP and this one stores; ``webleads process`` runs it alone (a
host of its own, or ``--drain`` to empty the queue and exit).

A row that cannot be stored (a value the database refuses, a site deleted meanwhile,
bytes that do not decode) must not stop the queue behind it: the failing hits go to
the quarantine table with the reason, the others are stored.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec
from sqlalchemy.engine import Connection, Engine

from webleads import hit_queue as codec
from webleads.db import hit_queue, store
from webleads.db.engine import read_only
from webleads.model import Hit, Site
from webleads.settings import Settings
from webleads.writer import is_connection_error

log = logging.getLogger("webleads.processor")


class Processor:
    """``queue``: the engine holding the hit queue (``hit_queue.queue_engine``); the
    database's own engine unless the queue is a SQLite file of its own."""

    def __init__(self, engine: Engine, site_for: Callable[[str], Site | None], *,
                 queue: Engine | None = None, batch_max: int = 2000,
                 allow_private: bool = False,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._engine = engine
        self._queue = queue or engine
        self._split = self._queue is not engine
        self._site_for = site_for
        self._batch_max = batch_max
        self._allow_private = allow_private
        self._clock = clock
        self.stored = 0  # hits stored since start
        self.quarantined = 0  # hits (or undecodable rows) sent to quarantine

    def step(self) -> int:
        """Store the oldest queued rows; the number of hits handled (0: queue empty)."""
        try:
            with self._engine.begin() as conn:
                rows = self._claim(conn, self._batch_max)
                if not rows:
                    return 0
                hits = [h for row in rows for h in codec.decode(row.payload, self._site_for)]
                if hits:
                    store.store_hits(conn, hits, allow_private=self._allow_private)
                self._done(conn, rows)
            self._forget()
        except Exception as exc:  # noqa: BLE001 - sorted out below
            if is_connection_error(exc):
                raise
            log.warning("a queued batch failed (%s); storing its rows one by one", exc)
            return self._one_by_one()
        self.stored += len(hits)
        return len(hits)

    def dispose(self) -> None:
        """Close the queue file's connections (the database's engine is the caller's)."""
        if self._split:
            self._queue.dispose()

    def _claim(self, conn: Connection, max_hits: int) -> list[hit_queue.Queued]:
        """The next rows, in the transaction ``conn`` of the database."""
        if not self._split:
            return hit_queue.take(conn, max_hits)  # locked until this transaction ends
        # A queue file of its own: the rows after the mark (read in this write
        # transaction, which excludes other processors on SQLite).
        mark = hit_queue.get_mark(conn)
        with read_only(self._queue) as qc, qc.begin():
            rows = hit_queue.take(qc, max_hits, after=mark)
        if not rows:
            self._forget(mark)
        return rows

    def _done(self, conn: Connection, rows: list[hit_queue.Queued]) -> None:
        if self._split:
            hit_queue.set_mark(conn, rows[-1].id)  # committed with the hits
        else:
            hit_queue.delete(conn, [row.id for row in rows])

    def _forget(self, mark: int | None = None) -> None:
        """Delete the queue file's rows already stored (a crash between the commit
        of the hits and this leaves them; the mark says they are done)."""
        if not self._split:
            return
        if mark is None:
            with read_only(self._engine) as conn, conn.begin():
                mark = hit_queue.get_mark(conn)
        if mark:
            with self._queue.begin() as qc:
                hit_queue.delete_upto(qc, mark)

    def drain(self, stop: threading.Event | None = None) -> int:
        """Process until the queue is empty (or ``stop`` is set); the hits handled."""
        total = 0
        while stop is None or not stop.is_set():
            n = self.step()
            if n == 0:
                break
            total += n
        return total

    def run(self, stop: threading.Event, *, idle: float = 0.2,
            parent: int | None = None) -> None:
        """Loop until ``stop`` is set, or until the parent process ``parent`` is gone
        (a server killed without its shutdown must not leave an orphan behind).

        After a small batch it waits ``idle`` seconds: hits gather in the queue, and a
        big batch costs much less per hit than a small one (statements, reads for the
        scores and stages, and the commit are per batch: measured on new visitors, 150
        µs a hit in batches of 100, 60 in batches of 1,000, 53 in batches of 2,000).
        The reports lag by about that much more."""
        while not stop.is_set():
            if parent is not None and os.getppid() != parent:
                log.warning("the server process is gone: the processor stops")
                return
            try:
                n = self.step()
            except Exception as exc:  # noqa: BLE001 - the database is away: retry later
                log.error("the processor cannot reach the database: %s", exc)
                stop.wait(1.0)
                continue
            if n < self._batch_max // 4:
                stop.wait(idle)

    def _one_by_one(self) -> int:
        """Each of the oldest rows in a transaction of its own; within a row, a hit that
        fails goes to quarantine while the others are stored."""
        handled = 0
        while True:
            with self._engine.begin() as conn:
                rows = self._claim(conn, 1)
                if not rows:
                    break
                handled += self._row(conn, rows[0])
                self._done(conn, rows[:1])
            self._forget()
            if handled >= self._batch_max:
                break
        return handled

    def _row(self, conn: Connection, row: hit_queue.Queued) -> int:
        try:
            hits = codec.decode(row.payload, self._site_for)
        except (msgspec.DecodeError, msgspec.ValidationError, codec.UnknownSite) as exc:
            reason = "unknown_site" if isinstance(exc, codec.UnknownSite) else "undecodable"
            self._quarantine(conn, row.payload, reason, str(exc), row.hits)
            return row.hits
        try:
            with conn.begin_nested():
                store.store_hits(conn, hits, allow_private=self._allow_private)
            self.stored += len(hits)
            return len(hits)
        except Exception as exc:  # noqa: BLE001 - find the hit that fails
            if is_connection_error(exc):
                raise
        for hit in hits:
            self._one(conn, hit)
        return len(hits)

    def _one(self, conn: Connection, hit: Hit) -> None:
        try:
            with conn.begin_nested():
                store.store_hits(conn, [hit], allow_private=self._allow_private)
            self.stored += 1
        except Exception as exc:  # noqa: BLE001 - the database refused this hit
            if is_connection_error(exc):
                raise
            log.error("a queued hit could not be stored; it goes to quarantine: %s", exc)
            self._quarantine(conn, codec.encode([hit]), "unstorable", str(exc), 1,
                             site_key=hit.client.site.key)

    def _quarantine(self, conn: Connection, payload: bytes, reason: str, detail: str,
                    n: int, site_key: str | None = None) -> None:
        store.add_quarantine(conn, [{
            "received_at": self._clock(), "endpoint": "processor", "status": 0,
            "reason": reason, "field": None, "detail": detail[:1000], "site_key": site_key,
            "content_type": "application/msgpack", "size": len(payload), "payload": payload,
        }])
        self.quarantined += n


def run_forever(processor: Processor, *, parent: int | None = None,
                report_every: float = 60.0) -> None:
    """``webleads process``: run until SIGTERM/SIGINT, logging the throughput."""
    import signal

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    reporter = threading.Thread(target=_report, args=(processor, stop, report_every),
                                daemon=True)
    reporter.start()
    processor.run(stop, parent=parent)


def _report(processor: Processor, stop: threading.Event, every: float) -> None:
    last, at = 0, time.monotonic()
    while not stop.wait(every):
        now = time.monotonic()
        if processor.stored != last:
            log.info("processor: %d hits stored (%.0f/s)", processor.stored,
                     (processor.stored - last) / (now - at))
        last, at = processor.stored, now


def _build(settings: Settings) -> tuple[Processor, Engine]:
    from webleads.db.engine import create_engine
    from webleads.sites import SiteBook

    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    sites = SiteBook(engine)
    queue = hit_queue.queue_engine(engine, sqlite_synchronous=settings.sqlite_synchronous)
    return Processor(engine, sites.get, queue=queue, batch_max=settings.processor_batch_max,
                     allow_private=settings.allow_private_destinations), engine


def drain_queue(settings: Settings) -> int:
    """Store everything queued, then return the number of hits handled."""
    processor, engine = _build(settings)
    try:
        return processor.drain()
    finally:
        processor.dispose()
        engine.dispose()


def store_queued(engine: Engine) -> int:
    """Store, in this process, what the hit queue holds now; the hits handled.

    An erasure runs it first, so that it also covers hits acknowledged a moment ago and
    still queued, which the processor would otherwise store right after it.  Safe beside
    a running processor (each row is taken once: row locks on PostgreSQL, the mark in
    the write transaction on SQLite).  Alerts it raises for private webhook addresses are
    kept dead (retry them from the deliveries log) unless private destinations are
    allowed, which this function does not know."""
    from webleads.sites import SiteBook

    queue = hit_queue.queue_engine(engine)
    processor = Processor(engine, SiteBook(engine).get, queue=queue)
    try:
        return processor.drain()
    finally:
        processor.dispose()


def run_processor(settings: Settings, *, parent: int | None = None) -> None:
    from webleads import gc_tuning

    processor, engine = _build(settings)
    gc_tuning.settle()
    try:
        run_forever(processor, parent=parent)
    finally:
        processor.dispose()
        engine.dispose()


class Supervised:
    """``webleads serve``'s processor child: restarted if it dies, stopped with serve.

    It is started with ``--parent``, so it also stops by itself when serve is killed
    without a chance to stop it (SIGKILL)."""

    def __init__(self, command: list[str]) -> None:
        self._command = command
        self._stopping = threading.Event()
        self._proc = self._spawn()
        self._watch = threading.Thread(target=self._supervise, name="processor-supervisor",
                                       daemon=True)
        self._watch.start()

    @classmethod
    def start(cls) -> Supervised:
        return cls([sys.executable, "-m", "webleads.cli", "process", "--parent",
                    str(os.getpid())])

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._command, stdin=subprocess.DEVNULL)

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            code = self._proc.wait()
            if self._stopping.is_set():
                return
            log.error("the processor exited (status %s); starting it again", code)
            if self._stopping.wait(1.0):
                return
            self._proc = self._spawn()

    def stop(self, timeout: float = 30.0) -> None:
        """Let the processor finish its transaction and exit (SIGTERM), then wait."""
        self._stopping.set()
        self._proc.terminate()
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

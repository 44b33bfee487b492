"""Delivery workers: claim due messages, send them outside any transaction, record.

Exactly once towards receivers: a message is claimed by one worker at a time (a lease);
the send happens after the claim committed, and the outcome is recorded in a new
transaction.  When a worker dies between the two, its lease expires and another worker
sends the message again **with the same event id**, which receivers use to deduplicate;
a message recorded as delivered is never sent again.
"""

from __future__ import annotations

import logging
import os
import random as _random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from webleads.db import outbox as db
from webleads.outbox.model import (
    Channel,
    Language,
    Message,
    Policy,
    Senders,
    SendResult,
    State,
)
from webleads.outbox.queue import enqueue
from webleads.outbox.ssrf import Guard, check_destination

log = logging.getLogger("webleads.outbox")
MAX_THREADS = 16
DEFAULT_POLICY = Policy()


def worker_name() -> str:
    """host:pid:random, unique per process and readable in the attempts log."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def deliver_due(engine: Engine, *, now: datetime, worker_id: str, limit: int,
                senders: Senders, policy: Policy = DEFAULT_POLICY,
                random: Callable[[], float] = _random.random,
                only_id: int | None = None) -> int:
    """Claim up to ``limit`` due messages, send them, record the outcomes; how many.

    ``now`` is the clock of claims and schedules (tests move it instead of waiting).
    """
    with engine.begin() as conn:
        claimed = db.claim(conn, now=now, worker_id=worker_id, limit=limit,
                           lease_until=now + policy.lease, max_attempts=policy.max_attempts,
                           only_id=only_id)
    if not claimed:
        return 0

    def one(item: tuple[Message, int]) -> None:
        deliver(engine, item[0], item[1], now=now, worker_id=worker_id, senders=senders,
                policy=policy, random=random)

    if len(claimed) == 1:
        one(claimed[0])
    else:
        with ThreadPoolExecutor(min(len(claimed), MAX_THREADS),
                                thread_name_prefix="webleads-outbox") as pool:
            for future in [pool.submit(one, item) for item in claimed]:
                error = future.exception()
                if error is not None:  # the lease expires and another round retries
                    log.error("outbox: recording a delivery failed: %r", error)
    return len(claimed)


def send(message: Message, senders: Senders) -> SendResult:
    sender = senders.get(message.channel)
    if sender is None:
        return SendResult("retry", error=f"the {message.channel} channel is not configured"
                          + (" (WEBLEADS_SMTP_HOST, WEBLEADS_SMTP_FROM)"
                             if message.channel == "email" else ""))
    try:
        return sender(message)
    except Exception as exc:  # a bug in a sender must not stop the others
        log.exception("outbox: sender %s failed on message %s", message.channel, message.id)
        return SendResult("retry", error=f"{type(exc).__name__}: {exc}")


def deliver(engine: Engine, message: Message, attempt_id: int, *, now: datetime,
            worker_id: str, senders: Senders, policy: Policy,
            random: Callable[[], float]) -> SendResult:
    """Send one claimed message and record the attempt and the message's new state."""
    started = time.monotonic()
    result = send(message, senders)
    elapsed = time.monotonic() - started
    finished = now + timedelta(seconds=elapsed)
    with engine.begin() as conn:
        db.finish_attempt(conn, attempt_id=attempt_id, outcome=result.outcome,
                          finished_at=finished, status_code=result.status_code,
                          reply=result.reply, error=result.error,
                          duration_ms=round(elapsed * 1000))
        if result.outcome == "delivered":
            db.mark_delivered(conn, message_id=message.id, now=finished)
            return result
        error = result.error or f"status {result.status_code}"
        state: State
        if result.outcome == "permanent":
            state, next_at = "dead", finished
        elif message.attempt >= policy.max_attempts:
            state, next_at = "dead", finished
            error = f"{error} (gave up after {message.attempt} attempts)"
        else:
            state = "pending"
            next_at = finished + policy.backoff(message.attempt, random, result.retry_after)
        db.mark_failed(conn, message_id=message.id, worker_id=worker_id,
                       attempt=message.attempt, state=state, next_attempt_at=next_at,
                       error=error)
    return result


def serve_worker(engine: Engine, stop_event: threading.Event, *, senders: Senders,
                 policy: Policy = DEFAULT_POLICY, worker_id: str | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 random: Callable[[], float] = _random.random) -> None:
    """Deliver until ``stop_event`` is set: a full batch goes on at once, else it waits
    ``policy.poll``.  Errors (the database going away) are logged and retried."""
    worker_id = worker_id or worker_name()
    pause = policy.poll.total_seconds()
    while not stop_event.is_set():
        try:
            handled = deliver_due(engine, now=clock(), worker_id=worker_id,
                                  limit=policy.batch, senders=senders, policy=policy,
                                  random=random)
        except Exception:
            log.exception("outbox: a delivery round failed; retrying in %.0f s", pause)
            handled = 0
        if handled < policy.batch:
            stop_event.wait(pause)


class BackgroundWorker:
    """``serve_worker`` in a daemon thread, for ``webleads serve``."""

    def __init__(self, engine: Engine, *, senders: Senders, policy: Policy = DEFAULT_POLICY,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.stop_event = threading.Event()
        self.worker_id = worker_name()
        self._thread = threading.Thread(
            target=serve_worker, name="webleads-outbox", daemon=True,
            args=(engine, self.stop_event),
            kwargs=dict(senders=senders, policy=policy, worker_id=self.worker_id,
                        clock=clock))

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


SAMPLE = {"account": {"name": "Example Industries", "domain": "example.com", "country": "FR"},
          "score": 42, "grade": "B", "stage": "engaged",
          "reasons": ["+20 pricing page ×2", "+10 came back 3 times this week"]}


def send_test(engine: Engine, *, workspace_id: int, channel: Channel, destination: str,
              language: Language, now: datetime, senders: Senders, guard: Guard,
              policy: Policy = DEFAULT_POLICY, worker_id: str | None = None,
              make_key: Callable[[], str] = lambda: uuid.uuid4().hex) -> tuple[int, SendResult]:
    """Send a test message now (the dashboard's "send test" button) through the outbox:
    checked like any destination (DNS included), logged like any attempt, retried like any
    message when it fails.  Raises ``DestinationRefused`` for a refused destination."""
    check_destination(channel, destination, allow_private=guard.allow_private,
                      guard=None if channel == "email" else guard)
    with engine.begin() as conn:
        message_id = enqueue(conn, workspace_id=workspace_id, channel=channel,
                             destination=destination, kind="test", payload=SAMPLE,
                             language=language, idempotency_key=f"test:{make_key()}", now=now,
                             allow_private=guard.allow_private)
    assert message_id is not None
    worker_id = worker_id or worker_name()
    with engine.begin() as conn:
        [(message, attempt_id)] = db.claim(
            conn, now=now, worker_id=worker_id, limit=1, lease_until=now + policy.lease,
            max_attempts=policy.max_attempts, only_id=message_id)
    return message_id, deliver(engine, message, attempt_id, now=now, worker_id=worker_id,
                               senders=senders, policy=policy, random=_random.random)

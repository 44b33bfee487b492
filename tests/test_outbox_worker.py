"""Delivery workers against real receivers, on SQLite and PostgreSQL.

The clock is a parameter: retries are tested by moving ``now`` past each backoff, never
by waiting.  The crash case kills a real worker process with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.test_outbox_receivers import T0, http_receiver, new_workspace, put
from webleads.db import outbox as db
from webleads.db.dialect import is_postgres
from webleads.outbox.channels import http_client, make_senders
from webleads.outbox.model import Message, Policy, Senders, SendResult
from webleads.outbox.queue import enqueue, retry
from webleads.outbox.ssrf import Guard
from webleads.outbox.worker import BackgroundWorker, deliver, deliver_due

POLICY = Policy(max_attempts=8, jitter=0.2, lease=timedelta(minutes=5))


def no_jitter() -> float:
    return 0.5  # the middle of the jitter band: exactly base × 2^(n-1)


@pytest.fixture
def senders() -> Iterator[Senders]:
    client = http_client(timeout=10)
    yield make_senders(guard=Guard(allow_private=True), client=client)
    client.close()


@pytest.fixture
def workspace(engine: Engine) -> int:
    return new_workspace(engine)


def stored(engine: Engine, message_id: int | None) -> db.Stored:
    assert message_id is not None
    with engine.connect() as conn:
        found = db.get_message(conn, message_id)
    assert found is not None
    return found


def run(engine: Engine, senders: Senders, at: timedelta = timedelta(0), *,
        policy: Policy = POLICY, worker: str = "w1") -> int:
    return deliver_due(engine, now=T0 + at, worker_id=worker, limit=50, senders=senders,
                       policy=policy, random=no_jitter)


def test_delivers_once_and_never_again(engine: Engine, senders: Senders,
                                       workspace: int) -> None:
    with http_receiver() as receiver:
        message_id = put(engine, workspace, receiver.url)
        assert run(engine, senders) == 1
        assert run(engine, senders, timedelta(days=30)) == 0
    message = stored(engine, message_id)
    assert message.state == "delivered" and message.delivered_at is not None
    assert message.claimed_by is None and message.attempts == 1
    assert [(a.attempt, a.outcome, a.status_code) for a in message.history] == [
        (1, "delivered", 200)]
    assert message.history[0].duration_ms is not None
    assert len(receiver.requests) == 1
    assert receiver.requests[0].event_id == message.event_id


def test_receiver_failing_three_times_gets_the_message_once(
        engine: Engine, senders: Senders, workspace: int) -> None:
    with http_receiver() as receiver:
        receiver.fail_next(3)
        message_id = put(engine, workspace, receiver.url)
        at = timedelta(0)
        waits = []
        for _ in range(3):
            assert run(engine, senders, at) == 1
            message = stored(engine, message_id)
            assert message.state == "pending"
            waits.append(message.next_attempt_at - (T0 + at))
            assert run(engine, senders, at + waits[-1] - timedelta(seconds=1)) == 0  # not yet
            at += waits[-1]
        assert run(engine, senders, at) == 1
        assert run(engine, senders, at + timedelta(days=1)) == 0
    # 30 s × 2^(n-1), measured from the end of each attempt (a few ms after ``now``)
    assert [round(w.total_seconds()) for w in waits] == [30, 60, 120]
    message = stored(engine, message_id)
    assert message.state == "delivered" and message.last_error is None
    assert [(a.outcome, a.status_code) for a in message.history] == [
        ("retry", 503), ("retry", 503), ("retry", 503), ("delivered", 200)]
    assert len(receiver.requests) == 4
    assert {r.event_id for r in receiver.requests} == {message.event_id}
    assert len(receiver.events) == 1  # one success: the receiver has the event once


def test_dead_receiver_ends_dead_with_its_attempts(engine: Engine, senders: Senders,
                                                   workspace: int) -> None:
    policy = Policy(max_attempts=4)
    with http_receiver(status=500) as receiver:
        message_id = put(engine, workspace, receiver.url)
        at = timedelta(0)
        for _ in range(4):
            assert run(engine, senders, at, policy=policy) == 1
            at = stored(engine, message_id).next_attempt_at - T0
        assert run(engine, senders, at + timedelta(days=1), policy=policy) == 0
    message = stored(engine, message_id)
    assert message.state == "dead"
    assert message.last_error == "HTTP 500 (gave up after 4 attempts)"
    assert [(a.attempt, a.outcome, a.status_code) for a in message.history] == [
        (1, "retry", 500), (2, "retry", 500), (3, "retry", 500), (4, "retry", 500)]
    assert len(receiver.requests) == 4
    with engine.connect() as conn:  # the dead-letter list shows it
        dead = db.list_messages(conn, state="dead")
        assert [m.id for m in dead] == [message_id]
        assert db.count_by_state(conn) == {"dead": 1}


@pytest.mark.parametrize("status", [400, 401, 404, 410, 301])
def test_permanent_refusal_is_dead_at_once(engine: Engine, senders: Senders, workspace: int,
                                           status: int) -> None:
    with http_receiver(status=status, headers={"Location": "https://elsewhere.example/"}) \
            as receiver:
        message_id = put(engine, workspace, receiver.url)
        assert run(engine, senders) == 1
        assert run(engine, senders, timedelta(days=1)) == 0
    message = stored(engine, message_id)
    assert message.state == "dead" and len(receiver.requests) == 1
    assert message.last_error is not None and f"HTTP {status}" in message.last_error
    assert [(a.outcome, a.status_code) for a in message.history] == [("permanent", status)]


@pytest.mark.parametrize("status", [408, 429, 502, 503])
def test_temporary_refusals_are_retried(engine: Engine, senders: Senders, workspace: int,
                                        status: int) -> None:
    with http_receiver() as receiver:
        receiver.fail_next(1, status)
        message_id = put(engine, workspace, receiver.url)
        run(engine, senders)
        assert stored(engine, message_id).state == "pending"
        run(engine, senders, timedelta(seconds=31))
    assert stored(engine, message_id).state == "delivered"


def test_retry_after_is_honoured(engine: Engine, senders: Senders, workspace: int) -> None:
    with http_receiver(headers={"Retry-After": "600"}) as receiver:
        receiver.fail_next(1, 429)
        message_id = put(engine, workspace, receiver.url)
        run(engine, senders)
    wait = stored(engine, message_id).next_attempt_at - T0
    assert timedelta(seconds=600) <= wait < timedelta(seconds=601)


def test_connection_refused_and_timeouts_are_retried(engine: Engine, workspace: int) -> None:
    client = http_client(timeout=0.3)
    senders = make_senders(guard=Guard(allow_private=True), client=client)
    try:
        with http_receiver() as receiver:
            closed = receiver.url
        refused = put(engine, workspace, closed, key="refused")
        with http_receiver(delay=2) as slow:
            timed_out = put(engine, workspace, slow.url, key="slow")
            assert run(engine, senders) == 2
    finally:
        client.close()
    for message_id, error in ((refused, "ConnectError"), (timed_out, "timeout")):
        message = stored(engine, message_id)
        assert message.state == "pending" and message.last_error is not None
        assert error in message.last_error, message.last_error
        assert message.history[0].outcome == "retry"


def test_rolled_back_enqueue_sends_nothing(engine: Engine, senders: Senders,
                                           workspace: int) -> None:
    with http_receiver() as receiver:
        with engine.connect() as conn:
            with conn.begin() as transaction:
                assert enqueue(conn, workspace_id=workspace, channel="webhook",
                               destination=receiver.url, kind="mql", payload={},
                               language="en", idempotency_key="lost", now=T0,
                               allow_private=True) is not None
                transaction.rollback()
        assert run(engine, senders, timedelta(hours=1)) == 0
    assert receiver.requests == []
    with engine.connect() as conn:
        assert db.list_messages(conn) == []


def test_duplicate_idempotency_key_enqueues_once(engine: Engine, senders: Senders,
                                                 workspace: int) -> None:
    with http_receiver() as receiver:
        first = put(engine, workspace, receiver.url, key="mql:7:2026-03-02")
        with engine.begin() as conn:  # twice in one transaction, then in another
            for _ in range(2):
                assert enqueue(conn, workspace_id=workspace, channel="webhook",
                               destination=receiver.url, kind="mql", payload={},
                               language="en", idempotency_key="mql:7:2026-03-02",
                               now=T0, allow_private=True) is None
        other = new_workspace(engine, "Other")  # keys are per workspace
        assert put(engine, other, receiver.url, key="mql:7:2026-03-02") is not None
        assert first is not None
        assert run(engine, senders) == 2
    assert len(receiver.requests) == 2
    assert len({r.event_id for r in receiver.requests}) == 2


def test_not_before_delays_the_first_attempt(engine: Engine, senders: Senders,
                                             workspace: int) -> None:
    with http_receiver() as receiver:
        with engine.begin() as conn:
            enqueue(conn, workspace_id=workspace, channel="webhook", destination=receiver.url,
                    kind="digest", payload={}, language="fr", idempotency_key="digest",
                    now=T0, not_before=T0 + timedelta(hours=8), allow_private=True)
        assert run(engine, senders, timedelta(hours=7)) == 0
        assert run(engine, senders, timedelta(hours=8)) == 1
    assert len(receiver.requests) == 1


WORKER = textwrap.dedent("""
    import sys, time
    from datetime import datetime
    from webleads.db.engine import create_engine
    from webleads.outbox.channels import make_senders
    from webleads.outbox.ssrf import Guard
    from webleads.outbox.worker import deliver_due

    engine = create_engine(sys.argv[1])
    real = make_senders(guard=Guard(allow_private=True))["webhook"]

    def send_then_hang(message):
        result = real(message)
        print("SENT", result.outcome, flush=True)
        time.sleep(600)  # killed here: after the send, before recording it
        return result

    deliver_due(engine, now=datetime.fromisoformat(sys.argv[2]), worker_id="doomed",
                limit=10, senders={"webhook": send_then_hang})
""")


@pytest.mark.parametrize("moment", ["after_the_answer", "before_the_answer"])
def test_worker_killed_between_send_and_record(engine: Engine, senders: Senders,
                                               workspace: int, db_url: str, tmp_path: Path,
                                               moment: str) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    killed = threading.Event()
    with http_receiver() as receiver:
        message_id = put(engine, workspace, receiver.url)
        proc = subprocess.Popen([sys.executable, str(script), db_url, T0.isoformat()],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            if moment == "before_the_answer":
                def kill(_: object) -> None:
                    if not killed.is_set():
                        os.kill(proc.pid, signal.SIGKILL)
                        killed.set()
                receiver.on_request = kill
                proc.wait(60)
            else:
                line = proc.stdout.readline() if proc.stdout else ""
                assert line.strip() == "SENT delivered", (line, proc.stderr)
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()
        receiver.on_request = None
        assert proc.returncode == -signal.SIGKILL
        assert len(receiver.requests) == 1
        message = stored(engine, message_id)
        assert message.state == "sending" and message.claimed_by == "doomed"

        # Within the lease nobody touches it; after it, another worker sends it again
        # with the same event id, and the receiver counts one event.
        assert run(engine, senders, timedelta(minutes=4), worker="rescuer") == 0
        assert run(engine, senders, timedelta(minutes=5), worker="rescuer") == 1
        assert run(engine, senders, timedelta(days=2), worker="rescuer") == 0
    assert [r.event_id for r in receiver.requests] == [message.event_id] * 2
    assert receiver.requests[0].body == receiver.requests[1].body
    assert len(receiver.events) == 1
    message = stored(engine, message_id)
    assert message.state == "delivered"
    assert [(a.attempt, a.worker, a.outcome) for a in message.history] == [
        (1, "doomed", "lost"), (2, "rescuer", "delivered")]


def test_expired_lease_on_the_last_attempt_is_dead(engine: Engine, workspace: int) -> None:
    message_id = put(engine, workspace, "http://127.0.0.1:9/hook")
    policy = Policy(max_attempts=1, lease=timedelta(minutes=1))
    with engine.begin() as conn:
        assert len(db.claim(conn, now=T0, worker_id="doomed", limit=5,
                            lease_until=T0 + policy.lease, max_attempts=1)) == 1
    assert deliver_due(engine, now=T0 + timedelta(minutes=2), worker_id="w", limit=5,
                       senders={}, policy=policy) == 0
    message = stored(engine, message_id)
    assert message.state == "dead" and message.last_error == db.GAVE_UP
    assert [a.outcome for a in message.history] == ["lost"]


def test_a_late_worker_cannot_undo_a_delivery(engine: Engine, senders: Senders,
                                              workspace: int) -> None:
    """Worker A stalls past its lease, B delivers; A's late failure changes nothing."""
    with http_receiver() as receiver:
        message_id = put(engine, workspace, receiver.url)
        with engine.begin() as conn:
            [(late, late_attempt)] = db.claim(conn, now=T0, worker_id="A", limit=1,
                                              lease_until=T0 + POLICY.lease, max_attempts=8)
        assert run(engine, senders, POLICY.lease, worker="B") == 1

        def failing(message: Message) -> SendResult:
            return SendResult("retry", 503, None, "HTTP 503")

        deliver(engine, late, late_attempt, now=T0 + timedelta(minutes=6), worker_id="A",
                senders={"webhook": failing}, policy=POLICY, random=no_jitter)
        assert run(engine, senders, timedelta(days=1)) == 0
    message = stored(engine, message_id)
    assert message.state == "delivered" and len(receiver.requests) == 1
    assert [(a.worker, a.outcome) for a in message.history] == [
        ("A", "retry"), ("B", "delivered")]


def test_retry_brings_a_dead_message_back_with_the_same_id(
        engine: Engine, senders: Senders, workspace: int) -> None:
    with http_receiver(status=404) as receiver:
        message_id = put(engine, workspace, receiver.url)
        run(engine, senders)
        assert message_id is not None and stored(engine, message_id).state == "dead"
        receiver.status = 200
        with engine.begin() as conn:
            assert retry(conn, message_id, now=T0 + timedelta(hours=1))
            assert not retry(conn, message_id, now=T0 + timedelta(hours=1))  # not dead now
        assert run(engine, senders, timedelta(hours=1)) == 1
    message = stored(engine, message_id)
    assert message.state == "delivered"
    assert [a.outcome for a in message.history] == ["permanent", "delivered"]
    assert len({r.event_id for r in receiver.requests}) == 1


def test_unconfigured_channel_is_retried_with_a_reason(engine: Engine,
                                                       workspace: int) -> None:
    message_id = put(engine, workspace, "sales@acme.fr", channel="email")
    assert deliver_due(engine, now=T0, worker_id="w", limit=5, senders={}) == 1
    message = stored(engine, message_id)
    assert message.state == "pending"
    assert message.last_error is not None and "email channel is not configured" in (
        message.last_error)


def test_concurrent_workers_never_send_a_message_twice(engine: Engine, senders: Senders,
                                                       workspace: int) -> None:
    count = 80
    with http_receiver(delay=0.005) as receiver:
        for i in range(count):
            put(engine, workspace, receiver.url, key=f"event-{i}")
        errors: list[BaseException] = []

        def work(name: str) -> None:
            try:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    with engine.connect() as conn:
                        left = db.count_by_state(conn)
                    if set(left) == {"delivered"}:
                        return
                    deliver_due(engine, now=T0, worker_id=name, limit=7, senders=senders,
                                policy=POLICY)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(150)
    assert errors == []
    sent = Counter(r.event_id for r in receiver.requests)
    assert len(sent) == count and set(sent.values()) == {1}
    with engine.connect() as conn:
        assert db.count_by_state(conn) == {"delivered": count}
        workers = conn.execute(sa.text(
            "SELECT count(DISTINCT worker) FROM delivery_attempts")).scalar_one()
    assert workers >= 2  # the work was really shared


def test_skip_locked_lets_a_second_worker_take_other_messages(engine: Engine,
                                                              workspace: int) -> None:
    with engine.connect() as probe:
        if not is_postgres(probe):
            pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite claims one writer at a time")
    for i in range(10):
        put(engine, workspace, "http://127.0.0.1:9/hook", key=f"event-{i}")
    with engine.connect() as first, engine.connect() as second:
        with first.begin():
            mine = db.claim(first, now=T0, worker_id="A", limit=4,
                            lease_until=T0 + POLICY.lease, max_attempts=8)
            with second.begin():  # A has not committed: its rows stay locked
                second.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
                theirs = db.claim(second, now=T0, worker_id="B", limit=4,
                                  lease_until=T0 + POLICY.lease, max_attempts=8)
    ids_a = {m.id for m, _ in mine}
    ids_b = {m.id for m, _ in theirs}
    assert len(ids_a) == len(ids_b) == 4 and not ids_a & ids_b


def test_backoff_is_capped_and_jittered() -> None:
    policy = Policy(base=timedelta(seconds=30), cap=timedelta(hours=1), jitter=0.2)
    assert policy.backoff(1, lambda: 0.5) == timedelta(seconds=30)
    assert policy.backoff(3, lambda: 0.5) == timedelta(seconds=120)
    assert policy.backoff(30, lambda: 0.5) == timedelta(hours=1)
    assert policy.backoff(1, lambda: 0.0) == timedelta(seconds=24)
    assert policy.backoff(1, lambda: 0.999999) < timedelta(seconds=36)
    assert policy.backoff(1, lambda: 0.5, retry_after=90) == timedelta(seconds=90)
    assert policy.backoff(1, lambda: 0.5, retry_after=10**9) == timedelta(hours=1)
    with pytest.raises(ValueError):
        Policy(max_attempts=0)


def test_a_raising_sender_is_a_retried_attempt(engine: Engine, workspace: int) -> None:
    """A raising sender (a bug) is an attempt like any other, and others still go."""
    calls: list[int] = []

    def broken(message: Message) -> SendResult:
        calls.append(message.id)
        raise RuntimeError("boom")

    first = put(engine, workspace, "http://127.0.0.1:9/a", key="a")
    second = put(engine, workspace, "http://127.0.0.1:9/b", key="b")
    assert deliver_due(engine, now=T0, worker_id="w", limit=5,
                       senders={"webhook": broken}) == 2
    assert set(calls) == {first, second}
    for message_id in (first, second):
        message = stored(engine, message_id)
        assert message.state == "pending" and message.last_error == "RuntimeError: boom"


def test_background_worker_delivers_and_stops(engine: Engine, senders: Senders,
                                              workspace: int) -> None:
    policy = Policy(poll=timedelta(milliseconds=50), batch=5)
    worker = BackgroundWorker(engine, senders=senders, policy=policy,
                              clock=lambda: T0 + timedelta(seconds=1))
    with http_receiver() as receiver:
        worker.start()
        try:
            for i in range(12):  # more than a batch: full batches go on at once
                put(engine, workspace, receiver.url, key=f"event-{i}")
            deadline = time.monotonic() + 30
            while len(receiver.requests) < 12 and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            worker.stop(10)
    assert not worker._thread.is_alive()
    assert len({r.event_id for r in receiver.requests}) == len(receiver.requests) == 12
    with engine.connect() as conn:
        assert db.count_by_state(conn) == {"delivered": 12}

"""`webleads serve` runs the outbox's delivery worker in the background; tests and the
demo (``background=False``, the default) do not."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from webleads.app import create_app
from webleads.settings import Settings
from webleads.sites import NewSite


def test_serve_delivers_the_outbox_in_the_background(settings: Settings, engine: Engine,
                                                      site: NewSite) -> None:
    quiet = create_app(settings, engine=engine)
    quiet.start()
    try:
        assert quiet._outbox is None
    finally:
        quiet.stop()

    served = create_app(settings.model_copy(update={"outbox_poll_seconds": 0.05}),
                        engine=engine, background=True)
    served.start()
    try:
        worker = served._outbox
        assert worker is not None and worker._thread.is_alive()
    finally:
        served.stop()
    assert served._outbox is None and not worker._thread.is_alive()


def test_periodic_jobs_run_at_start_and_survive_a_failure() -> None:
    import threading
    from datetime import UTC, datetime

    from webleads.jobs import Job, PeriodicJobs

    ran = threading.Event()
    calls: list[str] = []

    def failing(now: datetime) -> None:
        calls.append("failing")
        raise RuntimeError("boom")

    def working(now: datetime) -> None:
        calls.append("working")
        ran.set()

    jobs = PeriodicJobs([Job("failing", 0.05, failing), Job("working", 0.05, working)],
                        clock=lambda: datetime(2026, 11, 22, tzinfo=UTC))
    jobs.start()
    try:
        assert ran.wait(5)
    finally:
        jobs.stop()
    assert calls[:2] == ["failing", "working"]
    assert jobs.runs["working"] >= 1 and jobs.runs["failing"] == 0


def test_serve_runs_the_digest_job(settings: Settings, engine: Engine, site: NewSite) -> None:
    served = create_app(settings, engine=engine, background=True)
    served.start()
    try:
        jobs = served._jobs
        assert jobs is not None
        import time

        deadline = time.monotonic() + 10
        while 0 in (jobs.runs["digests"], jobs.runs["purge"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert jobs.runs["digests"] == 1  # ran once at start, next in an hour
        assert jobs.runs["purge"] == 1
    finally:
        served.stop()
    assert served._jobs is None

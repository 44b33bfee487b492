"""Periodic jobs of ``webleads serve`` (one daemon thread): today, the daily digests.

Each job runs at start and then every ``interval``; a failing run is logged and retried
at the next tick, it never stops the server.  Jobs are idempotent (a digest is enqueued
once per recipient and day), so several server processes may run them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

log = logging.getLogger("webleads.jobs")


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    interval: float  # seconds
    run: Callable[[datetime], object]


class PeriodicJobs:
    def __init__(self, jobs: Sequence[Job], *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._jobs = tuple(jobs)
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="webleads-jobs", daemon=True)
        self.runs: dict[str, int] = {job.name: 0 for job in jobs}

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        due = {job.name: 0.0 for job in self._jobs}
        elapsed = 0.0
        tick = min((job.interval for job in self._jobs), default=60.0)
        while not self._stop.is_set():
            for job in self._jobs:
                if elapsed >= due[job.name]:
                    try:
                        job.run(self._clock())
                        self.runs[job.name] += 1
                    except Exception:  # logged; the next tick tries again
                        log.exception("job %s failed", job.name)
                    due[job.name] = elapsed + job.interval
            if self._stop.wait(tick):
                return
            elapsed += tick

"""Counters of the server, rendered in the Prometheus text format at /metrics.

Each process counts its own requests (``Metrics``).  With several server processes
(``webleads serve --workers N``) each one also publishes its counters to a directory
that ``serve`` makes for them (``SharedMetrics``, ``WEBLEADS_METRICS_DIR``), every
second and when asked for /metrics, so that whichever process answers a scrape gives
the totals of all of them: counters add up (a process that died keeps its last
counts, so totals never go down), the writer's queue depth adds up over the live
processes, and the hit queue's gauges (one database) are the freshest reading.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

log = logging.getLogger("webleads.metrics")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.hits_accepted = 0
        self.hits_dropped: Counter[str] = Counter()
        self.requests_rejected: Counter[str] = Counter()
        self.quarantined = 0
        self.quarantine_lost = 0
        self.overloaded = 0
        self.commit_errors = 0
        self.queue_depth = 0
        self.queue_backlog = 0
        self.queue_oldest_seconds = 0.0
        self._commit_buckets = [0] * len(LATENCY_BUCKETS)
        self._commit_count = 0
        self._commit_sum = 0.0
        self.commit_hits = 0
        self.processes = 1  # server processes counted here (SharedMetrics)

    _COUNTS = ("hits_accepted", "quarantined", "quarantine_lost", "overloaded",
               "commit_errors", "commit_hits", "_commit_count", "_commit_sum")

    def snapshot(self) -> dict[str, Any]:
        """Every value, as JSON-ready data (what ``SharedMetrics`` publishes)."""
        with self._lock:
            return {**{name: getattr(self, name) for name in self._COUNTS},
                    "hits_dropped": dict(self.hits_dropped),
                    "requests_rejected": dict(self.requests_rejected),
                    "commit_buckets": list(self._commit_buckets),
                    "queue_depth": self.queue_depth, "queue_backlog": self.queue_backlog,
                    "queue_oldest_seconds": self.queue_oldest_seconds}

    @classmethod
    def merged(cls, snapshots: list[tuple[dict[str, Any], bool]]) -> Metrics:
        """The metrics of several processes: ``(snapshot, alive)`` pairs.  Counters
        add up; the writer's queue depth adds up over the live processes; the hit
        queue's gauges are the live processes' largest reading."""
        total = cls()
        total.processes = sum(alive for _, alive in snapshots)
        for snap, alive in snapshots:
            for name in cls._COUNTS:
                setattr(total, name, getattr(total, name) + snap.get(name, 0))
            total.hits_dropped.update(snap.get("hits_dropped", {}))
            total.requests_rejected.update(snap.get("requests_rejected", {}))
            buckets = snap.get("commit_buckets", [])
            if len(buckets) == len(total._commit_buckets):
                total._commit_buckets = [a + b for a, b in zip(total._commit_buckets, buckets,
                                                               strict=True)]
            if alive:
                total.queue_depth += snap.get("queue_depth", 0)
                total.queue_backlog = max(total.queue_backlog, snap.get("queue_backlog", 0))
                total.queue_oldest_seconds = max(total.queue_oldest_seconds,
                                                 snap.get("queue_oldest_seconds", 0.0))
        return total

    def observe_commit(self, seconds: float, n_hits: int) -> None:
        with self._lock:
            self._commit_count += 1
            self._commit_sum += seconds
            self.commit_hits += n_hits
            for i, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    self._commit_buckets[i] += 1

    def render(self) -> str:
        lines = [
            "# HELP webleads_hits_accepted_total Hits durably stored.",
            "# TYPE webleads_hits_accepted_total counter",
            f"webleads_hits_accepted_total {self.hits_accepted}",
            "# HELP webleads_hits_dropped_total Valid hits not stored, by reason.",
            "# TYPE webleads_hits_dropped_total counter",
        ]
        lines += [f'webleads_hits_dropped_total{{reason="{r}"}} {n}'
                  for r, n in sorted(self.hits_dropped.items())]
        lines += [
            "# HELP webleads_requests_rejected_total Collect requests answered 4xx, by reason.",
            "# TYPE webleads_requests_rejected_total counter",
        ]
        lines += [f'webleads_requests_rejected_total{{reason="{r}"}} {n}'
                  for r, n in sorted(self.requests_rejected.items())]
        lines += [
            "# HELP webleads_quarantined_total Rejected payloads kept in quarantine.",
            "# TYPE webleads_quarantined_total counter",
            f"webleads_quarantined_total {self.quarantined}",
            "# HELP webleads_quarantine_lost_total Rejected payloads not kept (writer full).",
            "# TYPE webleads_quarantine_lost_total counter",
            f"webleads_quarantine_lost_total {self.quarantine_lost}",
            "# HELP webleads_overloaded_total Collect requests answered 503 (writer full).",
            "# TYPE webleads_overloaded_total counter",
            f"webleads_overloaded_total {self.overloaded}",
            "# HELP webleads_commit_errors_total Failed writer transactions.",
            "# TYPE webleads_commit_errors_total counter",
            f"webleads_commit_errors_total {self.commit_errors}",
            "# HELP webleads_writer_queue_depth Hits waiting for the writer.",
            "# TYPE webleads_writer_queue_depth gauge",
            f"webleads_writer_queue_depth {self.queue_depth}",
            "# HELP webleads_hit_queue_backlog Acknowledged hits waiting for the processor "
            "(WEBLEADS_PROCESSOR=separate), at the writer's last look.",
            "# TYPE webleads_hit_queue_backlog gauge",
            f"webleads_hit_queue_backlog {self.queue_backlog}",
            "# HELP webleads_hit_queue_oldest_seconds Age of the oldest row of the hit "
            "queue at the writer's last look (0: empty).",
            "# TYPE webleads_hit_queue_oldest_seconds gauge",
            f"webleads_hit_queue_oldest_seconds {self.queue_oldest_seconds:.3f}",
            "# HELP webleads_server_processes Server processes these figures add up.",
            "# TYPE webleads_server_processes gauge",
            f"webleads_server_processes {self.processes}",
            "# HELP webleads_commit_seconds Writer transaction latency.",
            "# TYPE webleads_commit_seconds histogram",
        ]
        with self._lock:
            for bound, n in zip(LATENCY_BUCKETS, self._commit_buckets, strict=True):
                lines.append(f'webleads_commit_seconds_bucket{{le="{bound}"}} {n}')
            lines.append(f'webleads_commit_seconds_bucket{{le="+Inf"}} {self._commit_count}')
            lines.append(f"webleads_commit_seconds_sum {self._commit_sum:.6f}")
            lines.append(f"webleads_commit_seconds_count {self._commit_count}")
        return "\n".join(lines) + "\n"


class SharedMetrics:
    """One server process's view of the counters of all of them (``--workers N``):
    it publishes its own to ``directory/PID.json`` (every ``every`` seconds from a
    thread, at stop, and before each reading) and reads everyone's."""

    def __init__(self, directory: str | Path, own: Metrics, *, every: float = 1.0,
                 pid: int | None = None) -> None:
        self.directory = Path(directory)
        self.own = own
        self._every = every
        self._pid = pid or os.getpid()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="webleads-metrics",
                                        daemon=True)

    def start(self) -> None:
        self.publish()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.publish()

    def publish(self) -> None:
        path = self.directory / f"{self._pid}.json"
        tmp = self.directory / f".{self._pid}.tmp"
        try:
            tmp.write_text(json.dumps(self.own.snapshot()))
            os.replace(tmp, path)  # readers never see half a file
        except OSError as exc:  # the directory went away: this process's figures only
            log.warning("could not publish the metrics to %s: %s", self.directory, exc)

    def merged(self) -> Metrics:
        """Everyone's figures, this process's freshly published."""
        self.publish()
        snapshots: list[tuple[dict[str, Any], bool]] = []
        try:
            files = sorted(self.directory.glob("*.json"))
        except OSError:
            files = []
        for file in files:
            try:
                pid = int(file.stem)
                data = json.loads(file.read_text())
            except (OSError, ValueError):
                continue  # not ours, or removed meanwhile
            if isinstance(data, dict):
                snapshots.append((data, pid == self._pid or _alive(pid)))
        if not any(pid_alive for _, pid_alive in snapshots):
            return self.own
        return Metrics.merged(snapshots)

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            self.publish()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

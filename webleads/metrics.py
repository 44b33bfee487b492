"""Process-local counters, rendered in the Prometheus text format at /metrics.

With several server processes (``--workers``) each process counts its own requests;
a scraper sees the process that answered.  Totals that must add up across processes
live in the database (``drops``, ``quarantine``, ``hits``).
"""

from __future__ import annotations

import threading
from collections import Counter

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

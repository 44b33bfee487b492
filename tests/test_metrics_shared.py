"""/metrics with several server processes: each publishes its counters, any of them
renders the totals (webleads/metrics.py).  The whole path with ``serve --workers 2``
is in tests/test_serve_workers.py; here the arithmetic and the files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from webleads.metrics import Metrics, SharedMetrics


def series(text: str) -> dict[str, float]:
    return {name: float(value) for name, _, value in
            (line.partition(" ") for line in text.splitlines()) if not name.startswith("#")}


def busy(accepted: int, dropped: int, depth: int, backlog: int, latency: float) -> Metrics:
    m = Metrics()
    m.hits_accepted = accepted
    m.hits_dropped["bot"] = dropped
    m.requests_rejected["unknown_site"] = 1
    m.queue_depth = depth
    m.queue_backlog = backlog
    m.observe_commit(latency, accepted)
    return m


def a_dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_counters_add_up_and_gauges_come_from_live_processes(tmp_path: Path) -> None:
    one = SharedMetrics(tmp_path, busy(10, 2, 3, 100, 0.002), pid=1_000_001)
    two = SharedMetrics(tmp_path, busy(5, 1, 4, 120, 0.2))  # this process: alive
    gone = a_dead_pid()
    SharedMetrics(tmp_path, busy(7, 0, 50, 9_999, 3.0), pid=gone).publish()
    (tmp_path / "notes.txt").write_text("not a snapshot")
    (tmp_path / "123.json").write_text("{half a fi")  # a torn file is skipped
    one.publish()
    figures = series(two.merged().render())
    # The dead process's counters stay in the totals; its gauges do not.
    assert figures["webleads_hits_accepted_total"] == 22
    assert figures['webleads_hits_dropped_total{reason="bot"}'] == 3
    assert figures['webleads_requests_rejected_total{reason="unknown_site"}'] == 3
    assert figures["webleads_commit_seconds_count"] == 3
    assert figures['webleads_commit_seconds_bucket{le="0.0025"}'] == 1
    assert figures['webleads_commit_seconds_bucket{le="+Inf"}'] == 3
    assert figures["webleads_writer_queue_depth"] == 4 + (3 if _alive(1_000_001) else 0)
    assert figures["webleads_hit_queue_backlog"] == 120  # the live processes' largest
    assert figures["webleads_server_processes"] == 1 + _alive(1_000_001)


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def test_a_process_publishes_every_second_and_at_stop(tmp_path: Path) -> None:
    own = Metrics()
    shared = SharedMetrics(tmp_path, own, every=0.05)
    shared.start()
    try:
        own.hits_accepted = 41
        path = tmp_path / f"{Path('/proc/self').resolve().name}.json"
        for _ in range(100):
            if path.exists() and json.loads(path.read_text())["hits_accepted"] == 41:
                break
            import time

            time.sleep(0.02)
        assert json.loads(path.read_text())["hits_accepted"] == 41
        own.hits_accepted = 42
    finally:
        shared.stop()
    assert json.loads(path.read_text())["hits_accepted"] == 42


def test_without_the_directory_a_process_still_answers_with_its_own(tmp_path: Path) -> None:
    own = busy(3, 0, 1, 0, 0.01)
    shared = SharedMetrics(tmp_path / "removed", own)
    figures = series(shared.merged().render())
    assert figures["webleads_hits_accepted_total"] == 3
    assert figures["webleads_server_processes"] == 1

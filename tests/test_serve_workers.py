"""``webleads serve --workers 2``: several server processes share one database and
one processor, on SQLite and PostgreSQL.

What a user with more cores than one runs: the real CLI starts the server, whose
uvicorn supervisor spawns two worker processes; ``serve`` itself starts one processor
child (WEBLEADS_PROCESSOR=separate, the default).  Concurrent clients post hits
carrying unique tokens over many connections, so both workers answer; every
acknowledged token must be stored once, by the single processor, and /metrics must
add up both workers' counters whichever answers.  A site created
while the server runs must be accepted at once by every worker.  SIGTERM must stop
the supervisor, both workers and the processor, with exit status 0.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.test_crash import (  # servers: the fixture, with this module's env
    CHROME,
    Servers,
    add_site,
    processors_of,
    servers,  # noqa: F401, F811
    stored_tokens,
    wait_gone,
    wait_ready,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

THREADS = 6
REQUESTS = 40  # per thread, each with its own connection pool


@pytest.fixture
def env(db_url: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WEBLEADS_")}
    return {**clean, "WEBLEADS_DATABASE_URL": db_url, "WEBLEADS_SECRET_KEY": "workers-secret",
            "WEBLEADS_LOG_LEVEL": "warning", "WEBLEADS_LANG": "en",
            "WEBLEADS_PROCESSOR": "separate"}



def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def worker_processes(pid: int) -> list[int]:
    """uvicorn's worker processes under the supervisor ``pid`` (multiprocessing spawn)."""
    out = []
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            out.append(child)
    return out


def post(base: str, key: str, tokens: list[str], visitor: str) -> httpx.Response:
    body = json.dumps([{"site": key, "type": "pageview", "visitor": visitor,
                        "url": f"https://example.com/p?tok={t}"} for t in tokens])
    return httpx.post(f"{base}/api/collect", content=body, timeout=15,
                      headers={"content-type": "text/plain", "user-agent": CHROME})


def metric_values(base: str) -> dict[str, float]:
    """The unlabelled series of /metrics, from whichever worker takes a new connection."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return {name: float(value) for name, _, value in
            (line.partition(" ") for line in text.splitlines())
            if name.startswith("webleads_") and "{" not in name}


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().partition("=")[::2] for item in raw if b"=" in item)


def wait_stored(db_url: str, key: str, expected: set[str], timeout: float = 30
                ) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        stored = stored_tokens(db_url, key)
        if set(stored) >= expected or time.monotonic() > deadline:
            return stored
        time.sleep(0.2)


def test_two_workers_share_one_processor(servers: Servers,  # noqa: F811 - the fixture
                                         env: dict[str, str],
                                         db_url: str) -> None:
    key = add_site(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = servers.start(port, "--workers", "2")
    wait_ready(proc, base, servers)
    deadline = time.monotonic() + 30
    while len(worker_processes(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = worker_processes(proc.pid)
    assert len(workers) == 2, f"expected 2 workers, found {workers}:\n{servers.log()}"
    processors = processors_of(proc.pid)
    assert len(processors) == 1, f"one processor for all workers, found {processors}"

    acked: set[str] = set()
    answers: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()

    def client(n: int) -> None:
        for seq in range(REQUESTS):
            tokens = [f"t{n}s{seq}h{i}" for i in range(1 + seq % 3)]
            # A new connection per request: uvicorn's workers share the listening
            # socket, so the kernel hands connections to both of them.
            r = post(base, key, tokens, f"workers-visitor-{n}")
            with lock:
                answers[r.status_code] += 1
                if r.status_code == 202:
                    assert r.json() == {"accepted": len(tokens), "dropped": 0}
                    acked.update(tokens)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == {202: THREADS * REQUESTS}
    # Both workers did work, and /metrics adds them up whichever answers: each one
    # publishes its counters to the directory serve made (every second).
    shared = Path(environ(workers[0])["WEBLEADS_METRICS_DIR"])
    assert environ(workers[1])["WEBLEADS_METRICS_DIR"] == str(shared)
    time.sleep(1.2)
    per_worker = {int(f.stem): json.loads(f.read_text())["hits_accepted"]
                  for f in shared.glob("*.json")}
    assert sorted(per_worker) == sorted(workers), per_worker
    assert 0 not in per_worker.values() and sum(per_worker.values()) == len(acked)
    for _ in range(10):  # new connections: either worker answers
        figures = metric_values(base)
        assert figures["webleads_hits_accepted_total"] == len(acked), figures
        assert figures["webleads_server_processes"] == 2
    stored = wait_stored(db_url, key, acked)
    assert set(stored) == acked
    assert len(stored) == len(acked), "a hit was stored twice"

    # A site created while the server runs is accepted at once by every worker: post
    # enough new connections that each worker answers some.
    other = add_site(env)
    late = {f"late{i}" for i in range(12)}
    for token in sorted(late):
        r = post(base, other, [token], "late-visitor")
        assert r.status_code == 202, r.text
    assert set(wait_stored(db_url, other, late)) == late

    # SIGTERM: the supervisor stops its workers and the processor, and exits with 0.
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0, servers.log()
    assert wait_gone([*workers, *processors]) == [], servers.log()
    assert not shared.exists()  # the counters' directory goes with the server

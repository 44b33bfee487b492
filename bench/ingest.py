"""Ingest benchmark: POST /api/collect end to end against a bare ASGI endpoint.

    .venv/bin/python bench/ingest.py [--seconds N] [--engine sqlite|postgres|both]

For each database it starts one uvicorn worker (uvloop, httptools, pinned to core
0) serving the real ``WebleadsApp`` behind a tiny wrapper that also answers
``POST /bare`` (read the body, 204) and ``POST /nostore`` (the real collect handler
with a writer that stores nothing).  wrk (pinned to core 1) loads it with varied,
realistic hits (bench/collect.lua):

- ``bare``, ``nostore`` and ``single`` (one hit per POST; the same requests to the
  three paths), interleaved in 1 s loads so that they share the machine's mood;
- ``batch``: arrays of 100 hits of one visitor per POST to /api/collect.

ratio = single req/s / bare req/s of the same server in the same run; ratio_cpu
is the same comparison made with server CPU per request (steadier on a busy
machine).  After every storing phase the hits are counted in the database and
must be at least the 2xx answers times the hits per request.  The last line
printed is a JSON object.  See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LUA = HERE / "collect.lua"
SITE_DOMAIN = "bench-shop.example"
ORIGIN = f"https://www.{SITE_DOMAIN}"
VISITORS = 20_000
BATCH = 100
TICK = os.sysconf("SC_CLK_TCK")

# Realistic browsers only: bots and automation are dropped by the pipeline (and a
# benchmark of drops measures nothing).  Checked against the bot filter at start.
USER_AGENTS = [
    # Chrome, Windows / macOS / Linux / ChromeOS
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",  # noqa: E501
    # Edge
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",  # noqa: E501
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",  # noqa: E501
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36 Edg/128.0.0.0",  # noqa: E501
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",  # noqa: E501
    # Firefox
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    # Safari, macOS
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",  # noqa: E501
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",  # noqa: E501
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Safari/605.1.15",  # noqa: E501
    # iPhone / iPad
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",  # noqa: E501
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",  # noqa: E501
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7_10 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",  # noqa: E501
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",  # noqa: E501
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",  # noqa: E501
    "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",  # noqa: E501
    # Android phones and tablets
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.107 Mobile Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Linux; Android 14; 23078PND5G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.6668.100 Mobile Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",  # noqa: E501
    # Opera, Vivaldi, Yandex, older Windows and Firefox ESR, recent macOS Safari, Edge on Linux
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",  # noqa: E501
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/114.0.0.0",  # noqa: E501
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Vivaldi/7.0.3495.18",  # noqa: E501
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 YaBrowser/24.10.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",  # noqa: E501
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",  # noqa: E501
]


# --------------------------------------------------------------------------- server side


def serve(port: int) -> None:
    """The server process: the real app, plus two diagnostic endpoints on the same loop.

    POST /bare     a bare ASGI callable: read the body, answer 204 (the HTTP ceiling);
    POST /nostore  the real collect handler and ``Ingest`` (decode, checks, enrichment,
                   same sites and pipeline objects) with a writer that acknowledges at
                   once and stores nothing: collect minus storage.
    Anything else goes to the real ``WebleadsApp``.
    """
    import asyncio

    import uvicorn

    from webleads.app import create_app
    from webleads.collect.endpoint import make_collect
    from webleads.ingest import Ingest
    from webleads.metrics import Metrics
    from webleads.settings import load_settings

    settings = load_settings()
    app = create_app(settings)

    class NullWriter:
        pending = 0

        def submit(self, hits: Any, drops: Any = None, quarantine: Any = None, *,
                   wait: bool = True) -> asyncio.Future[None]:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done

    nostore = make_collect(Ingest(
        sites=app.sites, pipeline=app.pipeline, writer=NullWriter(),  # type: ignore[arg-type]
        metrics=Metrics(), trusted_proxies=settings.trusted_networks,
        quarantine_max_payload=settings.quarantine_max_payload), settings.collect_max_body)

    async def bench_app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path == "/bare":
                more = True
                while more:
                    message = await receive()
                    if message["type"] != "http.request":
                        return
                    more = message.get("more_body", False)
                await send({"type": "http.response.start", "status": 204, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            if path == "/nostore":
                await nostore(scope, receive, send)
                return
        await app(scope, receive, send)

    from webleads import gc_tuning

    gc_tuning.settle()  # as `webleads serve` does once started
    uvicorn.run(bench_app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                access_log=False, proxy_headers=False, log_level="warning", lifespan="on",
                timeout_graceful_shutdown=5)


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pinning() -> tuple[list[str], list[str]]:
    """taskset prefixes for the server (core 0) and wrk (core 1), when possible."""
    if shutil.which("taskset") and len(os.sched_getaffinity(0)) >= 2:
        cores = sorted(os.sched_getaffinity(0))
        return ["taskset", "-c", str(cores[0])], ["taskset", "-c", str(cores[1])]
    return [], []


def proc_ticks(pid: int) -> int:
    """utime + stime of a process (all its threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main_thread_ticks(pid: int) -> int:
    """utime + stime of a process's main thread (the event loop): the rest of
    ``proc_ticks`` is its other threads (the writer)."""
    try:
        return proc_ticks_path(f"/proc/{pid}/task/{pid}/stat")
    except OSError:
        return 0


def proc_ticks_path(path: str) -> int:
    with open(path) as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def tree_ticks(root: int) -> int:
    """utime + stime of ``root`` and its direct children (PostgreSQL's backends)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == root or int(fields[1]) == root:
            total += int(fields[11]) + int(fields[12])
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - 127.0.0.1
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def metrics(base: str) -> dict[str, float]:
    """The writer's counters from /metrics."""
    _, body = http_get(base + "/metrics")
    out: dict[str, float] = {}
    for line in body.decode().splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name, value = line.rsplit(" ", 1)
        out[name] = float(value)
    return out


def fmt_int(value: float) -> str:
    return f"{value:,.0f}"


# --------------------------------------------------------------------------- data


@dataclass
class Result:
    label: str
    mode: str
    requests: int
    seconds: float
    ok: int
    statuses: dict[str, int]
    errors: dict[str, int]
    p50_ms: float
    p99_ms: float
    server_us_per_req: float
    pg_us_per_req: float
    server_cores: float
    wrk_cores: float
    pg_cores: float
    other_cores: float
    hits_per_request: int = 1
    slices: int = 1
    slice_rates: list[int] = field(default_factory=list)
    stored: int | None = None
    dropped: int | None = None
    rejected: int | None = None
    commits: float | None = None
    commit_hits: float | None = None
    commit_seconds: float | None = None
    verified: bool = True
    notes: list[str] = field(default_factory=list)
    # separate processor: seconds the queue took to empty after the loads, and the
    # processor process's CPU per hit stored
    drain_seconds: float = 0.0
    processor_us_per_hit: float = 0.0
    processor_cores: float = 0.0  # during the load
    main_thread_share: float = 0.0  # of the server's CPU, in its event-loop thread

    @property
    def processed_per_s(self) -> float:
        """Hits stored per second of load plus the time the queue took to empty: what
        the whole pipeline sustains (the intake alone is ``hits_per_s``)."""
        if not self.stored:
            return 0.0
        return self.stored / (self.seconds + self.drain_seconds)

    @property
    def req_per_s(self) -> float:
        return self.ok / self.seconds

    @property
    def hits_per_s(self) -> float:
        return self.ok * self.hits_per_request / self.seconds


class Server:
    """One uvicorn worker with the bench wrapper, for one database."""

    def __init__(self, env: dict[str, str], workdir: Path, pin: list[str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"server-{self.port}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*pin, sys.executable, str(Path(__file__).resolve()), "--serve", str(self.port)],
            env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the server exited ({self.proc.returncode}):\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                status, _ = http_get(self.base + "/readyz", timeout=2)
                if status == 200:
                    break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not become ready:\n{self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until the writer has no queued hit (every accepted hit committed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                _, body = http_get(self.base + "/readyz", timeout=2)
                if json.loads(body).get("writer_queue", 1) == 0:
                    time.sleep(0.05)
                    return
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.pin_server, self.pin_wrk = pinning()
        self.ua_file = workdir / "user-agents.txt"
        self.ua_file.write_text("\n".join(USER_AGENTS) + "\n")
        self.ranges = workdir / "ranges.csv"
        write_ranges(self.ranges)
        self.seed = int(time.time()) % 1_000_000
        self.processor: subprocess.Popen[bytes] | None = None

    # ---------------------------------------------------------------- one load

    def wrk(self, server: Server, mode: str, seconds: int) -> dict[str, Any]:
        self.seed += 1
        cmd = [
            "timeout", "-k", "5", str(int(seconds) + 20), *self.pin_wrk, "wrk",
            "-t1", f"-c{self.args.connections}", f"-d{seconds}s", "--timeout", "10s",
            "-s", str(LUA), server.base + "/",
            "--", mode, ORIGIN, self.site_key, str(self.ua_file), str(BATCH), str(self.seed),
            str(VISITORS),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 40)
        line = next((ln for ln in reversed(proc.stdout.splitlines())
                     if ln.startswith("WRKJSON ")), None)
        if line is None:
            raise RuntimeError(f"wrk failed (exit {proc.returncode}):\n{proc.stdout}\n"
                               f"{proc.stderr}")
        data: dict[str, Any] = json.loads(line[len("WRKJSON "):])
        return data

    def snapshot(self, server: Server, pg_pid: int | None) -> tuple[float, ...]:
        busy, total = machine_busy()
        worker = self.processor.pid if self.processor is not None else None
        return (proc_ticks(server.proc.pid), tree_ticks(pg_pid) if pg_pid else 0,
                children_cpu(), busy, total, proc_ticks(worker) if worker else 0,
                main_thread_ticks(server.proc.pid))

    def wait_processed(self, timeout: float = 600.0) -> float:
        """Seconds until the hit queue is empty (separate processor; 0 when inline)."""
        import sqlalchemy as sa

        started = time.monotonic()
        while time.monotonic() - started < timeout:
            with self.queue.connect() as conn:  # SQLite: the FILE-queue beside the database
                if not conn.execute(sa.text("SELECT count(*) FROM hit_queue")).scalar_one():
                    return time.monotonic() - started
            time.sleep(0.02)
        raise RuntimeError(f"the hit queue did not empty in {timeout:.0f} s")

    def phase(self, label: str, server: Server, modes: list[str], rounds: int, seconds: int,
              pg_pid: int | None) -> list[Result]:
        """``rounds`` rounds of one ``seconds`` load per mode, the order alternating
        (A B B A ...), so that the modes share whatever else the machine does."""
        acc: dict[str, dict[str, Any]] = {m: {"requests": 0, "ok": 0, "seconds": 0.0,
                                              "statuses": Counter(), "errors": Counter(),
                                              "p50": 0.0, "p99": 0.0, "server": 0, "pg": 0,
                                              "wrk": 0.0, "busy": 0, "wall": 0.0,
                                              "rates": [], "drain": 0.0, "proc": 0,
                                              "proc_load": 0, "main": 0}
                                          for m in modes}
        ncores = len(os.sched_getaffinity(0)) or 1
        server.drain()
        self.wait_processed()
        hits_before = self.count()
        m0 = metrics(server.base)
        for i in range(rounds):
            for mode in (modes if i % 2 == 0 else modes[::-1]):
                a = acc[mode]
                before = self.snapshot(server, pg_pid)
                spy = self.profile(server, label, mode, seconds, i)
                data = self.wrk(server, mode, seconds)
                if spy is not None:
                    spy.wait(30)
                if mode in ("single", "batch"):
                    server.drain()  # the writer's work for this load counts for this load
                    mid = self.snapshot(server, pg_pid)
                    # separate: what the load queued is stored by the processor; the
                    # time that takes after the load counts for the sustained rate
                    a["drain"] += self.wait_processed()
                    end = self.snapshot(server, pg_pid)
                    a["proc"] += end[5] - before[5]
                    a["proc_load"] += mid[5] - before[5]
                    after = mid
                else:
                    after = self.snapshot(server, pg_pid)
                statuses = Counter({str(k): int(v) for k, v in data["statuses"].items()})
                ok = sum(n for st, n in statuses.items() if st.startswith("2"))
                a["requests"] += data["requests"]
                a["ok"] += ok
                a["rates"].append(ok / max(data["duration_us"] / 1e6, 1e-9))
                a["seconds"] += data["duration_us"] / 1e6
                a["statuses"] += statuses
                a["errors"] += Counter({k: v for k, v in data["errors"].items() if v})
                a["p50"] += data["p50_us"] / 1000 * data["requests"]
                a["p99"] += data["p99_us"] / 1000 * data["requests"]
                a["server"] += after[0] - before[0]
                a["main"] += after[6] - before[6]
                a["pg"] += after[1] - before[1]
                a["wrk"] += after[2] - before[2]
                a["busy"] += after[3] - before[3]
                a["wall"] += (after[4] - before[4]) / ncores
        server.drain()
        self.wait_processed()
        m1 = metrics(server.base)
        hits_after = self.count()
        results = []
        for mode in modes:
            a = acc[mode]
            n = max(a["requests"], 1)
            wall = a["wall"] or 1
            server_cores, pg_cores = a["server"] / wall, a["pg"] / wall
            proc_cores = a["proc_load"] / wall  # the processor, during the load
            wrk_cores = a["wrk"] * TICK / wall
            result = Result(
                label=label, mode=mode, requests=a["requests"], seconds=a["seconds"],
                ok=a["ok"], statuses=dict(a["statuses"]), errors=dict(a["errors"]),
                p50_ms=a["p50"] / n, p99_ms=a["p99"] / n,
                server_us_per_req=a["server"] / TICK * 1e6 / n,
                pg_us_per_req=a["pg"] / TICK * 1e6 / n,
                server_cores=server_cores, wrk_cores=wrk_cores, pg_cores=pg_cores,
                other_cores=max(a["busy"] / wall - server_cores - wrk_cores - pg_cores
                                - proc_cores, 0.0), processor_cores=proc_cores,
                main_thread_share=a["main"] / a["server"] if a["server"] else 0.0,
                hits_per_request=BATCH if mode == "batch" else 1, slices=rounds,
                slice_rates=[round(r) for r in a["rates"]], drain_seconds=a["drain"],
            )
            if mode in ("single", "batch"):  # one storing mode per phase: the delta is its own
                result.stored = hits_after[0] - hits_before[0]
                result.dropped = hits_after[1] - hits_before[1]
                result.rejected = hits_after[2] - hits_before[2]
                result.commits = (m1["webleads_commit_seconds_count"]
                                  - m0["webleads_commit_seconds_count"])
                result.commit_seconds = (m1["webleads_commit_seconds_sum"]
                                         - m0["webleads_commit_seconds_sum"])
                result.commit_hits = (m1["webleads_hits_accepted_total"]
                                      - m0["webleads_hits_accepted_total"])
                if result.stored > 0:
                    # The work of a load includes the requests still in flight when wrk
                    # stopped (up to --connections of them, processed and stored but
                    # never acknowledged): charge the CPU to the requests processed.
                    processed = result.stored / result.hits_per_request
                    result.server_us_per_req = a["server"] / TICK * 1e6 / processed
                    result.pg_us_per_req = a["pg"] / TICK * 1e6 / processed
                    result.processor_us_per_hit = a["proc"] / TICK * 1e6 / result.stored
                expected = result.ok * result.hits_per_request
                if result.stored < expected:
                    result.verified = False
                    result.notes.append(f"STORED {result.stored} < {expected} acknowledged")
                if result.dropped or result.rejected:
                    result.notes.append(f"dropped {result.dropped}, rejected {result.rejected}")
            if result.ok == 0:
                result.verified = False
            if result.ok != result.requests or result.errors:
                result.notes.append(f"non-2xx answers or socket errors: statuses "
                                    f"{result.statuses}, errors {result.errors}")
            self.report(result)
            results.append(result)
        return results

    def profile(self, server: Server, label: str, mode: str, seconds: int, index: int
                ) -> subprocess.Popen[bytes] | None:
        """py-spy on the server during a collect load (--profile DIR): collapsed stacks,
        one file per load (concatenate them: the format adds up)."""
        if not self.args.profile or mode not in ("single", "batch"):
            return None
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        out = Path(self.args.profile) / f"{label}-{mode}-{index}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        return subprocess.Popen(
            [spy, "record", "-p", str(server.proc.pid), "-d", str(seconds),
             "-r", "250", "--nonblocking", "--threads", "-f", "raw", "-o", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def report(self, r: Result) -> None:
        rate = (f"{fmt_int(r.req_per_s):>7} req/s" if r.mode != "batch" else
                f"{fmt_int(r.req_per_s):>7} req/s = {fmt_int(r.hits_per_s)} hits/s")
        line = (f"  {r.label:<13} {r.mode:<7} {rate}  p50 {r.p50_ms:6.2f} ms"
                f"  p99 {r.p99_ms:6.2f} ms"
                f"  2xx {fmt_int(r.ok)}  server {r.server_us_per_req:5.1f} us/req"
                f" ({r.server_cores:.2f} core)  wrk {r.wrk_cores:.2f}")
        if r.pg_cores:
            line += f"  postgres {r.pg_cores:.2f} ({r.pg_us_per_req:.0f} us/req)"
        if r.processor_cores:
            line += f"  processor {r.processor_cores:.2f}"
        if r.mode in ("single", "batch"):
            line += f"  (server CPU {r.main_thread_share:.0%} in the event loop)"
        line += f"  other {r.other_cores:.2f}"
        print(line, flush=True)
        if r.stored is not None:
            commits = r.commits or 0
            per = (r.commit_hits or 0) / commits if commits else 0
            mean_ms = (r.commit_seconds or 0) / commits * 1000 if commits else 0
            check = "OK" if r.verified else "FAILED"
            print(f"  {'':<13} {'':<7} stored {fmt_int(r.stored)} hits for "
                  f"{fmt_int(r.ok * r.hits_per_request)} acknowledged: {check};"
                  f" {fmt_int(commits)} commits, {per:.0f} hits/commit, "
                  f"{mean_ms:.2f} ms/commit", flush=True)
        if r.stored and self.processor is not None:
            print(f"  {'':<13} {'':<7} processor: {r.processor_us_per_hit:.1f} us/hit on its "
                  f"core; queue empty {r.drain_seconds:.2f} s after the loads; sustained "
                  f"{fmt_int(r.processed_per_s)} hits/s stored", flush=True)
        if len(r.slice_rates) > 1:
            print(f"  {'':<13} {'':<7} req/s of its {r.slices} x {r.seconds / r.slices:.0f} s "
                  f"loads: {' '.join(fmt_int(x) for x in r.slice_rates)}", flush=True)
        for note in r.notes:
            print(f"  {'':<13} {'':<7} ! {note}", flush=True)

    # ---------------------------------------------------------------- one engine

    def count(self) -> tuple[int, int, int]:
        """(hits, dropped hits, quarantined requests) in the database."""
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            hits = conn.execute(sa.text("SELECT count(*) FROM hits")).scalar_one()
            dropped = conn.execute(
                sa.text("SELECT coalesce(sum(count), 0) FROM drops")).scalar_one()
            rejected = conn.execute(sa.text("SELECT count(*) FROM quarantine")).scalar_one()
        return int(hits), int(dropped), int(rejected)

    def engine_run(self, label: str, url: str, extra_env: dict[str, str], *, batch: bool = True,
                   pg_pid: int | None = None) -> list[Result]:
        from webleads.db.engine import create_engine
        from webleads.db.hit_queue import queue_engine
        from webleads.db.migrate import upgrade
        from webleads.sites import create_site

        sync = extra_env.get("WEBLEADS_SQLITE_SYNCHRONOUS", "FULL")
        self.engine = create_engine(url, sqlite_synchronous=sync)
        upgrade(self.engine)
        self.queue = queue_engine(self.engine, sqlite_synchronous=sync)
        self.site_key = create_site(self.engine, "Bench shop", SITE_DOMAIN).site.key
        env = {**os.environ, "WEBLEADS_DATABASE_URL": url,
               "WEBLEADS_SECRET_KEY": "bench-" + os.urandom(16).hex(),
               "WEBLEADS_TRUSTED_PROXIES": "127.0.0.1/32",
               "WEBLEADS_NETWORK_RANGES": str(self.ranges),
               # One site takes all the load: its rate limit (1000 req/s by default) stays
               # on, checked on every request, but far above what one process serves.
               "WEBLEADS_COLLECT_RATE_PER_SITE": os.environ.get(
                   "WEBLEADS_COLLECT_RATE_PER_SITE", "1000000000"),
               "WEBLEADS_LOG_LEVEL": "warning", **extra_env}
        env["WEBLEADS_PROCESSOR"] = self.args.processor
        print(f"{label}: {url.split('@')[-1]}, processor {self.args.processor}", flush=True)
        server = Server(env, self.workdir, self.pin_server)
        self.processor = None
        if self.args.processor == "separate":
            # What `webleads serve` starts beside the server, here pinned beside wrk (and
            # PostgreSQL): the server's core stays the server's alone.
            self.processor = subprocess.Popen(
                [*self.pin_wrk, sys.executable, "-m", "webleads.cli", "process"], env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        results = []
        try:
            args = self.args
            # warm-up: the same shapes, other random draws (not measured)
            for mode in ("bare", "nostore", "single"):
                self.wrk(server, mode, args.warmup)
            # bare and single interleaved, 1 s each, so that both see the same machine
            results += self.phase(label, server, ["bare", "nostore", "single"], args.seconds, 1,
                                  pg_pid)
            if batch:
                self.wrk(server, "batch", args.warmup)
                results += self.phase(label, server, ["batch"], 1, args.seconds, pg_pid)
        finally:
            server.stop()
            if self.processor is not None:
                self.processor.terminate()
                self.processor.wait(60)
            self.engine.dispose()
            self.queue.dispose()
        return results


def write_ranges(path: Path) -> None:
    """Network ranges for 198.18.0.0/15: 40 % organisations (accounts), the rest ISPs."""
    lines = ["cidr,asn,as_org,org_name,org_domain,category,country"]
    for j in range(512):  # the /24s of the /15
        cidr = f"198.{18 + j // 256}.{j % 256}.0/24"
        if j % 5 < 2:
            n = j % 150
            category = "education" if n % 10 == 0 else "enterprise"
            lines.append(f"{cidr},{64512 + n},ORG{n}-AS,Org {n} SA,org{n}.example,"
                         f"{category},{('FR', 'DE', 'GB', 'US')[n % 4]}")
        else:
            n = j % 7
            lines.append(f"{cidr},{65000 + n},ISP{n},,,isp,{('FR', 'DE', 'GB', 'US')[n % 4]}")
    path.write_text("\n".join(lines) + "\n")


def check_user_agents() -> None:
    from webleads.enrich.bots import make_drop_bots
    from webleads.model import Client, Site

    drop = make_drop_bots()
    site = Site(id=1, workspace_id=1, key="k", name="n", domain=SITE_DOMAIN)
    bad = [ua for ua in USER_AGENTS
           if not isinstance(drop(Client(site=site, ip="198.18.0.1", user_agent=ua)), Client)]
    if bad:
        raise SystemExit("these user agents are dropped as bots, fix the list:\n" + "\n".join(bad))


@contextlib.contextmanager
def postgres(pin: list[str]) -> Iterator[tuple[str, int]]:
    from webleads.testing.pgcluster import start_cluster

    cluster = start_cluster(fsync=True)
    try:
        pid = int((cluster.datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        if pin:  # PostgreSQL beside wrk, so that the server's core is the server's alone
            core = pin[-1]
            pids = [pid] + [int(p) for p in os.listdir("/proc") if p.isdigit()
                            and _ppid(int(p)) == pid]
            for p in pids:
                subprocess.run(["taskset", "-a", "-p", "-c", core, str(p)],
                               capture_output=True, check=False)
        yield cluster.create_database("bench"), pid
    finally:
        cluster.stop()


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


# --------------------------------------------------------------------------- main


def summarise(results: list[Result]) -> dict[str, Any]:
    def pick(label: str, mode: str) -> list[Result]:
        return [r for r in results if r.label == label and r.mode == mode]

    out: dict[str, Any] = {}
    names = {"sqlite": "sqlite", "postgres": "postgres", "sqlite-normal": "sqlite_normal"}
    for label, key in names.items():
        bare = pick(label, "bare")
        nostore = pick(label, "nostore")
        single = pick(label, "single")
        batch = pick(label, "batch")
        if not bare:
            if key in ("sqlite", "postgres"):
                out[f"ratio_{key}"] = None
            continue
        bare_rate = sum(r.req_per_s for r in bare) / len(bare)
        bare_cpu = sum(r.server_us_per_req for r in bare) / len(bare)
        out[f"bare_req_per_s_{key}"] = round(bare_rate)
        out[f"bare_p50_ms_{key}"] = round(bare[0].p50_ms, 2)
        out[f"bare_p99_ms_{key}"] = round(bare[0].p99_ms, 2)
        if nostore:
            n = nostore[0]
            out[f"nostore_req_per_s_{key}"] = round(n.req_per_s)
            out[f"ratio_nostore_{key}"] = round(n.req_per_s / bare_rate, 3)
            out[f"nostore_server_us_per_req_{key}"] = round(n.server_us_per_req, 1)
        if single:
            s = single[0]
            out[f"ratio_{key}"] = round(s.req_per_s / bare_rate, 3)
            out[f"single_req_per_s_{key}"] = round(s.req_per_s)
            out[f"single_p50_ms_{key}"] = round(s.p50_ms, 2)
            out[f"single_p99_ms_{key}"] = round(s.p99_ms, 2)
            out[f"single_server_us_per_req_{key}"] = round(s.server_us_per_req, 1)
            # Robust to a busy machine: per-request server CPU, bare over collect.
            out[f"ratio_cpu_{key}"] = round(bare_cpu / s.server_us_per_req, 3)
            if s.pg_us_per_req:
                out[f"single_postgres_us_per_req_{key}"] = round(s.pg_us_per_req, 1)
            out[f"single_sustained_hits_per_s_{key}"] = round(s.processed_per_s)
            out[f"single_processor_us_per_hit_{key}"] = round(s.processor_us_per_hit, 1)
            out[f"single_queue_drain_s_{key}"] = round(s.drain_seconds, 2)
        if batch:
            b = batch[0]
            out[f"batched_hits_per_s_{key}"] = round(b.hits_per_s)
            out[f"batched_p50_ms_{key}"] = round(b.p50_ms, 2)
            out[f"batched_p99_ms_{key}"] = round(b.p99_ms, 2)
            out[f"batched_server_us_per_hit_{key}"] = round(b.server_us_per_req / BATCH, 2)
            # what one dedicated server core would sustain, from its CPU per hit
            out[f"batched_hits_per_cpu_s_{key}"] = round(BATCH * 1e6 / b.server_us_per_req)
            if b.pg_us_per_req:
                out[f"batched_postgres_us_per_hit_{key}"] = round(b.pg_us_per_req / BATCH, 2)
            out[f"batched_sustained_hits_per_s_{key}"] = round(b.processed_per_s)
            out[f"batched_processor_us_per_hit_{key}"] = round(b.processor_us_per_hit, 1)
            out[f"batched_queue_drain_s_{key}"] = round(b.drain_seconds, 2)
        out[f"bare_server_us_per_req_{key}"] = round(bare_cpu, 1)
    batched = [v for k, v in out.items() if k.startswith("batched_hits_per_s_")
               and not k.endswith("normal")]
    cpu_batched = [v for k, v in out.items() if k.startswith("batched_hits_per_cpu_s_")
                   and not k.endswith("normal")]
    out["batched_hits_per_cpu_s"] = max(cpu_batched) if cpu_batched else None
    out["batched_hits_per_s"] = max(batched) if batched else None
    out["max_other_cores"] = round(max((r.other_cores for r in results), default=0), 2)
    out["verified"] = all(r.verified for r in results)
    out["stored_hits"] = sum(r.stored or 0 for r in results)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5,
                        help="measured seconds per load (whole seconds: wrk's -d)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per load")
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--no-normal", action="store_true",
                        help="skip the extra SQLite run with WEBLEADS_SQLITE_SYNCHRONOUS=NORMAL")
    parser.add_argument("--profile", metavar="DIR",
                        help="record py-spy profiles of the server during collect loads "
                        "(pip install py-spy; adds some load: ratios are not comparable)")
    parser.add_argument("--processor", choices=("separate", "inline"), default="separate",
                        help="WEBLEADS_PROCESSOR of the server (default: separate, the "
                        "product's default, with the processor process beside wrk)")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seconds < 1 or args.warmup < 1:
        parser.error("--seconds and --warmup are whole seconds, at least 1")
    if args.serve:
        serve(args.serve)
        return 0
    if shutil.which("wrk") is None:
        print("wrk is required: apt-get install -y wrk", file=sys.stderr)
        return 2
    check_user_agents()
    started = time.monotonic()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="webleads-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        pin = (f"server on core {bench.pin_server[-1]}, wrk on core {bench.pin_wrk[-1]}"
               if bench.pin_server else "no pinning (taskset or 2 cores missing)")
        print(f"webleads ingest bench: {args.seconds:g} s per load after {args.warmup:g} s "
              f"warm-up, wrk -t1 -c{args.connections}, 1 uvicorn worker, {pin}; "
              f"{VISITORS:,} visitors, {len(USER_AGENTS)} user agents, batch {BATCH}", flush=True)
        if args.engine in ("sqlite", "both"):
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            results += bench.engine_run("sqlite", url, {"WEBLEADS_SQLITE_SYNCHRONOUS": "FULL"})
        if args.engine in ("postgres", "both"):
            with postgres(bench.pin_wrk) as (url, pg_pid):
                results += bench.engine_run("postgres", url, {}, pg_pid=pg_pid)
        if args.engine in ("sqlite", "both") and not args.no_normal:
            url = f"sqlite:///{Path(tmp) / 'bench-normal.db'}"
            results += bench.engine_run("sqlite-normal", url,
                                        {"WEBLEADS_SQLITE_SYNCHRONOUS": "NORMAL"})
    summary = summarise(results)
    summary["seconds"] = args.seconds
    summary["connections"] = args.connections
    summary["wall_s"] = round(time.monotonic() - started, 1)
    print_summary(summary)
    print(json.dumps(summary))
    return 0 if summary["verified"] else 1


def print_summary(summary: dict[str, Any]) -> None:
    def get(name: str) -> float:
        value = summary.get(name)
        return 0.0 if value is None else float(value)

    print()
    print(f"{'':<14}{'bare':>8}{'nostore':>8}{'single':>8}{'ratio':>7}{'cpu':>6}"
          f"{'single p50/p99':>16}{'batched':>9}{'batch p50/p99':>15}{'us/hit':>8}"
          f"{'hits/cpu-s':>11}")
    print(f"{'':<14}{'req/s':>8}{'req/s':>8}{'req/s':>8}{'':>7}{'ratio':>6}{'ms':>16}"
          f"{'hits/s':>9}{'ms':>15}{'server':>8}{'(1 core)':>11}")
    for key in ("sqlite", "postgres", "sqlite_normal"):
        if f"bare_req_per_s_{key}" not in summary:
            continue
        print(f"{key:<14}{fmt_int(get(f'bare_req_per_s_{key}')):>8}"
              f"{fmt_int(get(f'nostore_req_per_s_{key}')):>8}"
              f"{fmt_int(get(f'single_req_per_s_{key}')):>8}"
              f"{get(f'ratio_{key}'):>7.3f}{get(f'ratio_cpu_{key}'):>6.3f}"
              f"{get(f'single_p50_ms_{key}'):>9.1f} /{get(f'single_p99_ms_{key}'):>5.0f}"
              f"{fmt_int(get(f'batched_hits_per_s_{key}')):>9}"
              f"{get(f'batched_p50_ms_{key}'):>8.0f} /{get(f'batched_p99_ms_{key}'):>5.0f}"
              f"{get(f'batched_server_us_per_hit_{key}'):>8.1f}"
              f"{fmt_int(get(f'batched_hits_per_cpu_s_{key}')):>11}")
    targets = []
    for key in ("sqlite", "postgres"):
        if summary.get(f"ratio_{key}") is not None:
            ratio = summary[f"ratio_{key}"]
            targets.append(f"ratio {key} {ratio:.3f} ({'met' if ratio >= 0.5 else 'MISSED'})")
    if summary["batched_hits_per_s"] is not None:
        ok = summary["batched_hits_per_s"] >= 100_000
        targets.append(f"batched {fmt_int(summary['batched_hits_per_s'])} hits/s "
                       f"({'met' if ok else 'MISSED'})")
    print("targets (ratio >= 0.5 per engine, batched >= 100,000 hits/s): " + "; ".join(targets))
    print(f"stored hits verified: {'yes' if summary['verified'] else 'NO'} "
          f"({fmt_int(summary['stored_hits'])} hits counted in the databases); "
          f"{summary['wall_s']:.0f} s")
    if summary["max_other_cores"] > 0.25:
        print(f"WARNING: other processes used up to {summary['max_other_cores']:.2f} cores during "
              "the loads: req/s and ratios are disturbed; the 'cpu ratio' (server CPU per "
              "request, bare / collect) and hits/cpu-s are much less sensitive to that")


if __name__ == "__main__":
    sys.exit(main())

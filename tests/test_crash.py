"""Durability under SIGKILL: a 2xx from /api/collect means the hit is stored.

The real server runs as a separate process (``webleads serve``), the site is made
with the real CLI (``webleads site add --json``), several threads send batches of
hits whose URLs carry unique tokens, and the server is killed with SIGKILL while
requests are in flight.  The database is then read directly: every acknowledged
token must be there.  Finally the server restarts on the same database, becomes
ready and stores a new hit.

On PostgreSQL only the webleads process is killed, never the database server, so
the session cluster (started without fsync to keep the suite fast) is enough here:
a commit the server acknowledged is in PostgreSQL's memory and WAL stream whatever
happens to the client process.  Testing PostgreSQL's own crash safety would need a
cluster started with ``fsync=True`` and killed itself, which is not this test.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import free_port
from webleads.db.engine import create_engine, read_only
from webleads.db.schema import hits, quarantine, sites

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
WORKERS = 8
LOAD_SECONDS = 1.5
MIN_ACKED = 100  # acknowledged hits before the kill, or the test proves nothing


def webleads_command() -> str:
    here = Path(sys.executable).parent / "webleads"
    found = str(here) if here.exists() else shutil.which("webleads")
    if found is None:
        pytest.fail("the webleads console script is not installed (pip install -e .)")
    return found


@pytest.fixture(params=["separate", "inline"])
def env(db_url: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """The server's environment; both processors: ``separate`` (the default: the 2xx
    follows the commit to the hit queue, a child process stores) and ``inline``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WEBLEADS_")}
    return {**clean, "WEBLEADS_DATABASE_URL": db_url, "WEBLEADS_SECRET_KEY": "crash-test-secret",
            "WEBLEADS_LOG_LEVEL": "warning", "WEBLEADS_LANG": "en",
            "WEBLEADS_PROCESSOR": request.param}


def processors_of(pid: int) -> list[int]:
    """Processes running ``webleads process --parent PID`` (serve's processor child)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"process" in cmdline and b"--parent" in cmdline and str(pid).encode() in cmdline:
            found.append(int(entry.name))
    return found


def wait_gone(pids: list[int], timeout: float = 20) -> list[int]:
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if Path(f"/proc/{p}").exists()
                and b"zombie" not in _status(p)]
        time.sleep(0.05)
    return pids


def _status(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/status").read_bytes().lower()
    except OSError:
        return b""


@dataclass
class Servers:
    """Every server process the test started; all are killed when it ends."""

    log_dir: Path
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, port: int, *options: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"server-{len(self.procs)}.log").open("wb")
        try:
            proc = subprocess.Popen(
                [webleads_command(), "serve", "--host", "127.0.0.1", "--port", str(port),
                 *options],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        finally:
            log.close()  # the child holds its own descriptor
        self.procs.append(proc)
        return proc

    def log(self, index: int = -1) -> str:
        path = self.log_dir / f"server-{index % len(self.procs)}.log"
        return path.read_text(errors="replace")[-3000:]

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass


@pytest.fixture
def servers(tmp_path: Path, env: dict[str, str]) -> Iterator[Servers]:
    made = Servers(tmp_path, env)
    try:
        yield made
    finally:
        made.kill_all()


def wait_ready(proc: subprocess.Popen[bytes], base: str, servers: Servers,
               timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{servers.log()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the server was not ready within {timeout}s:\n{servers.log()}")


def add_site(env: dict[str, str]) -> str:
    done = subprocess.run([webleads_command(), "site", "add", "Crash", "--domain", "example.com",
                           "--json"], env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    key = json.loads(done.stdout.strip().splitlines()[-1])["key"]
    assert isinstance(key, str) and key.startswith("wl_")
    return key


@dataclass
class Load:
    """What the clients saw; filled by the worker threads under ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: set[str] = field(default_factory=set)
    acked: set[str] = field(default_factory=set)
    # Start times (monotonic) of requests that ended with a transport error.
    failed_starts: list[float] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    in_flight: int = 0  # requests sent and not yet answered
    prefix: str = ""  # of the tokens: each kill of a test sends its own


def batch(key: str, tokens: list[str], visitor: str) -> bytes:
    return json.dumps([{"site": key, "type": "pageview", "visitor": visitor,
                        "url": f"https://example.com/p?tok={token}"} for token in tokens]).encode()


def worker(n: int, base: str, key: str, load: Load, stop: threading.Event) -> None:
    rnd = random.Random(n)
    visitor = f"crash-visitor-{n:04d}"
    with httpx.Client(base_url=base, timeout=15) as client:
        seq = 0
        while not stop.is_set():
            tokens = [f"{load.prefix}w{n}s{seq}h{i}" for i in range(rnd.randint(1, 5))]
            seq += 1
            with load.lock:
                load.sent.update(tokens)
            with load.lock:
                load.in_flight += 1
            started = time.monotonic()
            try:
                r = client.post("/api/collect", content=batch(key, tokens, visitor),
                                headers={"content-type": "text/plain", "user-agent": CHROME})
            except httpx.TransportError:
                with load.lock:
                    load.failed_starts.append(started)
                return  # the server is gone
            with load.lock:
                load.in_flight -= 1
                if r.status_code == 202 and r.json() == {"accepted": len(tokens), "dropped": 0}:
                    load.acked.update(tokens)
                else:
                    load.unexpected.append(f"{r.status_code} {r.text[:200]}")


def quarantined(db_url: str) -> list[tuple[str, str]]:
    engine = create_engine(db_url)
    try:
        with read_only(engine) as conn, conn.begin():
            return [(r.reason, r.detail) for r in conn.execute(sa.select(quarantine))]
    finally:
        engine.dispose()


def stored_tokens(db_url: str, key: str) -> list[str]:
    engine = create_engine(db_url)
    try:
        with read_only(engine) as conn, conn.begin():
            site_id = conn.scalar(sa.select(sites.c.id).where(sites.c.key == key))
            urls = conn.scalars(sa.select(hits.c.url).where(hits.c.site_id == site_id)).all()
            if engine.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        engine.dispose()
    return [parse_qs(urlsplit(url).query)["tok"][0] for url in urls]


@dataclass
class Kill:
    load: Load
    killed_at: float
    children: list[int]  # serve's processor processes at the kill
    acked_at_kill: int

    @property
    def in_flight(self) -> list[float]:
        return [t for t in self.load.failed_starts if t <= self.killed_at]


def kill_under_load(servers: Servers, key: str, attempt: int) -> Kill:
    """Start a server, load it from WORKERS threads, SIGKILL it while requests wait."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = servers.start(port)
    wait_ready(proc, base, servers)
    load = Load(prefix=f"k{attempt}")
    stop = threading.Event()
    threads = [threading.Thread(target=worker, args=(n, base, key, load, stop), daemon=True)
               for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(LOAD_SECONDS)
        deadline = time.monotonic() + 10  # a slow machine: wait for enough acknowledgements
        while len(load.acked) < MIN_ACKED and time.monotonic() < deadline:
            time.sleep(0.05)
        # Kill while requests are in flight (the point of the test), not between two:
        # when most clients wait for an answer, some wait for the server's commit.
        deadline = time.monotonic() + 5
        while load.in_flight < WORKERS - 2 and time.monotonic() < deadline:
            time.sleep(0.0005)
        killed_at = time.monotonic()
        children = processors_of(proc.pid)
        proc.send_signal(signal.SIGKILL)  # no shutdown hook, no writer drain
        proc.wait(10)
        with load.lock:
            acked_at_kill = len(load.acked)
    finally:
        stop.set()
        for thread in threads:
            thread.join(20)
    assert proc.returncode == -signal.SIGKILL
    assert not any(thread.is_alive() for thread in threads)
    assert not load.unexpected, load.unexpected[:5]
    return Kill(load, killed_at, children, acked_at_kill)


def test_acknowledged_hits_survive_sigkill(db_url: str, env: dict[str, str],
                                           servers: Servers) -> None:
    key = add_site(env)
    # A fast server may have answered every request when the signal lands (the clients,
    # Python threads, are the slower side): kill again, on the same database, until a
    # kill catches requests the server had not answered.
    kills = [kill_under_load(servers, key, 0)]
    while not kills[-1].in_flight and len(kills) < 6:
        kills.append(kill_under_load(servers, key, len(kills)))
    assert kills[-1].in_flight, "no request was in flight when the server was killed"
    acked = set().union(*(k.load.acked for k in kills))
    sent = set().union(*(k.load.sent for k in kills))
    acked_at_kill = len(acked)
    assert acked_at_kill >= MIN_ACKED, f"only {acked_at_kill} hits acknowledged before the kill"
    children = [pid for k in kills for pid in k.children]
    in_flight = kills[-1].in_flight

    if env["WEBLEADS_PROCESSOR"] == "separate":
        assert children, "serve started no processor"
        # The processor notices that serve is gone and stops by itself...
        assert not wait_gone(children), "the processor outlived the killed server"
        # ...and what it had not stored yet is still queued: store it.
        done = subprocess.run([webleads_command(), "process", "--drain"], env=env,
                              capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        assert "queued hits stored" in done.stdout
        assert quarantined(db_url) == [], "the processor refused acknowledged hits"
    else:
        assert not children
    stored = stored_tokens(db_url, key)
    print(f"acknowledged {acked_at_kill}, in flight at the kill {len(in_flight)}, "
          f"sent {len(sent)}, stored {len(stored)}, kills {len(kills)}")
    assert len(stored) == len(set(stored)), "a hit was stored twice"
    lost = acked - set(stored)
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged hits lost: {sorted(lost)[:10]}"
    assert set(stored) <= sent

    # The same database serves again after the crash.
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = servers.start(port)
    wait_ready(proc, base, servers)
    r = httpx.post(f"{base}/api/collect", content=batch(key, ["after-restart"], "crash-visitor-x"),
                   headers={"content-type": "text/plain", "user-agent": CHROME}, timeout=15)
    assert (r.status_code, r.json()) == (202, {"accepted": 1, "dropped": 0}), servers.log()
    deadline = time.monotonic() + 15  # separate: the restarted processor stores it soon
    while "after-restart" not in stored_tokens(db_url, key) and time.monotonic() < deadline:
        time.sleep(0.05)
    children = processors_of(proc.pid)
    proc.terminate()
    proc.wait(20)
    assert proc.returncode == 0, servers.log()
    assert not wait_gone(children), "serve stopped but its processor did not"
    after = stored_tokens(db_url, key)
    assert "after-restart" in after
    assert acked <= set(after)

"""Throwaway PostgreSQL clusters for tests and benchmarks.

``start_cluster()`` runs ``initdb`` into a fresh temporary directory, starts the
server with ``pg_ctl`` on a free port of 127.0.0.1 and returns a ``PgCluster``;
``PgCluster.stop()`` kills the server and removes the directory again::

    with running_cluster() as pg:
        engine = sqlalchemy.create_engine(pg.create_database("bench"))

The server binaries (``initdb``, ``pg_ctl``, ``postgres``) come from the
machine; on Debian they are in the ``postgresql-15`` package.  They are looked
up, in this order, in ``$WEBLEADS_PG_BINDIR``, ``pg_config --bindir``, ``PATH``
and ``/usr/lib/postgresql/*/bin`` (newest version first).

``initdb`` refuses to run as root.  When the current process is root (CI
containers), the cluster is created and run as an unprivileged account: the
``postgres`` system user when it exists, otherwise a dedicated ``webleads-pg``
system user that is created on first use.  The temporary directory is chowned
to that account; everything else is the same.

Every cluster authenticates everyone with ``trust`` and listens on 127.0.0.1
only.  Unless ``fsync=True`` the cluster also runs without durability
(``fsync``, ``synchronous_commit`` and ``full_page_writes`` off): fine for a
test database that is thrown away, wrong for benchmarks that measure commits
and for crash tests, which should pass ``fsync=True``.

Clusters still running when the interpreter exits are stopped by an ``atexit``
hook; a process killed outright (SIGKILL, ``os._exit``) leaves its server
running until the machine or container goes away.
"""

from __future__ import annotations

import atexit
import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

__all__ = [
    "BINDIR_ENV",
    "DEFAULT_SUPERUSER",
    "FALLBACK_OS_USER",
    "PgCluster",
    "find_bindir",
    "postgres_available",
    "running_cluster",
    "start_cluster",
]

BINDIR_ENV = "WEBLEADS_PG_BINDIR"
"""Environment variable naming the directory of initdb, pg_ctl and postgres."""

DEFAULT_SUPERUSER = "webleads"
"""Name of the database superuser that ``initdb`` creates."""

FALLBACK_OS_USER = "webleads-pg"
"""System account created to run the server as when root has no ``postgres`` user."""

HOST = "127.0.0.1"

_BINARIES = ("initdb", "pg_ctl", "postgres")
_START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections
_COMMAND_TIMEOUT = 120  # seconds before a hung initdb / pg_ctl is given up on
_PORT_ATTEMPTS = 3  # fresh ports tried when a randomly chosen one was taken meanwhile
# sun_path is 108 bytes on Linux, including the terminating NUL.
_MAX_SOCKET_PATH = 107
_SOCKET_NAME_MAX = len("/.s.PGSQL.65535")
_LOG_TAIL_LINES = 40

_Cmd = list[str | os.PathLike[str]]


# --------------------------------------------------------------------------- binaries


def _has_binaries(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in _BINARIES)


def _version_key(directory: Path) -> tuple[int, ...]:
    """Sort key for /usr/lib/postgresql/<version>/bin: numeric version, unknown last."""
    return tuple(int(part) for part in re.findall(r"\d+", directory.parent.name)) or (-1,)


def _bindir_candidates() -> Iterator[Path]:
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out:
            yield Path(out)
    initdb = shutil.which("initdb")
    if initdb is not None:
        # /usr/local/bin/initdb may be a symlink into the real bindir; pg_ctl and
        # postgres must come from the same installation.
        yield Path(initdb).resolve().parent
        yield Path(initdb).parent
    yield from sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)


def find_bindir() -> Path | None:
    """Directory holding initdb, pg_ctl and postgres, or None when there is none.

    ``$WEBLEADS_PG_BINDIR`` wins when set; a value that lacks the binaries is
    an error rather than a reason to look elsewhere.
    """
    override = os.environ.get(BINDIR_ENV)
    if override:
        directory = Path(override)
        if not _has_binaries(directory):
            missing = [n for n in _BINARIES if not os.access(directory / n, os.X_OK)]
            raise RuntimeError(f"${BINDIR_ENV}={override} lacks {', '.join(missing)}")
        return directory
    for directory in _bindir_candidates():
        if _has_binaries(directory):
            return directory
    return None


def _require_bindir() -> Path:
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; install the "
            f"Debian package postgresql-15 or set ${BINDIR_ENV}"
        )
    return bindir


# --------------------------------------------------------------------------- OS account


@dataclass(frozen=True)
class _Account:
    """The OS account the server runs as; ``switch`` when it is not the current one."""

    name: str
    uid: int
    gid: int
    switch: bool


_account_lock = threading.Lock()


def _current_account() -> _Account:
    uid = os.geteuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    return _Account(name=name, uid=uid, gid=os.getegid(), switch=False)


def _lookup(name: str) -> _Account | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    if entry.pw_uid == 0:
        return None
    return _Account(name=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid, switch=True)


def _create_system_user(name: str) -> None:
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    shell = "/usr/sbin/nologin" if os.path.exists("/usr/sbin/nologin") else "/bin/false"
    cmd = [
        useradd, "--system", "--no-create-home", "--user-group",
        "--home-dir", "/nonexistent", "--shell", shell,
        "--comment", "webleads throwaway PostgreSQL clusters", name,
    ]  # fmt: skip
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise RuntimeError(f"cannot create system user {name!r}: {exc}") from exc
    # Exit status 9: the name is taken, e.g. by a concurrent test process.
    if result.returncode not in (0, 9):
        raise RuntimeError(
            f"cannot create system user {name!r} ({' '.join(cmd)} exited with "
            f"{result.returncode}): {result.stderr.strip()}"
        )


def _server_account() -> _Account:
    """Account to run initdb and the server as: the current one unless it is root."""
    if os.geteuid() != 0:
        return _current_account()
    with _account_lock:
        for name in ("postgres", FALLBACK_OS_USER):
            account = _lookup(name)
            if account is not None:
                return account
        _create_system_user(FALLBACK_OS_USER)
        account = _lookup(FALLBACK_OS_USER)
    if account is None:
        raise RuntimeError(f"system user {FALLBACK_OS_USER!r} missing after useradd")
    return account


def _account_named(name: str) -> _Account | None:
    """The account a cluster was started as; None when it no longer exists."""
    current = _current_account()
    if not name or name == current.name:
        return current
    return _lookup(name) if current.uid == 0 else None


def _can_traverse(path: Path, account: _Account) -> bool:
    """Whether ``account`` can reach ``path``: every ancestor grants it search (x)."""
    if not account.switch:
        return True
    try:
        groups = {g.gr_gid for g in grp.getgrall() if account.name in g.gr_mem} | {account.gid}
    except OSError:
        groups = {account.gid}
    current = path.resolve()
    for directory in (current, *current.parents):
        st = directory.stat()
        if st.st_uid == account.uid:
            bit = 0o100
        elif st.st_gid in groups:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return False
    return True


def _chown_tree(path: Path, account: _Account) -> None:
    if not account.switch:
        return
    os.chown(path, account.uid, account.gid)
    for root, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            os.chown(os.path.join(root, name), account.uid, account.gid, follow_symlinks=False)


# --------------------------------------------------------------------------- commands


def _environment() -> dict[str, str]:
    """Environment for initdb / pg_ctl: no PG* variables, C messages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    return env


def _run(
    cmd: Sequence[str | os.PathLike[str]],
    account: _Account,
    cwd: Path,
    *,
    timeout: float = _COMMAND_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` as ``account`` without raising on a non-zero exit status."""
    if account.switch:
        return subprocess.run(
            cmd,
            cwd=cwd,
            env=dict(env) if env is not None else _environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
            user=account.uid,
            group=account.gid,
            extra_groups=[],
            umask=0o077,
        )
    return subprocess.run(
        cmd,
        cwd=cwd,
        env=dict(env) if env is not None else _environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
        umask=0o077,
    )


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _conf_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _settings(port: int, socket_dir: Path, fsync: bool) -> dict[str, str]:
    settings = {
        "listen_addresses": _conf_quote(HOST),
        "port": str(port),
        "unix_socket_directories": _conf_quote(str(socket_dir)),
        "max_connections": "200",
        "shared_buffers": "128MB",
        "logging_collector": "off",
    }
    if not fsync:
        # Allowed for a throwaway cluster only: a crash loses or corrupts data.
        settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
    return settings


def _write_conf(datadir: Path, original: str, settings: Mapping[str, str]) -> None:
    lines = [f"{name} = {value}" for name, value in settings.items()]
    block = "\n# webleads.testing.pgcluster\n" + "\n".join(lines) + "\n"
    (datadir / "postgresql.conf").write_text(original + block)


# --------------------------------------------------------------------------- cluster


_live: dict[Path, PgCluster] = {}
_live_lock = threading.Lock()


@dataclass(frozen=True)
class PgCluster:
    """A running throwaway cluster. ``stop()`` it (or use ``running_cluster``)."""

    datadir: Path
    port: int
    host: str = HOST
    user: str = DEFAULT_SUPERUSER
    # Where the pieces live and who runs the server; not part of the identity.
    socket_dir: Path = field(default=Path(), compare=False, kw_only=True)
    log_file: Path = field(default=Path(), compare=False, kw_only=True)
    bindir: Path = field(default=Path(), compare=False, kw_only=True)
    os_user: str = field(default="", compare=False, kw_only=True)
    cleanup: tuple[Path, ...] = field(default=(), compare=False, kw_only=True, repr=False)

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        """SQLAlchemy URL of ``database``; ``driver="postgresql"`` gives a libpq URI."""
        return (
            f"{driver}://{quote(self.user, safe='')}@{self.host}:{self.port}/"
            f"{quote(database, safe='')}"
        )

    def connect(
        self, database: str = "postgres", *, autocommit: bool = False
    ) -> psycopg.Connection[tuple[Any, ...]]:
        """A new psycopg connection to ``database``; close it (``with`` block) when done."""
        return psycopg.connect(
            self.url(database, driver="postgresql"), autocommit=autocommit, connect_timeout=10
        )

    def create_database(self, name: str) -> str:
        """``CREATE DATABASE name`` and return its SQLAlchemy URL."""
        with self.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def stop(self) -> None:
        """Stop the server immediately and remove its files. Idempotent."""
        with _live_lock:
            _live.pop(self.datadir, None)
        paths = self.cleanup or (self.datadir,)
        # More than one pass: after an interrupted start, a server process that
        # pg_ctl had already forked can still write its pid file or its log
        # while the tree is being removed.
        deadline = time.monotonic() + 10
        while True:
            if (self.datadir / "postmaster.pid").exists():
                self._kill()
            for path in paths:
                shutil.rmtree(path, ignore_errors=True)
            if not any(path.exists() for path in paths) or time.monotonic() > deadline:
                return
            time.sleep(0.1)

    def _kill(self) -> None:
        account = _account_named(self.os_user)
        pg_ctl = self.bindir / "pg_ctl"
        if account is not None and self.bindir != Path() and pg_ctl.exists():
            cmd: _Cmd = [pg_ctl, "stop", "-D", self.datadir, "-m", "immediate", "-w", "-t", "30"]
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                _run(cmd, account, cwd=Path("/"), timeout=60)
        # pg_ctl failed or was unavailable: kill the postmaster ourselves.
        pid = _postmaster_pid(self.datadir)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGQUIT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                time.sleep(0.05)
            os.kill(pid, signal.SIGKILL)


def _postmaster_pid(datadir: Path) -> int | None:
    try:
        first = (datadir / "postmaster.pid").read_text().split("\n", 1)[0].strip()
        return int(first)
    except (OSError, ValueError):
        return None


@atexit.register
def _stop_leftovers() -> None:
    with _live_lock:
        clusters = list(_live.values())
    for cluster in clusters:
        with contextlib.suppress(Exception):
            cluster.stop()


def _make_workdir(base_dir: Path | None, account: _Account) -> Path:
    if base_dir is not None:
        parent = Path(base_dir)
    elif account.switch:
        parent = Path("/tmp")  # $TMPDIR of root may well be private to root
    else:
        parent = Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="webleads-pg-", dir=parent))
    workdir.chmod(0o755)
    _chown_tree(workdir, account)
    if not _can_traverse(workdir, account):
        shutil.rmtree(workdir, ignore_errors=True)
        raise RuntimeError(
            f"{workdir} is not reachable by the OS user {account.name!r} that runs the server "
            "(an ancestor directory lacks the x permission for it); pass a base_dir such as "
            "/tmp, or leave base_dir=None"
        )
    return workdir


def _socket_dir(datadir: Path, account: _Account, cleanup: list[Path]) -> Path:
    if len(os.fsencode(datadir)) + _SOCKET_NAME_MAX <= _MAX_SOCKET_PATH:
        return datadir
    short = Path(tempfile.mkdtemp(prefix="wlpg-", dir="/tmp"))
    cleanup.append(short)
    short.chmod(0o755)
    _chown_tree(short, account)
    return short


def start_cluster(
    base_dir: Path | None = None, *, port: int | None = None, fsync: bool = False
) -> PgCluster:
    """initdb and start a cluster in a fresh ``webleads-pg-*`` directory under ``base_dir``.

    ``base_dir`` defaults to $TMPDIR, or /tmp when running as root; as root it
    must be reachable (x permission on every ancestor) by the server's OS user.
    ``port`` defaults to a free port of 127.0.0.1.  Raises RuntimeError, with
    the tail of the server log, when the cluster cannot be created or started.
    """
    bindir = _require_bindir()
    account = _server_account()
    workdir = _make_workdir(base_dir, account)
    cleanup = [workdir]
    datadir = workdir / "data"
    log_file = workdir / "postgres.log"
    try:
        initdb: _Cmd = [
            bindir / "initdb", "-D", datadir, "--auth=trust",
            f"--username={DEFAULT_SUPERUSER}", "--encoding=UTF8", "--locale=C",
            "--no-instructions",
        ]  # fmt: skip
        if not fsync:
            initdb.append("--no-sync")
        result = _run(initdb, account, cwd=workdir)
        if result.returncode != 0:
            raise RuntimeError(
                f"initdb failed with exit status {result.returncode}:\n"
                f"{result.stdout}{result.stderr}"
            )
        datadir.chmod(0o700)
        socket_dir = _socket_dir(datadir, account, cleanup)
        original_conf = (datadir / "postgresql.conf").read_text()

        attempts = 1 if port is not None else _PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            chosen = port if port is not None else _free_port()
            _write_conf(datadir, original_conf, _settings(chosen, socket_dir, fsync))
            cmd: _Cmd = [
                bindir / "pg_ctl", "start", "-D", datadir, "-l", log_file,
                "-w", "-t", str(_START_TIMEOUT),
            ]  # fmt: skip
            result = _run(cmd, account, cwd=workdir, timeout=_START_TIMEOUT + 30)
            if result.returncode == 0:
                cluster = PgCluster(
                    datadir=datadir,
                    port=chosen,
                    socket_dir=socket_dir,
                    log_file=log_file,
                    bindir=bindir,
                    os_user=account.name,
                    cleanup=tuple(cleanup),
                )
                with _live_lock:
                    _live[datadir] = cluster
                return cluster
            log = _tail(log_file)
            if attempt < attempts and "could not bind" in log:
                # Someone took the port between _free_port() and the bind: retry.
                if (datadir / "postmaster.pid").exists():
                    _partial(datadir, bindir, account, cleanup)._kill()
                log_file.unlink(missing_ok=True)
                continue
            raise RuntimeError(
                f"PostgreSQL did not start on {HOST}:{chosen} (pg_ctl exit status "
                f"{result.returncode}): {result.stdout.strip()} {result.stderr.strip()}\n"
                f"--- last lines of {log_file} ---\n{log}"
            )
        raise AssertionError("unreachable")  # pragma: no cover
    except BaseException as exc:
        log = _tail(log_file) if isinstance(exc, subprocess.TimeoutExpired) else ""
        _partial(datadir, bindir, account, cleanup).stop()
        if isinstance(exc, subprocess.TimeoutExpired):
            command = " ".join(str(arg) for arg in exc.cmd)
            raise RuntimeError(
                f"{command} did not finish within {exc.timeout:.0f}s\n"
                f"--- last lines of {log_file} ---\n{log}"
            ) from exc
        raise


def _partial(datadir: Path, bindir: Path, account: _Account, cleanup: list[Path]) -> PgCluster:
    """Handle on a cluster whose start failed, to stop what it left running and remove it."""
    return PgCluster(
        datadir=datadir, port=0, bindir=bindir, os_user=account.name, cleanup=tuple(cleanup)
    )


@contextlib.contextmanager
def running_cluster(
    base_dir: Path | None = None, *, port: int | None = None, fsync: bool = False
) -> Iterator[PgCluster]:
    """``start_cluster(...)`` as a context manager that always stops the cluster."""
    cluster = start_cluster(base_dir, port=port, fsync=fsync)
    try:
        yield cluster
    finally:
        cluster.stop()


def postgres_available() -> bool:
    """Whether ``start_cluster()`` can work here: binaries found, and as root a user to run as.

    Creates nothing; as root without a ``postgres`` or ``webleads-pg`` user it
    only checks that ``useradd`` exists.
    """
    try:
        if find_bindir() is None:
            return False
    except RuntimeError:
        return False
    if os.geteuid() != 0:
        return True
    if _lookup("postgres") is not None or _lookup(FALLBACK_OS_USER) is not None:
        return True
    return shutil.which("useradd") is not None or os.path.exists("/usr/sbin/useradd")

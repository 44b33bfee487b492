"""webleads.testing.pgcluster: throwaway PostgreSQL clusters on 127.0.0.1.

Skipped when the server binaries are missing (Debian package postgresql-15),
unless WEBLEADS_REQUIRE_PG=1, which turns the skip into a failure for CI.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy

from webleads.testing import pgcluster
from webleads.testing.pgcluster import (
    PgCluster,
    find_bindir,
    postgres_available,
    running_cluster,
    start_cluster,
)

pytestmark = pytest.mark.timeout(120)

if not postgres_available():
    reason = "PostgreSQL server binaries not found (apt-get install postgresql-15)"
    if os.environ.get("WEBLEADS_REQUIRE_PG") == "1":
        raise RuntimeError(reason)
    pytest.skip(reason, allow_module_level=True)


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    with running_cluster() as pg:
        yield pg


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A directory under /tmp that the server's OS user can reach even when we are root.

    (pytest's tmp_path lives in /tmp/pytest-of-root, mode 0700, when run as root.)
    """
    path = Path(tempfile.mkdtemp(prefix="webleads-test-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_psycopg_connects_to_a_test_cluster(cluster: PgCluster) -> None:
    with psycopg.connect(cluster.url(driver="postgresql"), connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT current_user, current_setting('server_version_num')::int,"
            " current_setting('fsync'), current_setting('synchronous_commit'),"
            " current_setting('full_page_writes'), current_setting('max_connections'),"
            " current_setting('shared_buffers'), current_setting('server_encoding'),"
            " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()
    assert row is not None
    user, version, fsync, sync_commit, fpw, max_conn, shared_buffers, encoding, superuser = row
    assert user == cluster.user == "webleads"
    assert superuser is True
    assert version >= 150000
    assert (fsync, sync_commit, fpw) == ("off", "off", "off")
    assert max_conn == "200"
    assert shared_buffers == "128MB"
    assert encoding == "UTF8"


def test_listens_on_loopback_only(cluster: PgCluster) -> None:
    assert cluster.host == "127.0.0.1"
    with cluster.connect() as conn:
        row = conn.execute("SHOW listen_addresses").fetchone()
        assert row == ("127.0.0.1",)
        row = conn.execute("SELECT host(inet_server_addr())").fetchone()
        assert row == ("127.0.0.1",)


def test_sqlalchemy_engine_on_a_new_database(cluster: PgCluster) -> None:
    url = cluster.create_database("leads_test")
    assert url == f"postgresql+psycopg://webleads@127.0.0.1:{cluster.port}/leads_test"
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("CREATE TABLE t (id int PRIMARY KEY, name text)"))
            conn.execute(
                sqlalchemy.text("INSERT INTO t VALUES (:id, :name)"),
                [{"id": 1, "name": "acme"}, {"id": 2, "name": "globex"}],
            )
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT current_database()")).scalar() == (
                "leads_test"
            )
            names = conn.execute(sqlalchemy.text("SELECT name FROM t ORDER BY id")).scalars()
            assert list(names) == ["acme", "globex"]
    finally:
        engine.dispose()
    with pytest.raises(psycopg.errors.DuplicateDatabase):
        cluster.create_database("leads_test")


def test_datadir_is_private_and_not_owned_by_root(cluster: PgCluster) -> None:
    st = cluster.datadir.stat()
    assert st.st_mode & 0o777 == 0o700
    if os.geteuid() == 0:
        assert st.st_uid != 0
        assert cluster.os_user != "root"
    else:
        assert st.st_uid == os.geteuid()


def test_stop_removes_the_cluster_and_closes_the_port() -> None:
    pg = start_cluster()
    workdir = pg.datadir.parent
    assert _port_open(pg.port)
    with pg.connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    pg.stop()
    assert not pg.datadir.exists()
    assert not workdir.exists()
    assert not _port_open(pg.port)
    pg.stop()  # idempotent


def test_fsync_true_keeps_durability_and_clusters_are_independent(cluster: PgCluster) -> None:
    with running_cluster(fsync=True) as durable:
        assert durable.port != cluster.port
        assert durable.datadir != cluster.datadir
        with durable.connect() as conn:
            row = conn.execute(
                "SELECT current_setting('fsync'), current_setting('synchronous_commit'),"
                " current_setting('full_page_writes')"
            ).fetchone()
        assert row == ("on", "on", "on")
    assert not durable.datadir.exists()
    assert not _port_open(durable.port)
    assert _port_open(cluster.port)


def test_port_in_use_raises_with_log_tail_and_cleans_up(shared_tmp: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(RuntimeError, match="could not bind") as info:
            start_cluster(shared_tmp, port=port)
    assert "last lines of" in str(info.value)
    assert list(shared_tmp.iterdir()) == []


def test_port_taken_after_it_was_chosen_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        real_free_port = pgcluster._free_port
        ports = iter([taken])
        monkeypatch.setattr(pgcluster, "_free_port", lambda: next(ports, None) or real_free_port())
        with running_cluster() as pg:
            assert pg.port != taken
            with pg.connect() as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)


def test_long_base_dir_gets_a_short_socket_dir(shared_tmp: Path) -> None:
    base = shared_tmp / ("x" * 90)
    with running_cluster(base) as pg:
        assert pg.datadir.is_relative_to(base)
        assert pg.socket_dir != pg.datadir
        assert len(os.fsencode(pg.socket_dir)) + len("/.s.PGSQL.65535") <= 107
        with psycopg.connect(
            host=str(pg.socket_dir), port=pg.port, user=pg.user, dbname="postgres"
        ) as conn:
            assert conn.execute("SELECT inet_server_addr()").fetchone() == (None,)  # unix socket
        socket_dir = pg.socket_dir
    assert not socket_dir.exists()
    assert list(base.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs a reachable base_dir")
def test_base_dir_unreachable_by_server_user_is_reported(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(RuntimeError, match="not reachable"):
        start_cluster(private / "nested")
    assert list((private / "nested").iterdir()) == []


def test_bindir_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = find_bindir()
    assert real is not None
    monkeypatch.setenv(pgcluster.BINDIR_ENV, str(tmp_path))
    with pytest.raises(RuntimeError, match="lacks initdb, pg_ctl, postgres"):
        find_bindir()
    assert postgres_available() is False
    monkeypatch.setenv(pgcluster.BINDIR_ENV, str(real))
    assert find_bindir() == real


def test_url_quotes_names() -> None:
    pg = PgCluster(datadir=Path("/nonexistent"), port=5433)
    assert pg.url() == "postgresql+psycopg://webleads@127.0.0.1:5433/postgres"
    assert pg.url("a b/c", driver="postgresql") == "postgresql://webleads@127.0.0.1:5433/a%20b%2Fc"

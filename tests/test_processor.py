"""WEBLEADS_PROCESSOR=separate: collect acknowledges once hits are in the hit queue; the
processor stores them exactly as the inline mode would, and a bad row never blocks it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer, serve_in_thread
from webleads import processor as processor_module
from webleads.app import create_app
from webleads.db import hit_queue as queue_sql
from webleads.db import store
from webleads.db.engine import create_engine
from webleads.db.migrate import upgrade
from webleads.db.schema import accounts, hit_queue, hits, quarantine, sessions, visitors
from webleads.model import Hit
from webleads.processor import Processor
from webleads.settings import Settings
from webleads.sites import NewSite, SiteBook, create_site

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
NETWORKS = ("cidr,asn,as_org,org_name,org_domain,category,country\n"
            "203.0.113.0/24,64500,ACME-AS,Acme Corp,acme.fr,enterprise,FR\n"
            "198.51.100.0/24,64501,Some ISP,,,isp,FR\n")


@pytest.fixture
def ranges(tmp_path: Path) -> str:
    path = tmp_path / "ranges.csv"
    path.write_text(NETWORKS)
    return str(path)


def make_server(settings: Settings, engine: Engine, mode: str, ranges: str,
                **extra: Any) -> LiveServer:
    config = settings.model_copy(update={"processor": mode, "network_ranges": ranges,
                                         "trusted_proxies": "127.0.0.1/32", **extra})
    return serve_in_thread(create_app(config, engine=engine))


@pytest.fixture
def separate(settings: Settings, engine: Engine, ranges: str) -> Iterator[LiveServer]:
    server = make_server(settings, engine, "separate", ranges)
    yield server
    server.stop()


def traffic(key: str) -> list[tuple[list[dict[str, Any]], dict[str, str]]]:
    """Requests of three visitors: an organisation's, an ISP's, one identified."""
    acme = {"x-forwarded-for": "203.0.113.7", "user-agent": CHROME}
    isp = {"x-forwarded-for": "198.51.100.9", "user-agent": FIREFOX}
    out = []
    for i in range(6):
        out.append(([{"site": key, "type": "pageview", "visitor": "acme-visitor-01",
                      "url": f"https://example.com/p{i}?utm_source=news",
                      "ts": 1_790_000_000_000 + i * 60_000}], acme))
    out.append(([{"site": key, "type": "engagement", "visitor": "acme-visitor-01",
                  "url": "https://example.com/p5", "engaged_ms": 4000,
                  "ts": 1_790_000_000_000 + 6 * 60_000}], acme))
    out.append(([{"site": key, "type": "pageview", "visitor": "isp-visitor-001",
                  "url": "https://example.com/", "ts": 1_790_000_000_000}], isp))
    out.append(([{"site": key, "type": "identify", "visitor": "isp-visitor-001",
                  "email": "jane@acme.fr", "url": "https://example.com/contact",
                  "ts": 1_790_000_060_000}], isp))
    return out


def send(server: LiveServer, body: Any, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{server.url}/api/collect", content=json.dumps(body).encode(),
                      headers={"content-type": "text/plain", **headers}, timeout=10)


def count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


@pytest.fixture
def queue(engine: Engine) -> Iterator[Engine]:
    """Where the hit queue is: PostgreSQL's own database, SQLite's FILE-queue."""
    made = queue_sql.queue_engine(engine, sqlite_synchronous="NORMAL")
    yield made
    if made is not engine:
        made.dispose()


def processor_for(engine: Engine, **options: Any) -> Processor:
    return Processor(engine, SiteBook(engine).get,
                     queue=queue_sql.queue_engine(engine, sqlite_synchronous="NORMAL"),
                     **options)


SNAPSHOT_HITS = ("type", "url", "visitor_key", "engaged_ms", "ip", "ip_anon", "org_name",
                 "network_category", "browser", "source_class", "utm_source")


def snapshot(engine: Engine) -> dict[str, Any]:
    """What the reports read, without ids and times of arrival."""
    with engine.connect() as conn:
        hit_rows = sorted(tuple(str(r[c]) for c in SNAPSHOT_HITS) for r in conn.execute(
            sa.select(hits)).mappings())
        session_rows = sorted((r.visitor_key, r.hits, r.pageviews, r.engaged_ms)
                              for r in conn.execute(sa.select(sessions)))
        account_rows = sorted((r.name, r.visits, r.pageviews, r.engaged_ms)
                              for r in conn.execute(sa.select(accounts)))
        contacts_linked = conn.scalar(sa.select(sa.func.count()).select_from(visitors)
                                      .where(visitors.c.contact_id.is_not(None)))
    return {"hits": hit_rows, "sessions": session_rows, "accounts": account_rows,
            "contacts_linked": contacts_linked}


def test_acknowledged_hits_wait_in_the_queue_then_are_stored_as_inline_would(
        separate: LiveServer, settings: Settings, engine: Engine, queue: Engine, site: NewSite,
        ranges: str, tmp_path: Path) -> None:
    key = site.site.key
    for body, headers in traffic(key):
        r = send(separate, body, headers)
        assert (r.status_code, r.json()) == (202, {"accepted": 1, "dropped": 0}), r.text
    # Acknowledged: durably queued, not yet in the reports.
    assert count(engine, hits) == 0
    assert count(queue, hit_queue) >= 1
    with queue.connect() as conn:
        assert queue_sql.backlog(conn)[0] == 9
        payloads = b"".join(p for p in conn.scalars(sa.select(hit_queue.c.payload)))
    assert count(engine, hit_queue) == 0 or queue is engine
    # The queue holds the enriched hit: no raw address (the site keeps none).
    assert b"203.0.113.7" not in payloads and b"198.51.100.9" not in payloads
    assert b"203.0.113.0" in payloads  # the truncated one

    # One queued row (one request here) per transaction, as the inline writer commits
    # these sequential requests: the same batches give the same rows.
    assert processor_for(engine, batch_max=1).drain() == 9
    assert count(queue, hit_queue) == 0
    separate_view = snapshot(engine)

    # The same traffic through the inline processor, on a database of its own.
    other = create_engine(f"sqlite:///{tmp_path / 'inline.db'}", sqlite_synchronous="NORMAL")
    upgrade(other)
    made = create_site(other, "Example", "example.com", origins=["http://127.0.0.1"])
    inline = make_server(settings.model_copy(update={"database_url": str(other.url)}), other,
                         "inline", ranges)
    try:
        for body, headers in traffic(made.site.key):
            assert send(inline, body, headers).status_code == 202
        assert count(queue_sql.queue_engine(other), hit_queue) == 0
        inline_view = snapshot(other)
        for mine, theirs in zip(separate_view["hits"], inline_view["hits"], strict=True):
            assert mine == theirs
        assert inline_view == separate_view
    finally:
        inline.stop()
        other.dispose()
    assert separate_view["accounts"] == [("Acme Corp", 1, 6, 4000)]
    assert separate_view["contacts_linked"] == 1
    assert len(separate_view["hits"]) == 9


def test_the_backlog_is_bounded_with_503_and_retry_after(
        settings: Settings, engine: Engine, site: NewSite, ranges: str) -> None:
    server = make_server(settings, engine, "separate", ranges, hit_queue_max=5)
    key = site.site.key
    statuses = []
    try:
        for i in range(12):
            r = send(server, [{"site": key, "type": "pageview", "visitor": f"visitor-{i:08d}",
                               "url": "https://example.com/"}], {"user-agent": CHROME})
            statuses.append(r.status_code)
            if r.status_code == 503:
                assert r.headers["retry-after"] == "2"
                assert r.json()["error"] == "overloaded"
        metrics = httpx.get(f"{server.url}/metrics").text
        ready = httpx.get(f"{server.url}/readyz").json()
    finally:
        server.stop()
    accepted = statuses.count(202)
    assert 5 <= accepted < 12 and set(statuses) == {202, 503}, statuses
    assert "webleads_hit_queue_backlog" in metrics
    assert ready["hit_queue"] >= 5
    # Nothing acknowledged is lost: the processor stores exactly the accepted hits.
    assert processor_for(engine).drain() == accepted
    assert count(engine, hits) == accepted


def test_a_row_that_does_not_decode_goes_to_quarantine_and_the_queue_goes_on(
        separate: LiveServer, engine: Engine, queue: Engine, site: NewSite) -> None:
    from datetime import UTC, datetime

    queue_sql.enqueue_now(queue, datetime.now(UTC), 3, b"\xc1 not msgpack")
    for body, headers in traffic(site.site.key)[:2]:
        assert send(separate, body, headers).status_code == 202
    proc = processor_for(engine)
    assert proc.drain() == 3 + 2
    assert count(engine, hits) == 2 and count(queue, hit_queue) == 0
    with engine.connect() as conn:
        [row] = conn.execute(sa.select(quarantine)).all()
    assert (row.endpoint, row.reason) == ("processor", "undecodable")
    assert row.payload == b"\xc1 not msgpack"
    assert proc.quarantined == 3


def test_a_hit_the_database_refuses_is_quarantined_its_neighbours_stored(
        separate: LiveServer, engine: Engine, queue: Engine, site: NewSite,
        monkeypatch: pytest.MonkeyPatch) -> None:
    key = site.site.key
    body = [{"site": key, "type": "pageview", "visitor": "visitor-poison1",
             "url": f"https://example.com/{name}"} for name in ("a", "poison", "b")]
    assert send(separate, body, {"user-agent": CHROME}).status_code == 202
    real = store.store_hits

    def refusing(conn: Any, batch: list[Hit], **kw: Any) -> Any:
        # Stands for a value the database refuses: a NOT NULL constraint fails inside it.
        if any(h.url.endswith("/poison") for h in batch):
            conn.execute(hit_queue.insert().values(enqueued_at=None, hits=1, payload=b""))
        return real(conn, batch, **kw)

    monkeypatch.setattr(store, "store_hits", refusing)
    proc = processor_for(engine)
    assert proc.drain() == 3
    with engine.connect() as conn:
        urls = sorted(conn.scalars(sa.select(hits.c.url)))
        [row] = conn.execute(sa.select(quarantine)).all()
    assert urls == ["https://example.com/a", "https://example.com/b"]
    assert (row.reason, row.site_key) == ("unstorable", key)
    assert b"/poison" in row.payload
    assert count(queue, hit_queue) == 0


def test_the_processor_thread_stores_while_the_server_acknowledges(
        separate: LiveServer, engine: Engine, queue: Engine, site: NewSite) -> None:
    stop = threading.Event()
    proc = processor_for(engine)
    worker = threading.Thread(target=proc.run, args=(stop,), daemon=True)
    worker.start()
    try:
        for body, headers in traffic(site.site.key):
            assert send(separate, body, headers).status_code == 202
        deadline = time.monotonic() + 10
        while count(engine, hits) < 9 and time.monotonic() < deadline:
            stop.wait(0.02)
    finally:
        stop.set()
        worker.join(10)
    assert count(engine, hits) == 9 and count(queue, hit_queue) == 0
    assert not worker.is_alive()


def test_inline_serve_stores_what_a_separate_run_left_queued(
        settings: Settings, engine: Engine, site: NewSite, ranges: str) -> None:
    server = make_server(settings, engine, "separate", ranges)
    try:
        for body, headers in traffic(site.site.key)[:3]:
            assert send(server, body, headers).status_code == 202
    finally:
        server.stop()
    assert count(engine, hits) == 0
    n = processor_module.drain_queue(settings)
    assert n == 3 and count(engine, hits) == 3


def test_a_row_stored_but_not_yet_deleted_is_not_stored_twice(
        separate: LiveServer, engine: Engine, queue: Engine, site: NewSite) -> None:
    """A crash after the hits' commit and before the queue row's deletion: with the
    queue in a file of its own (SQLite), the mark committed with the hits says so."""
    for body, headers in traffic(site.site.key)[:3]:
        assert send(separate, body, headers).status_code == 202
    with queue.connect() as conn:
        saved = [tuple(r) for r in conn.execute(sa.select(hit_queue))]
    assert processor_for(engine).drain() == 3
    with queue.begin() as conn:  # the rows are back, as if never deleted
        conn.execute(hit_queue.insert(), [dict(zip(("id", "enqueued_at", "hits", "payload"),
                                                   row, strict=True)) for row in saved])
    if queue is engine:
        # PostgreSQL: the rows would have been deleted in the hits' transaction; back
        # in the table they are new rows, which is not this case.
        return
    assert processor_for(engine).drain() == 0
    assert count(engine, hits) == 3 and count(queue, hit_queue) == 0


def test_a_new_queue_file_starts_past_the_mark(
        settings: Settings, engine: Engine, site: NewSite, ranges: str) -> None:
    """SQLite: a queue file removed (or lost) after rows were stored must not number its
    new rows below the mark, where the processor would take them for stored ones."""
    for round_ in range(2):
        server = make_server(settings, engine, "separate", ranges)
        try:
            for body, headers in traffic(site.site.key)[:2]:
                assert send(server, body, headers).status_code == 202
        finally:
            server.stop()
        assert processor_for(engine).drain() == 2
        assert count(engine, hits) == 2 * (round_ + 1)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{engine.url.database}-queue{suffix}").unlink(missing_ok=True)


def gauge(server: LiveServer, name: str) -> float:
    for line in httpx.get(f"{server.url}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} missing from /metrics")


def test_metrics_show_a_stopped_processor_and_its_recovery(
        separate: LiveServer, engine: Engine, site: NewSite) -> None:
    for body, headers in traffic(site.site.key)[:3]:
        assert send(separate, body, headers).status_code == 202
    time.sleep(1.1)  # the gauges are read at most once a second
    assert gauge(separate, "webleads_hit_queue_backlog") == 3
    assert gauge(separate, "webleads_hit_queue_oldest_seconds") >= 1.0
    assert httpx.get(f"{separate.url}/readyz").json()["hit_queue"] == 3
    assert processor_for(engine).drain() == 3
    time.sleep(1.1)
    # No hit arrives any more: /metrics itself refreshes the gauges.
    assert gauge(separate, "webleads_hit_queue_backlog") == 0
    assert gauge(separate, "webleads_hit_queue_oldest_seconds") == 0


def test_an_erasure_also_erases_hits_still_in_the_queue(
        separate: LiveServer, engine: Engine, queue: Engine, site: NewSite) -> None:
    from webleads.db.schema import contacts
    from webleads.privacy.subjects import erase_subject

    for body, headers in traffic(site.site.key)[7:]:  # a page view, then identify jane@
        assert send(separate, body, headers).status_code == 202
    assert count(engine, hits) == 0 and count(queue, hit_queue) >= 1
    report = erase_subject(engine, "Jane@acme.fr", by="test")
    assert report.contacts == 1 and report.hits == 2
    assert count(queue, hit_queue) == 0
    # Nothing comes back: the processor finds the queue empty.
    assert processor_for(engine).drain() == 0
    assert count(engine, contacts) == 0 and count(engine, hits) == 0


def test_two_processors_side_by_side_store_each_hit_once(
        separate: LiveServer, engine: Engine, queue: Engine, site: NewSite) -> None:
    """Several processors may run at once (PostgreSQL: rows taken with SKIP LOCKED;
    SQLite: the mark is read in the write transaction).  Four visitors, two of them an
    organisation's, spread over 48 queue rows; two processors taking 5 hits a step.
    On PostgreSQL both must have stored some; on SQLite one may well have stored all
    (the other sleeps in SQLite's busy handler while the first retakes the write lock
    after each commit: SQLite has one writer, so a second processor brings nothing)."""
    key = site.site.key
    expected: dict[str, int] = {}
    for i in range(48):
        visitor = f"side-visitor-{i % 4:03d}"
        ip = "203.0.113.7" if i % 4 < 2 else "198.51.100.9"
        body = [{"site": key, "type": "pageview", "visitor": visitor,
                 "url": f"https://example.com/side/{i}/{j}",
                 "ts": 1_790_000_000_000 + (i * 3 + j) * 1000} for j in range(1 + i % 3)]
        r = send(separate, body, {"x-forwarded-for": ip, "user-agent": CHROME})
        assert r.status_code == 202, r.text
        expected[visitor] = expected.get(visitor, 0) + len(body)
    assert count(queue, hit_queue) >= 40  # sent one by one: about a row each

    processors = [processor_for(engine, batch_max=5) for _ in range(2)]
    start = threading.Barrier(2)
    handled = [0, 0]
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            start.wait(10)
            handled[n] = processors[n].drain()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for proc in processors:
        proc.dispose()
    assert not errors, errors
    total = sum(expected.values())
    assert sum(handled) == total, handled  # none twice
    if engine.dialect.name == "postgresql":
        assert all(handled), handled  # both worked
    assert count(engine, hits) == total and count(queue, hit_queue) == 0
    with engine.connect() as conn:
        per_visitor = dict(conn.execute(
            sa.select(hits.c.visitor_key, sa.func.count()).group_by(hits.c.visitor_key)).all())
        in_sessions = dict(conn.execute(
            sa.select(sessions.c.visitor_key, sa.func.sum(sessions.c.hits))
            .group_by(sessions.c.visitor_key)).all())
        urls = conn.scalars(sa.select(hits.c.url)).all()
        acme = conn.execute(sa.select(accounts.c.name, accounts.c.pageviews)).all()
    assert len(set(urls)) == total
    assert sorted(per_visitor.values()) == sorted(expected.values())
    assert in_sessions == per_visitor  # session counters add up to the stored hits
    assert acme == [("Acme Corp", expected["side-visitor-000"] + expected["side-visitor-001"])]


def test_webleads_hits_tells_of_hits_still_in_the_queue(
        separate: LiveServer, engine: Engine, site: NewSite, db_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A user checking the tag while the processor is stopped sees why the list is
    empty; the JSON output stays JSON (the note goes to standard error)."""
    from typer.testing import CliRunner

    from webleads.cli import app as cli_app

    monkeypatch.setenv("WEBLEADS_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "300")
    runner = CliRunner()
    key = site.site.key

    def hits_cli(*extra: str, lang: str = "en") -> Any:
        monkeypatch.setenv("WEBLEADS_LANG", lang)
        return runner.invoke(cli_app, ["hits", "--site", key, *extra], catch_exceptions=False)

    before = hits_cli()
    assert before.exit_code == 0 and "hit queue" not in before.stderr  # nothing queued
    for body, headers in traffic(key)[:3]:
        assert send(separate, body, headers).status_code == 202
    waiting = hits_cli()
    assert waiting.exit_code == 0, waiting.output
    assert "No hit stored yet" in waiting.stdout
    note = " ".join(waiting.stderr.split())
    assert "3 acknowledged hits (all sites) wait in the hit queue" in note
    assert "webleads process" in note
    as_json = hits_cli("--json")
    assert json.loads(as_json.stdout) == [] and "3 acknowledged" in as_json.stderr
    french = " ".join(hits_cli(lang="fr").stderr.split())
    assert "3 hits acquittés (tous sites) attendent dans la file des hits" in french

    assert processor_for(engine).drain() == 3
    after = hits_cli()
    assert after.exit_code == 0 and "hit queue" not in after.stderr
    assert after.stdout.count("pageview") == 3

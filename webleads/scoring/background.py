"""Whole-workspace rescores asked for from the dashboard, run in the background.

Saving a scoring rule changes every account's score.  Computed in the request, that
took about 30 s on a million hits, behind a proxy's timeout, in one transaction that
held SQLite's write lock all along.  Instead the save records a request
(``rescore_requests``) in its own transaction, and ``webleads serve``'s worker thread
(``RescoreWorker``) rescores the workspace a slice of accounts at a time, each slice in
a transaction of its own (``rescore.rescore_subjects``: the same engine, exactly the
lines and sums a whole rescore gives those accounts), so that collect, the processor
and other users' changes go on meanwhile.  Until it ends, accounts not reached yet
keep their former scores; the scoring page says that a rescore is under way.

Requests are per workspace and coalesce: a rule saved while a rescore runs marks the
workspace pending again, and one more pass follows.  Several server processes may
run workers: a request is claimed by setting its heartbeat (``started_at``), which the
runner refreshes after every slice; a request whose runner went silent for ``STALE``
is claimed again (a slice is idempotent).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from webleads.db import dialect
from webleads.db import scoring as db
from webleads.db.engine import read_only
from webleads.db.schema import hits
from webleads.db.schema_scoring import rescore_requests, score_ledger
from webleads.scoring import decay
from webleads.scoring.incremental import default_config
from webleads.scoring.rescore import RescoreReport, rescore_subjects

log = logging.getLogger("webleads.scoring.background")

SLICE = 500  # accounts, or contacts without an account, per transaction
STALE = timedelta(minutes=2)  # a runner silent this long is replaced
r = rescore_requests.c


@dataclass(frozen=True, slots=True)
class RescoreStatus:
    """A workspace's pending rescore, for the scoring page."""

    requested_at: datetime
    requested_by: str
    running: bool
    error: str | None


def request(conn: Connection, workspace_id: int, *, by: str, now: datetime) -> None:
    """Ask for a rescore of the workspace (in the caller's transaction: with the change
    that needs it)."""
    values = {"requested_at": now, "requested_by": by[:320]}
    stmt = dialect.insert(conn, rescore_requests).values(workspace_id=workspace_id, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["workspace_id"], set_=values))


def status(conn: Connection, workspace_id: int, *, now: datetime) -> RescoreStatus | None:
    """The pending rescore of the workspace, or None."""
    row = conn.execute(sa.select(rescore_requests).where(
        r.workspace_id == workspace_id, _pending())).first()
    if row is None:
        return None
    running = row.started_at is not None and row.started_at >= now - STALE and not row.error
    return RescoreStatus(row.requested_at, row.requested_by, running, row.error)


def _pending() -> sa.ColumnElement[bool]:
    return sa.or_(r.done_at.is_(None), r.done_at < r.requested_at)


def run_pending(engine: Engine, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                slice_size: int = SLICE) -> list[RescoreReport]:
    """Rescore every workspace with a claimable request; the reports of those done."""
    now = clock()
    with read_only(engine) as conn, conn.begin():
        waiting = [int(w) for w in conn.scalars(
            sa.select(r.workspace_id).where(_pending(), _claimable(now))
            .order_by(r.requested_at))]
    reports = []
    for workspace_id in waiting:
        asked = _claim(engine, workspace_id, clock())
        if asked is None:
            continue  # another runner took it
        def beat(seconds: float, ws: int = workspace_id) -> None:
            _beat(engine, ws, clock())

        try:
            report = rescore_in_slices(engine, workspace_id, now=clock(),
                                       slice_size=slice_size, heartbeat=beat)
        except Exception as exc:  # noqa: BLE001 - kept on the request, retried later
            log.exception("the rescore of workspace %s failed", workspace_id)
            with engine.begin() as conn:
                conn.execute(sa.update(rescore_requests)
                             .where(r.workspace_id == workspace_id)
                             .values(started_at=clock(), error=str(exc)[:1000]))
            continue
        with engine.begin() as conn:
            db.rescore_done(conn, workspace_id, asked, report.hits)
            # Released: a change saved during the run is claimable at the next pass.
            conn.execute(sa.update(rescore_requests).where(r.workspace_id == workspace_id)
                         .values(started_at=None))
        log.info("workspace %s rescored: %d hits, %d lines", workspace_id, report.hits,
                 report.lines)
        reports.append(report)
    return reports


def _claimable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(r.started_at.is_(None), r.started_at < now - STALE)


def _claim(engine: Engine, workspace_id: int, now: datetime) -> datetime | None:
    """Take the request (its heartbeat set to now); the time it was asked, or None."""
    with engine.begin() as conn:
        taken = conn.execute(sa.update(rescore_requests).where(
            r.workspace_id == workspace_id, _pending(), _claimable(now))
            .values(started_at=now)).rowcount
        if taken != 1:
            return None
        asked: datetime | None = conn.scalar(sa.select(r.requested_at)
                                             .where(r.workspace_id == workspace_id))
        return asked


def _beat(engine: Engine, workspace_id: int, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(rescore_requests).where(r.workspace_id == workspace_id)
                     .values(started_at=now))


def rescore_in_slices(engine: Engine, workspace_id: int, *, now: datetime,
                      slice_size: int = SLICE,
                      heartbeat: Callable[[float], None] = lambda seconds: None
                      ) -> RescoreReport:
    """Rescore the workspace a slice of subjects at a time; the same ledger and sums as
    ``rescore.rescore_workspace`` once done (the epoch moved first when it must).
    ``heartbeat`` is called after each slice with the seconds its transaction took."""
    _rebase_if_due(engine, workspace_id, now)
    with read_only(engine) as conn, conn.begin():
        site_ids = db.workspace_sites(conn, workspace_id)
        account_ids, contact_ids = _subjects(conn, workspace_id, site_ids)
    total_hits = total_lines = 0
    for accounts_, contacts_ in [*((account_ids[i:i + slice_size], []) for i in
                                  range(0, len(account_ids), slice_size)),
                                 *(([], contact_ids[i:i + slice_size]) for i in
                                   range(0, len(contact_ids), slice_size))]:
        for _ in range(3):
            started = time.perf_counter()
            with engine.begin() as conn:
                done = rescore_subjects(conn, workspace_id, account_ids=accounts_,
                                        contact_ids=contacts_, now=now)
            if done is not None:
                break
            _rebase_if_due(engine, workspace_id, now)  # new hits moved the epoch's horizon
        else:
            raise RuntimeError("the decay epoch kept moving during the rescore")
        total_hits += done.hits
        total_lines += done.lines
        heartbeat(time.perf_counter() - started)
    return RescoreReport(workspace_id, total_hits, total_lines)


def _rebase_if_due(engine: Engine, workspace_id: int, now: datetime) -> None:
    """Move the epoch (every weight computed again) when the newest scored hit is too
    far from it, as a whole rescore would before computing its lines."""
    with engine.begin() as conn:
        state = db.workspace_states(conn, [workspace_id], defaults=default_config(),
                                    now=now)[workspace_id]
        latest = db.latest_scored_hit(conn, db.workspace_sites(conn, workspace_id))
        if latest is not None and decay.needs_rebase(latest, state.epoch,
                                                     state.half_life_days):
            db.set_epoch(conn, workspace_id, decay.new_epoch(latest),
                         half_life_days=state.half_life_days)


def _subjects(conn: Connection, workspace_id: int, site_ids: Sequence[int]
              ) -> tuple[list[int], list[int]]:
    """The accounts, and the contacts without an account, that have scoring hits or
    ledger lines in the workspace (lines of a subject left without hits go too)."""
    h, lg = hits.c, score_ledger.c
    accounts_: set[int] = set()
    contacts_: set[int] = set()
    if site_ids:
        in_sites = h.site_id.in_(site_ids)
        accounts_.update(int(a) for a in conn.scalars(
            sa.select(h.account_id).where(in_sites, h.account_id.is_not(None)).distinct()))
        contacts_.update(int(c) for c in conn.scalars(
            sa.select(h.contact_id).where(in_sites, h.account_id.is_(None),
                                          h.contact_id.is_not(None)).distinct()))
    mine = lg.workspace_id == workspace_id
    accounts_.update(int(a) for a in conn.scalars(
        sa.select(lg.account_id).where(mine, lg.account_id.is_not(None)).distinct()))
    contacts_.update(int(c) for c in conn.scalars(
        sa.select(lg.contact_id).where(mine, lg.account_id.is_(None),
                                       lg.contact_id.is_not(None)).distinct()))
    return sorted(accounts_), sorted(contacts_)


class RescoreWorker:
    """``webleads serve``'s thread that runs the requested rescores: at once when this
    process asked (``wake``), else within ``poll`` seconds (another process asked)."""

    def __init__(self, engine: Engine, *, poll: float = 2.0) -> None:
        self._engine = engine
        self._poll = poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="webleads-rescores",
                                        daemon=True)
        self.runs = 0  # passes over the requests (for tests)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                run_pending(self._engine)
            except Exception:  # the database is away: the next pass tries again
                log.exception("the rescore worker could not read its requests")
            self.runs += 1
            self._wake.wait(self._poll)
            self._wake.clear()

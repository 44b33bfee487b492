"""A scoring rule saved from the dashboard is rescored in the background, a slice of
accounts at a time, and ends exactly where a whole rescore does; on both engines.

Two databases get the same history (tests/test_correct_targeted.py's generator) and
the same change of rules: the first as the dashboard makes it under ``webleads serve``
(the change and a request in one transaction; ``run_pending`` in slices of three
accounts), the second saved and rescored whole.  Ledger and sums must be identical.
The requests' life (claim, heartbeat, coalescing, a stale runner replaced, a failure
kept and retried), the worker thread, and the scoring page's notice are tested too.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.dashboard import Browser, add_user, text
from tests.test_correct_targeted import NOW, fill, snapshot, twin  # noqa: F401 - fixture
from webleads.app import WebleadsApp, create_app
from webleads.db.schema import accounts
from webleads.db.schema_scoring import account_scores, rescore_requests
from webleads.scoring import background
from webleads.scoring.setup import Setup, current_setup, save
from webleads.settings import Settings

AT = datetime(2026, 10, 7, 9, 0, tzinfo=UTC)  # the change, after the history (NOW)


def changed(engine: Engine, workspace_id: int) -> Setup:
    """The workspace's rules with every behaviour rule worth 3 points more and the
    first capped rule's cap raised: every account's lines change."""
    with engine.begin() as conn:
        setup = current_setup(conn, workspace_id, now=AT)
    capped = next(i for i, rule in enumerate(setup.rules) if rule.cap)
    rules = [replace(rule, points=rule.points + 3,
                     cap=(rule.cap or 0) + 1 if i == capped else rule.cap)
             for i, rule in enumerate(setup.rules)]
    return replace(setup, rules=tuple(rules))


def pending(engine: Engine, workspace_id: int) -> background.RescoreStatus | None:
    with engine.connect() as conn:
        return background.status(conn, workspace_id, now=datetime.now(UTC))


def test_a_rescore_in_slices_ends_where_a_whole_rescore_does(
        engine: Engine, twin: Engine) -> None:  # noqa: F811 - the fixture
    site, other = fill(engine), fill(twin)
    ws = site.workspace_id
    before = snapshot(engine)
    assert save(engine, ws, changed(engine, ws), actor="mk@example.com",
                action="scoring.rule", details={}, now=AT, later=True) is None
    assert snapshot(engine) == before  # the change is saved; the points wait
    status = pending(engine, ws)
    assert status is not None and status.requested_by == "mk@example.com"
    assert not status.running

    save(twin, other.workspace_id, changed(twin, other.workspace_id), actor="mk@example.com",
         action="scoring.rule", details={}, now=AT)  # whole, in the request

    reports = background.run_pending(engine, clock=lambda: AT + timedelta(seconds=5),
                                     slice_size=3)
    assert [r.workspace_id for r in reports] == [ws] and reports[0].hits > 0
    after, reference = snapshot(engine), snapshot(twin)
    for key in ("ledger", "account_scores", "interest", "contact_scores"):
        assert after[key] == reference[key], key
    assert after["account_scores"] != before["account_scores"]
    assert pending(engine, ws) is None
    assert background.run_pending(engine) == []  # nothing left to do


def request_row(engine: Engine, workspace_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.select(rescore_requests)
                            .where(rescore_requests.c.workspace_id == workspace_id)).one()


def test_requests_are_claimed_once_coalesce_and_outlive_their_runner(engine: Engine,
                                                                     site: Any) -> None:
    ws = site.site.workspace_id
    with engine.begin() as conn:
        background.request(conn, ws, by="a@example.com", now=AT)
    assert background._claim(engine, ws, AT + timedelta(seconds=1)) == AT
    # Running: another process does not take it ...
    assert background._claim(engine, ws, AT + timedelta(seconds=30)) is None
    assert background.run_pending(engine, clock=lambda: AT + timedelta(seconds=30)) == []
    # ... until its runner has been silent for STALE (it died): then it is taken again.
    late = AT + background.STALE + timedelta(seconds=2)
    assert background._claim(engine, ws, late) == AT
    # A change saved during the run: the run ends, and the workspace is pending again.
    with engine.begin() as conn:
        background.request(conn, ws, by="b@example.com", now=late + timedelta(seconds=1))
    with engine.begin() as conn:  # what run_pending writes at the end of that run
        conn.execute(sa.update(rescore_requests).values(done_at=AT, started_at=None))
    status = pending(engine, ws)
    assert status is not None and status.requested_by == "b@example.com"
    reports = background.run_pending(engine, clock=lambda: late + timedelta(seconds=5))
    assert [r.workspace_id for r in reports] == [ws]
    row = request_row(engine, ws)
    assert row.done_at == late + timedelta(seconds=1) and row.started_at is None
    assert pending(engine, ws) is None


def test_a_failed_rescore_is_kept_shown_and_retried(engine: Engine, site: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ws = site.site.workspace_id
    with engine.begin() as conn:
        background.request(conn, ws, by="a@example.com", now=AT)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(background, "rescore_in_slices", broken)
    assert background.run_pending(engine, clock=lambda: AT) == []
    with engine.connect() as conn:
        status = background.status(conn, ws, now=AT + timedelta(seconds=1))
    assert status is not None and status.error == "disk full" and not status.running
    # Not retried at once (no hot loop), but after STALE.
    monkeypatch.undo()
    assert background.run_pending(engine, clock=lambda: AT + timedelta(seconds=10)) == []
    retried = background.run_pending(
        engine, clock=lambda: AT + background.STALE + timedelta(seconds=1))
    assert [r.workspace_id for r in retried] == [ws]
    assert request_row(engine, ws).error is None and pending(engine, ws) is None


def test_the_worker_thread_runs_what_is_asked(engine: Engine, site: Any) -> None:
    ws = site.site.workspace_id
    worker = background.RescoreWorker(engine, poll=30.0)  # only a wake starts a pass early
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while worker.runs == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        with engine.begin() as conn:
            background.request(conn, ws, by="a@example.com", now=datetime.now(UTC))
        worker.wake()
        while pending(engine, ws) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pending(engine, ws) is None
    finally:
        worker.stop()
    assert worker.runs >= 2


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Iterator[WebleadsApp]:
    made = create_app(settings, engine=engine)
    yield made


def score_of(engine: Engine, name: str) -> int | None:
    with engine.connect() as conn:
        return conn.scalar(sa.select(account_scores.c.points)
                           .join(accounts, accounts.c.id == account_scores.c.account_id)
                           .where(accounts.c.name == name))


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_saving_a_rule_under_serve_answers_at_once_and_says_so(
        app: WebleadsApp, engine: Engine, lang: str) -> None:
    """With a worker (``webleads serve``), the save answers before the rescore, the page
    says a rescore is under way, and the scores follow once it ran."""
    site = fill(engine)
    ws = site.workspace_id
    add_user(app, "mk@example.com", role="marketer", workspace=ws, locale=lang)
    app.web.rescores = background.RescoreWorker(engine)  # not started: the test runs it
    org0 = score_of(engine, "Org 0")
    with Browser(app, lang=lang) as b:
        b.login("mk@example.com")
        page = b.get(f"/w/{ws}/settings/scoring").text
        assert "data-rescore" not in page
        saved = b.post(f"/w/{ws}/settings/scoring/rules/new", {
            "label": "Pricing again", "points": "7", "enabled": "on", "types": "pageview",
            "path": "/pricing*", "action": "save"}, follow_redirects=True)
        flash = html.unescape(text(saved.text))
        assert ("in the background" if lang == "en" else "en arrière-plan") in flash
        assert 'data-rescore="pending"' in saved.text
        notice = ("The scores are being computed again after a change made just now by "
                  "mk@example.com" if lang == "en" else
                  "Les scores sont en cours de recalcul après une modification faite à "
                  "l’instant par mk@example.com")
        assert notice.replace("’", "'") in flash.replace("’", "'")
        assert score_of(engine, "Org 0") == org0  # not yet
        feed = b.get(f"/w/{ws}/accounts")  # the accounts feed says so too
        assert feed.status_code == 200 and 'data-rescore="pending"' in feed.text
        assert ("some accounts still show their former score" if lang == "en" else
                "certains comptes affichent encore leur score") in html.unescape(feed.text)
        assert [r.workspace_id for r in background.run_pending(engine)] == [ws]
        assert "data-rescore" not in b.get(f"/w/{ws}/settings/scoring").text
        assert "data-rescore" not in b.get(f"/w/{ws}/accounts").text
    assert score_of(engine, "Org 0") != org0


def test_a_change_saved_during_a_run_gets_a_pass_of_its_own(
        engine: Engine, site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = site.site.workspace_id
    with engine.begin() as conn:
        background.request(conn, ws, by="a@example.com", now=AT)
    real = background.rescore_in_slices
    runs: list[int] = []

    def with_a_save_meanwhile(engine_: Engine, workspace_id: int, **kw: Any) -> Any:
        runs.append(workspace_id)
        if len(runs) == 1:
            with engine_.begin() as conn:
                background.request(conn, workspace_id, by="b@example.com",
                                   now=AT + timedelta(seconds=3))
        return real(engine_, workspace_id, **kw)

    monkeypatch.setattr(background, "rescore_in_slices", with_a_save_meanwhile)
    later = AT + timedelta(seconds=10)
    assert len(background.run_pending(engine, clock=lambda: later)) == 1
    status = pending(engine, ws)
    assert status is not None and status.requested_by == "b@example.com"
    assert len(background.run_pending(engine, clock=lambda: later)) == 1  # at once
    assert runs == [ws, ws] and pending(engine, ws) is None


def test_a_whole_rescore_also_answers_the_requests_made_before_it(engine: Engine,
                                                                  site: Any) -> None:
    """``webleads rescore`` (or any whole rescore) leaves nothing for the worker."""
    from webleads.scoring.rescore import rescore

    ws = site.site.workspace_id
    with engine.begin() as conn:
        background.request(conn, ws, by="a@example.com", now=AT)
    rescore(engine, workspace_id=ws, now=AT + timedelta(seconds=1))
    assert pending(engine, ws) is None
    assert background.run_pending(engine) == []

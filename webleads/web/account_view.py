"""What the account page shows, read in one connection: the account, its score with
why and its history, fit grade, interest per product range, sessions with their pages,
contacts, owner, stage with history, notes, and the networks a correction can name.

The score history is computed from the score ledger exactly as the live score is: the
decay-invariant weights summed up to the end of each day, times the decay factor of
that moment (``scoring/decay.py``); one query of the ledger lines of the period, the
weight before the period being the account's sum minus theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from webleads.db import account_page as q
from webleads.db import lifecycle as lifecycle_db
from webleads.db import scoring as scoring_db
from webleads.db.lifecycle import HistoryLine
from webleads.lifecycle.model import Owner
from webleads.lifecycle.stages import Thresholds as StageThresholds
from webleads.scoring import decay, explain
from webleads.scoring.fit import Firmographics, FitRule, Thresholds, fit_points, grade, holds
from webleads.scoring.incremental import default_config
from webleads.scoring.model import Grade, Reason
from webleads.web.account_correct import NetworkChoice, network_choices

HISTORY_DAYS = 90
SESSIONS_PER_PAGE = 20
PAGES_PER_SESSION = 12


@dataclass(frozen=True, slots=True)
class SessionView:
    session: q.SessionRow
    pages: list[q.PageRow]
    more_pages: int  # pages of the session not listed


@dataclass(frozen=True, slots=True)
class Timeline:
    sessions: list[SessionView]
    next_before: int | None  # the session id to continue after, None at the end


@dataclass(frozen=True, slots=True)
class Fit:
    grade: Grade
    points: int
    thresholds: Thresholds
    reasons: list[FitRule]


@dataclass(frozen=True, slots=True)
class Event:
    """A line of the account's history: a stage change or an audited action."""

    at: datetime
    by: str
    kind: str  # stage, owner, correction
    stage: HistoryLine | None = None
    audit: q.AuditLine | None = None


@dataclass(frozen=True, slots=True)
class AccountPage:
    account: q.AccountRow
    score: float
    heat: str  # hot, warm, cold
    thresholds: StageThresholds
    reasons: list[Reason]
    history: list[tuple[date, float]]
    fit: Fit
    interest: list[tuple[str, float]]
    timeline: Timeline
    contacts: list[tuple[q.ContactRow, float]]
    owners: list[Owner]
    stage: str
    events: list[Event]
    notes: list[q.NoteRow]
    networks: list[NetworkChoice]


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def day_bounds(now: datetime, tz: str, days: int = HISTORY_DAYS) -> list[datetime]:
    """The local midnights that start each of the last ``days`` days, then ``now``
    (``days + 1`` instants, UTC): day k runs from bounds[k] to bounds[k + 1], today
    up to now."""
    zone = _zone(tz)
    today = now.astimezone(zone).date()
    bounds = [datetime.combine(today - timedelta(days=k), time(), zone).astimezone(UTC)
              for k in range(days - 1, -1, -1)]
    return [*bounds, now]


def score_history(bounds: list[datetime], sums: list[int], after_start: int,
                  total_weight: int, *, epoch: datetime, half_life_days: float
                  ) -> list[float]:
    """The score at each of ``bounds[1:]``: the weights up to that instant (the account's
    sum, minus the lines from ``bounds[0]`` on, plus those of the days up to it) times
    the decay factor of that instant."""
    running = total_weight - after_start
    out = []
    for end, added in zip(bounds[1:], sums, strict=True):
        running += added
        out.append(round(decay.value(running, end, epoch, half_life_days), 1))
    return out


def heat(score: float, thresholds: StageThresholds) -> str:
    if score >= thresholds.mql:
        return "hot"
    return "warm" if score >= thresholds.engaged else "cold"


def timeline(conn: Connection, account_id: int, *, before: q.Cursor | None,
             limit: int = SESSIONS_PER_PAGE) -> Timeline:
    rows = q.sessions_page(conn, account_id, before=before, limit=limit + 1)
    shown = rows[:limit]
    pages, totals = q.session_pages(conn, [s.id for s in shown],
                                    per_session=PAGES_PER_SESSION)
    return Timeline([SessionView(s, pages[s.id], max(totals[s.id] - len(pages[s.id]), 0))
                     for s in shown], shown[-1].id if len(rows) > limit else None)


def _fit(conn: Connection, account: q.AccountRow, state: scoring_db.WorkspaceState | None
         ) -> Fit:
    if state is not None:
        rules, thresholds = scoring_db.load_fit_rules(conn, account.workspace_id), state.grades
    else:  # before the workspace's first score: the defaults (nothing is written)
        config = default_config()
        rules, thresholds = list(config.fit or []), config.grades or Thresholds()
    firm = Firmographics(account.country, account.naf, account.headcount_band,
                         account.in_target, account.category)
    return Fit(grade(rules, firm, thresholds), fit_points(rules, firm), thresholds,
               [r for r in rules if r.enabled and holds(r, firm)])


def _events(stages: list[HistoryLine], audit: list[q.AuditLine]) -> list[Event]:
    kinds = {"account.owner": "owner", "network.override": "correction"}
    events = [Event(h.at, h.by, "stage", stage=h) for h in stages]
    events += [Event(a.at, a.actor, kinds[a.action], audit=a) for a in audit
               if a.action in kinds]
    return sorted(events, key=lambda e: e.at, reverse=True)


def load(conn: Connection, workspace_id: int, account_id: int, *, now: datetime, tz: str,
         networks: bool = True) -> AccountPage | None:
    """Everything the page shows; None when the workspace has no such account.
    ``networks``: the networks a correction can name (for those who may correct)."""
    account = q.account(conn, workspace_id, account_id)
    if account is None:
        return None
    state = scoring_db.load_state(conn, workspace_id)
    thresholds = lifecycle_db.read_settings(conn, workspace_id).thresholds
    score = 0.0
    history: list[tuple[date, float]] = []
    if state is not None:
        score = decay.value(account.weight, now, state.epoch, state.half_life_days)
        bounds = day_bounds(now, tz)
        sums, after_start = q.ledger_buckets(conn, account_id, bounds)
        values = score_history(bounds, sums, after_start, account.weight, epoch=state.epoch,
                               half_life_days=state.half_life_days)
        zone = _zone(tz)
        history = [(b.astimezone(zone).date(), v)
                   for b, v in zip(bounds[:-1], values, strict=True)]
    interest = sorted(explain.interest(conn, account_id, now).items(),
                      key=lambda p: (-p[1], p[0]))
    owners = [o for o in lifecycle_db.list_owners(conn, workspace_id)
              if o.active or o.id == account.owner_id]
    stage = account.stage or "anonymous"
    events = _events(lifecycle_db.history(conn, account_id),
                     q.audit_of(conn, workspace_id, f"account:{account_id}"))
    contacts = [(c, decay.value(c.weight, now, state.epoch, state.half_life_days)
                 if state is not None else 0.0)
                for c in q.account_contacts(conn, workspace_id, account_id)]
    return AccountPage(
        account=account, score=score, heat=heat(score, thresholds), thresholds=thresholds,
        reasons=explain.why(conn, account_id, now), history=history,
        fit=_fit(conn, account, state), interest=[(g, v) for g, v in interest if v > 0.05][:15],
        timeline=timeline(conn, account_id, before=None), contacts=contacts, owners=owners,
        stage=stage, events=events, notes=q.notes(conn, workspace_id, account_id),
        networks=network_choices(conn, account) if networks else [])

"""Why an account has its score, and the list of a site's accounts by priority.

``why`` groups the account's ledger lines by rule: "+20 pricing page ×2", "+15 came back
×3", and the points lost to decay ("-5 decay": what the lines are worth now minus their
raw points).  ``site_accounts`` lists a site's accounts with score (decayed now), fit
grade, priority = score × grade weight, stage, owner, buying committee (distinct
visitors of the last 7 days) and the top reasons.

The stage is a placeholder until the lifecycle work (issue 4, item 4): "engaged" from
the workspace's ``engaged_score`` on, "anonymous" below.  Owners come with the
assignment rules (item 5): empty for now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from webleads.db import scoring as db
from webleads.scoring import decay
from webleads.scoring.document import ScoringSettings
from webleads.scoring.fit import Firmographics, FitRule, Thresholds, grade, priority
from webleads.scoring.incremental import default_config
from webleads.scoring.model import Grade, Reason, Stage
from webleads.scoring.rules import Rule

COMMITTEE_DAYS = 7


def reasons(rows: Iterable[tuple[int | None, int, int, int]], rules: Mapping[int, Rule],
            state: db.WorkspaceState, now: datetime) -> list[Reason]:
    """Reasons from ledger sums (rule id, points per line, lines, weights), strongest
    first, then the decay."""
    out: list[Reason] = []
    raw_total, decayed_total = 0, 0.0
    for rule_id, points, count, weights in rows:
        rule = rules.get(rule_id) if rule_id is not None else None
        if rule is not None:
            name, label, label_fr = rule.name, rule.label, rule.label_fr
        elif rule_id is not None:
            name, label, label_fr = "deleted", f"deleted rule #{rule_id}", \
                f"règle supprimée n° {rule_id}"
        else:
            name, label, label_fr = "system", "adjustment", "ajustement"
        now_worth = decay.value(weights, now, state.epoch, state.half_life_days)
        raw_total += points * count
        decayed_total += now_worth
        out.append(Reason(rule_id, name, label, label_fr, points, count, points * count,
                          now_worth))
    out.sort(key=lambda r: (-abs(r.decayed), r.name))
    lost = decayed_total - raw_total
    if out and abs(lost) >= 0.5:  # shown as a whole number of points
        out.append(Reason(None, "decay", "decay", "décroissance", 0, 0, 0, lost))
    return out


def why(conn: Connection, account_id: int, now: datetime) -> list[Reason]:
    """Why the account has its score at ``now``: one reason per rule (and points per
    line), strongest first, then the points lost to decay."""
    workspace_id = db.account_workspace(conn, account_id)
    if workspace_id is None:
        return []
    state = db.load_state(conn, workspace_id)
    if state is None:
        return []
    rows = db.reason_sums(conn, [account_id])[account_id]
    rules = db.rules_by_id(conn, (r for r, _, _, _ in rows if r is not None))
    return reasons(rows, rules, state, now)


def account_score(conn: Connection, account_id: int, now: datetime) -> float:
    """The behaviour score of an account at ``now`` (0 when it never scored)."""
    found = db.account_sum(conn, account_id)
    state = db.load_state(conn, found[0]) if found else None
    if found is None or state is None:
        return 0.0
    return decay.value(found[1], now, state.epoch, state.half_life_days)


def contact_score(conn: Connection, contact_id: int, now: datetime) -> float:
    found = db.contact_sum(conn, contact_id)
    state = db.load_state(conn, found[0]) if found else None
    if found is None or state is None:
        return 0.0
    return decay.value(found[1], now, state.epoch, state.half_life_days)


def interest(conn: Connection, account_id: int, now: datetime) -> dict[str, float]:
    """Points per page group (product range) of an account at ``now``."""
    workspace_id = db.account_workspace(conn, account_id)
    state = db.load_state(conn, workspace_id) if workspace_id is not None else None
    if state is None:
        return {}
    sums = db.interest(conn, [account_id])[account_id]
    return {g: decay.value(w, now, state.epoch, state.half_life_days)
            for g, w in sorted(sums.items())}


def _state_and_fit(conn: Connection, workspace_id: int
                   ) -> tuple[db.WorkspaceState, list[FitRule]]:
    """The workspace's settings and fit rules; the defaults before its first score
    (nothing is written: this is the read side)."""
    state = db.load_state(conn, workspace_id)
    if state is not None:
        return state, db.load_fit_rules(conn, workspace_id)
    config = default_config()
    settings = config.settings or ScoringSettings()
    return db.WorkspaceState(workspace_id, settings.half_life_days, decay.DEFAULT_EPOCH, 0,
                             settings.engaged_score, config.grades or Thresholds()), \
        list(config.fit or [])


def stage(score: float, state: db.WorkspaceState) -> Stage:
    return "engaged" if score >= state.engaged_score else "anonymous"


@dataclass(frozen=True, slots=True)
class AccountSummary:
    id: int
    name: str
    domain: str | None
    country: str | None
    in_target: bool
    score: float
    grade: Grade
    priority: float
    stage: Stage
    owner: str
    committee: int
    reasons: list[Reason]
    interest: dict[str, float]


def site_accounts(conn: Connection, site_id: int, *, now: datetime, limit: int = 50
                  ) -> list[AccountSummary]:
    """The site's accounts, highest priority first."""
    facts = db.site_accounts(conn, site_id)
    if not facts:
        return []
    state, fits = _state_and_fit(conn, facts[0].workspace_id)
    ranked = []
    for f in facts:
        score = decay.value(f.weight, now, state.epoch, state.half_life_days)
        g = grade(fits, Firmographics(f.country, f.naf, f.headcount_band, f.in_target,
                                      f.category), state.grades)
        ranked.append((priority(score, g), score, g, f))
    ranked.sort(key=lambda x: (-x[0], -x[1], x[3].name, x[3].id))
    top = ranked[:limit]
    ids = [f.id for _, _, _, f in top]
    sums = db.reason_sums(conn, ids)
    rules = db.rules_by_id(conn, (r for rows in sums.values() for r, _, _, _ in rows
                                  if r is not None))
    sizes = db.committee(conn, ids, since=now - timedelta(days=COMMITTEE_DAYS))
    groups = db.interest(conn, ids)
    return [AccountSummary(
        f.id, f.name, f.domain, f.country, f.in_target, round(score, 2), g, round(p, 2),
        f.stage or stage(score, state),  # type: ignore[arg-type]
        f.owner or "", sizes.get(f.id, 0), reasons(sums[f.id], rules, state, now),
        {k: round(decay.value(w, now, state.epoch, state.half_life_days), 2)
         for k, w in sorted(groups[f.id].items())})
        for p, score, g, f in top]

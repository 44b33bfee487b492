"""What a change of the scoring would do, before it is saved: every account's score,
fit grade and stage now and under the changed configuration.

The new scores come from the engine of ``webleads rescore`` (``engine.Scorer`` over the
stored hits), computed in memory: nothing is written.  A workspace with up to
``MAX_HITS`` hits with an account is computed whole; a bigger one on a sample of
accounts — those with the highest scores first, then every m-th account — whose hits
number about ``MAX_HITS``: scores are per account, so the sampled accounts get exactly
the scores a rescore would give them.  Measured on SQLite (bench/score.py's history
of 1,000,000 hits and 5,000 accounts, 2 cores busy with other work): 3.5-4.8 s for
a sample of 548 accounts and 99,293 hits, where a full rescore took 33 s (and scoring
the whole of a 150,000-hit workspace 2.7 s: hence the bound).

Stages: an account whose stage is automatic (anonymous, engaged, MQL, not set by a
person) is compared by the stage its score gives under the old and the new thresholds
(``lifecycle.stages.score_stage``).  Stages move forward at the account's next visit
and never move back by themselves; the preview says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.engine import Connection

from webleads.db import lifecycle as lifecycle_db
from webleads.db import scoring as db
from webleads.db import scoring_preview as preview_db
from webleads.lifecycle import stages
from webleads.scoring import decay, fit
from webleads.scoring.engine import Scorer
from webleads.scoring.matching import CompiledRules
from webleads.scoring.model import Grade
from webleads.scoring.setup import Setup

MAX_HITS = 100_000
TOP_FIRST = 200       # in a sample: the accounts with the highest scores come first
SHOWN = 15            # accounts listed
MIN_CHANGE = 0.5      # a score "changes" when it moves by this much (shown rounded)


@dataclass(frozen=True, slots=True)
class Change:
    account_id: int
    name: str
    domain: str | None
    old_score: float
    new_score: float
    old_stage: str
    new_stage: str
    old_grade: Grade
    new_grade: Grade
    automatic: bool  # False: a person set its stage, or it is past MQL

    @property
    def stage_moves(self) -> bool:
        return self.old_stage != self.new_stage


@dataclass(frozen=True, slots=True)
class Preview:
    accounts: int          # accounts compared
    total_accounts: int    # accounts of the workspace
    hits: int              # hits scored
    sampled: bool
    score_changes: int
    stage_up: int
    stage_down: int
    grade_changes: int
    before: dict[str, int]  # accounts per automatic stage, by score
    after: dict[str, int]
    top: list[Change]
    seconds: float


def _rank(stage: str) -> int:
    return stages.AUTOMATIC.index(stage) if stage in stages.AUTOMATIC else -1


def _sample(per_account: dict[int, int], weights: dict[int, int]
            ) -> tuple[list[int], int | None]:
    """The accounts to compare when there are too many hits: the highest scores first
    (``TOP_FIRST`` at most), then every m-th account by id, about ``MAX_HITS`` hits in
    all.  Returns (listed accounts, m or None)."""
    by_score = sorted(weights, key=lambda a: (-weights[a], a))
    listed, budget = [], MAX_HITS
    for account in by_score[:TOP_FIRST]:
        n = per_account.get(account, 0)
        if n <= budget:
            listed.append(account)
            budget -= n
    rest = sum(per_account.get(a, 0) for a in by_score[TOP_FIRST:])
    if budget <= 0 or budget < MAX_HITS // 10 or not rest:
        return listed, None
    return listed, max(2, -(-rest // budget))


def preview(conn: Connection, workspace_id: int, current: Setup, candidate: Setup, *,
            now: datetime) -> Preview:
    started = time.monotonic()
    state = db.load_state(conn, workspace_id)
    site_ids = db.workspace_sites(conn, workspace_id)
    facts = {f.id: f for site in site_ids for f in db.site_accounts(conn, site)}
    ids = sorted(facts)
    manual: dict[int, bool] = {}
    for start in range(0, len(ids), 1000):
        manual.update((f.id, f.manual) for f in lifecycle_db.account_facts(
            conn, ids[start:start + 1000]))
    per_account = preview_db.hits_per_account(conn, ids)
    sampled = sum(per_account.values()) > MAX_HITS
    chosen, listed, modulo = ids, list[int](), None
    if sampled:
        listed, modulo = _sample(per_account, {a: facts[a].weight for a in ids})
        first = set(listed)
        chosen = [a for a in ids if a in first or (modulo is not None and a % modulo == 0)]

    epoch = state.epoch if state is not None else decay.DEFAULT_EPOCH
    latest = db.latest_scored_hit(conn, site_ids)
    if latest is not None and decay.needs_rebase(latest, epoch, candidate.half_life_days):
        epoch = decay.new_epoch(latest)
    rules = [r if r.id is not None else replace(r, id=-i) for i, r in
             enumerate(candidate.rules, 1)]
    scorer = Scorer(CompiledRules(rules), epoch, candidate.half_life_days)
    if sampled:
        source = iter(preview_db.sample_hits(conn, workspace_id, site_ids, modulo=modulo,
                                             listed=listed))
    else:
        source = db.stored_hits(conn, workspace_id, site_ids,
                                db.returning_in_sites(conn, site_ids))
    count = 0
    for hit in source:
        if hit.account_id is not None:
            scorer.add(hit)
            count += 1
    sums: dict[int, int] = {}
    for line in scorer.added.values():
        if line.account_id is not None:
            sums[line.account_id] = sums.get(line.account_id, 0) + line.weight

    changes = []
    before: dict[str, int] = dict.fromkeys(stages.AUTOMATIC, 0)
    after: dict[str, int] = dict.fromkeys(stages.AUTOMATIC, 0)
    for account in chosen:
        f = facts[account]
        old = decay.value(f.weight, now, state.epoch, state.half_life_days) if state else 0.0
        new = decay.value(sums.get(account, 0), now, epoch, candidate.half_life_days)
        firm = fit.Firmographics(f.country, f.naf, f.headcount_band, f.in_target, f.category)
        automatic = not manual.get(account, False) and (
            f.stage is None or f.stage in stages.AUTOMATIC)
        old_stage: str
        new_stage: str
        if automatic:
            old_stage = stages.score_stage(old, current.stages)
            new_stage = stages.score_stage(new, candidate.stages)
            before[old_stage] += 1
            after[new_stage] += 1
        else:
            old_stage = new_stage = f.stage or "anonymous"
        changes.append(Change(
            account, f.name, f.domain, old, new, old_stage, new_stage,
            fit.grade(current.fit, firm, current.grades),
            fit.grade(candidate.fit, firm, candidate.grades), automatic))
    moved = [c for c in changes if c.stage_moves]
    top = sorted(changes, key=lambda c: (not c.stage_moves, c.old_grade == c.new_grade,
                                         -abs(c.new_score - c.old_score), c.name, c.account_id))
    top = [c for c in top[:SHOWN] if c.stage_moves or c.old_grade != c.new_grade
           or abs(c.new_score - c.old_score) >= MIN_CHANGE]
    return Preview(
        accounts=len(chosen), total_accounts=len(ids), hits=count, sampled=sampled,
        score_changes=sum(abs(c.new_score - c.old_score) >= MIN_CHANGE for c in changes),
        stage_up=sum(_rank(c.new_stage) > _rank(c.old_stage) for c in moved),
        stage_down=sum(_rank(c.new_stage) < _rank(c.old_stage) for c in moved),
        grade_changes=sum(c.old_grade != c.new_grade for c in changes),
        before=before, after=after, top=top, seconds=time.monotonic() - started)

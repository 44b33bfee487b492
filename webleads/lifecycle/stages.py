"""Lifecycle stages and the automatic, score-driven transitions (pure logic).

anonymous -> engaged -> mql -> sql -> opportunity -> customer, plus disqualified and
lost.  The score moves an account forward, never back: anonymous -> engaged -> mql when
its decayed score reaches the workspace's thresholds.  A stage set by a person
(``manual``) is never changed automatically, and neither is any stage after mql.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Stage = Literal["anonymous", "engaged", "mql", "sql", "opportunity", "customer",
                "disqualified", "lost"]
STAGES: tuple[Stage, ...] = get_args(Stage)
AUTOMATIC: tuple[Stage, ...] = ("anonymous", "engaged", "mql")  # in order
DEFAULT_ENGAGED = 10.0
DEFAULT_MQL = 50.0
DEFAULT_SLA_HOURS: dict[str, float] = {"mql": 24.0, "sql": 48.0}
AUTO_BY = "auto"


@dataclass(frozen=True, slots=True)
class Thresholds:
    engaged: float = DEFAULT_ENGAGED
    mql: float = DEFAULT_MQL

    def __post_init__(self) -> None:
        if not 0 <= self.engaged <= self.mql:
            raise ValueError("thresholds: 0 <= engaged <= mql")


@dataclass(frozen=True, slots=True)
class Transition:
    account_id: int
    from_stage: Stage | None
    to_stage: Stage
    reason: str


def parse_stage(value: str) -> Stage:
    for stage in STAGES:
        if stage == value.strip().lower():
            return stage
    raise ValueError(f"unknown stage {value!r}: use {', '.join(STAGES)}")


def score_stage(score: float, thresholds: Thresholds) -> Stage:
    """The stage a score alone gives."""
    if score >= thresholds.mql:
        return "mql"
    if score >= thresholds.engaged:
        return "engaged"
    return "anonymous"


def automatic(account_id: int, current: Stage | None, manual: bool, score: float,
              thresholds: Thresholds) -> Transition | None:
    """The automatic transition of an account at ``score``, if any: forward only, from
    anonymous or engaged (or no stage yet), never from a stage a person set."""
    if manual or (current is not None and current not in AUTOMATIC):
        return None
    target = score_stage(score, thresholds)
    rank = AUTOMATIC.index(current) if current is not None else -1
    if AUTOMATIC.index(target) <= rank:
        return None
    limit = thresholds.mql if target == "mql" else thresholds.engaged
    return Transition(account_id, current, target, f"score {score:.1f} >= {limit:g}")

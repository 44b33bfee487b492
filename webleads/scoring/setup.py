"""A workspace's whole scoring configuration as the settings page edits it — behaviour
rules, fit rules, half-life, grade thresholds and the lifecycle's stage thresholds — and
saving it as ``webleads scoring import`` then ``webleads rescore`` would."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from webleads.db import lifecycle as lifecycle_db
from webleads.db import scoring as db
from webleads.lifecycle import actions
from webleads.lifecycle.stages import Thresholds as StageThresholds
from webleads.privacy.audit import record_audit
from webleads.scoring.config import apply_config
from webleads.scoring.document import ScoringConfig, ScoringSettings
from webleads.scoring.fit import FitRule
from webleads.scoring.fit import Thresholds as Grades
from webleads.scoring.incremental import default_config
from webleads.scoring.rescore import RescoreReport, rescore
from webleads.scoring.rules import Rule


@dataclass(frozen=True, slots=True)
class Setup:
    rules: tuple[Rule, ...]
    fit: tuple[FitRule, ...]
    half_life_days: float
    grades: Grades
    stages: StageThresholds

    def config(self) -> ScoringConfig:
        """The scoring document to store (its engaged score follows the lifecycle's, so
        that the two never disagree)."""
        return ScoringConfig(ScoringSettings(self.half_life_days, self.stages.engaged),
                             self.grades, list(self.rules), list(self.fit))


def current_setup(conn: Connection, workspace_id: int, *, now: datetime) -> Setup:
    """The workspace's configuration (seeded with the defaults on first use: call it in
    a write transaction)."""
    state = db.workspace_states(conn, [workspace_id], defaults=default_config(),
                                now=now)[workspace_id]
    thresholds = lifecycle_db.read_settings(conn, workspace_id).thresholds
    return Setup(tuple(db.load_rules(conn, workspace_id)),
                 tuple(db.load_fit_rules(conn, workspace_id)), state.half_life_days,
                 state.grades, thresholds)


def save(engine: Engine, workspace_id: int, setup: Setup, *, actor: str, action: str,
         details: Mapping[str, Any], now: datetime, later: bool = False
         ) -> RescoreReport | None:
    """Store ``setup`` (audited as ``action``), then rescore the workspace in its own
    transaction, as ``webleads rescore`` does; with ``later``, ask for the rescore in
    the same transaction instead (``scoring.background`` runs it) and return None."""
    with engine.begin() as conn:
        apply_config(conn, workspace_id, setup.config(), now=now)
        actions.set_thresholds(conn, workspace_id, engaged=setup.stages.engaged,
                               mql=setup.stages.mql, now=now)
        record_audit(conn, workspace_id=workspace_id, actor=actor, action=action,
                     target=f"workspace:{workspace_id}", details=details, now=now)
        if later:
            from webleads.scoring import background

            background.request(conn, workspace_id, by=actor, now=now)
    if later:
        return None
    reports = rescore(engine, workspace_id=workspace_id, now=now)
    return reports[0] if reports else None

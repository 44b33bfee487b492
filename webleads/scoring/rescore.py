"""Recompute the ledger and the scores of a workspace from its stored hits.

After a change of the rules, this is the reference: the same engine as the incremental
path (``engine.Scorer``), over every hit of the workspace's sites, gives exactly the
ledger and the sums the incremental path would have built with these rules.  Caps and
scores are per account across the sites of a workspace, so rescoring one site rescores
its whole workspace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection, Engine

from webleads.db import scoring as db
from webleads.db.sites import workspace_ids
from webleads.scoring import decay
from webleads.scoring.engine import Scorer
from webleads.scoring.incremental import compiled_rules, default_config


@dataclass(frozen=True, slots=True)
class RescoreReport:
    workspace_id: int
    hits: int
    lines: int


def rescore(engine: Engine, *, workspace_id: int | None = None, site_id: int | None = None,
            now: datetime) -> list[RescoreReport]:
    """Rescore one workspace (that of ``site_id`` when given), or all of them; one
    transaction per workspace."""
    with engine.connect() as conn:
        if site_id is not None:
            ws = db.site_workspace(conn, site_id)
            targets = [] if ws is None else [ws]
        elif workspace_id is not None:
            targets = [workspace_id]
        else:
            targets = workspace_ids(conn)
    reports = []
    for ws_id in targets:
        with engine.begin() as conn:
            reports.append(rescore_workspace(conn, ws_id, now=now))
    return reports


def rescore_workspace(conn: Connection, workspace_id: int, *, now: datetime
                      ) -> RescoreReport:
    """Rescore in the open transaction of ``conn``."""
    state = db.workspace_states(conn, [workspace_id], defaults=default_config(),
                                now=now)[workspace_id]
    site_ids = db.workspace_sites(conn, workspace_id)
    latest = db.latest_scored_hit(conn, site_ids)
    epoch = state.epoch
    if latest is not None and decay.needs_rebase(latest, epoch, state.half_life_days):
        epoch = decay.new_epoch(latest)
    db.clear_ledger(conn, workspace_id)
    if epoch != state.epoch:
        db.set_epoch(conn, workspace_id, epoch, half_life_days=state.half_life_days)
    rules = compiled_rules(conn, workspace_id, state.rules_version)
    scorer = Scorer(rules, epoch, state.half_life_days)
    returning = db.returning_in_sites(conn, site_ids)
    count = 0
    for hit in db.stored_hits(conn, workspace_id, site_ids, returning):
        scorer.add(hit)
        count += 1
    lines = list(scorer.added.values())
    db.insert_lines(conn, lines)
    db.rebuild_sums(conn, workspace_id)
    return RescoreReport(workspace_id, count, len(lines))

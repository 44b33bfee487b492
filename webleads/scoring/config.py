"""Changing a workspace's scoring configuration (the use case behaviour of
``webleads scoring import``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from webleads.db import scoring as db
from webleads.scoring import decay
from webleads.scoring.document import ScoringConfig
from webleads.scoring.incremental import default_config


def apply_config(conn: Connection, workspace_id: int, config: ScoringConfig, *,
                 now: datetime) -> None:
    """Store ``config`` for the workspace.  A new half-life weighs every ledger line
    again (and moves the epoch when the latest hit is too many half-lives after it);
    new rules apply to the next hits, and to past hits after a rescore."""
    before = db.save_config(conn, workspace_id, config, defaults=default_config(), now=now)
    if config.settings is None or config.settings.half_life_days == before.half_life_days:
        return
    half_life = config.settings.half_life_days
    latest = db.latest_scored_hit(conn, db.workspace_sites(conn, workspace_id))
    if latest is not None and decay.needs_rebase(latest, before.epoch, half_life):
        db.set_epoch(conn, workspace_id, decay.new_epoch(latest), half_life_days=half_life)
    else:
        db.reweigh(conn, workspace_id, epoch=before.epoch, half_life_days=half_life)

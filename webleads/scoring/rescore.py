"""Recompute the ledger and the scores of a workspace from its stored hits.

After a change of the rules, this is the reference: the same engine as the incremental
path (``engine.Scorer``), over every hit of the workspace's sites, gives exactly the
ledger and the sums the incremental path would have built with these rules.  Caps and
scores are per account across the sites of a workspace, so rescoring one site rescores
its whole workspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from webleads.db import scoring as db
from webleads.db.schema import hits, sessions
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
            # A rescore asked for from the dashboard before this one began is done too.
            asked = db.rescore_asked_at(conn, ws_id)
            report = rescore_workspace(conn, ws_id, now=now)
            if asked is not None:
                db.rescore_done(conn, ws_id, asked, report.hits)
            reports.append(report)
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


# Above this many accounts and contacts, a targeted rescore reads the hits through
# longer IN lists than one pass over the workspace costs: rescore it all.
TARGET_MAX = 2000


def rescore_moved(engine: Engine, workspace_id: int, *, accounts: Sequence[int],
                  sessions_moved: Sequence[int], now: datetime) -> RescoreReport | None:
    """After hits changed account (a correction re-identified them), rescore only what
    the move can change: the accounts that lost or gained hits, and the contacts of the
    sessions moved (a hit that leaves its account scores for its contact).  Caps and
    sums are per account or contact, so this gives exactly what ``rescore`` gives them,
    without reading the rest of the workspace.  One transaction.  Falls back to the
    whole workspace when the move is large, or when the decay epoch must move (that
    changes every line)."""
    if not accounts and not sessions_moved:
        return None
    with engine.begin() as conn:
        contacts = _contacts_of(conn, sessions_moved)
        if len(accounts) + len(contacts) > TARGET_MAX:
            report = None
        else:
            report = rescore_subjects(conn, workspace_id, account_ids=sorted(set(accounts)),
                                      contact_ids=sorted(contacts), now=now)
    if report is None:
        return rescore(engine, workspace_id=workspace_id, now=now)[0]
    return report


def _contacts_of(conn: Connection, session_ids: Sequence[int]) -> set[int]:
    ids = sorted(set(session_ids))
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found.update(int(c) for c in conn.scalars(
            sa.select(sessions.c.contact_id).where(sessions.c.id.in_(chunk),
                                                   sessions.c.contact_id.is_not(None))))
        found.update(int(c) for c in conn.scalars(
            sa.select(hits.c.contact_id).where(hits.c.session_id.in_(chunk),
                                               hits.c.contact_id.is_not(None)).distinct()))
    return found


def rescore_subjects(conn: Connection, workspace_id: int, *, account_ids: Sequence[int],
                     contact_ids: Sequence[int], now: datetime) -> RescoreReport | None:
    """Rescore these accounts and contacts in the open transaction of ``conn``; None
    (nothing done) when the decay epoch must move first (a whole rescore's work)."""
    db.lock_accounts(conn, account_ids)
    state = db.workspace_states(conn, [workspace_id], defaults=default_config(),
                                now=now)[workspace_id]
    site_ids = db.workspace_sites(conn, workspace_id)
    stored = db.subject_hits(conn, workspace_id, site_ids, account_ids, contact_ids)
    if stored and decay.needs_rebase(max(h.ts for h in stored), state.epoch,
                                     state.half_life_days):
        return None
    named = db.clear_subjects(conn, workspace_id, account_ids, contact_ids)
    rules = compiled_rules(conn, workspace_id, state.rules_version)
    scorer = Scorer(rules, state.epoch, state.half_life_days)
    for hit in stored:
        scorer.add(hit)
    lines = list(scorer.added.values())
    db.insert_lines(conn, lines)
    named.update(x.contact_id for x in lines if x.contact_id is not None)
    db.rebuild_subject_sums(conn, workspace_id, account_ids, sorted(named | set(contact_ids)))
    return RescoreReport(workspace_id, len(stored), len(lines))

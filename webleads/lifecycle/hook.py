"""After a batch is scored, in the same transaction: stages, owners, alerts.

``after_scoring`` is called by the store right after ``score_stored_hits``.  Per batch it
costs: one query of the workspaces' lifecycle settings (with their scoring epoch), one
query of the touched accounts (score sum, stage, owner, French company), one upsert of
their stages (the score is kept to see it cross a value), and, only when something
happens, the history lines, the owners given, one query of cooldowns and the messages.
Owners and rules are cached per workspace and settings version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from webleads.db import lifecycle as db
from webleads.lifecycle import alerts, owners, stages
from webleads.lifecycle.model import (
    OUTBOX_KINDS,
    OWNER,
    AccountFacts,
    Config,
    HitFacts,
    LifecycleSettings,
    Owner,
)
from webleads.outbox.queue import enqueue
from webleads.scoring import decay
from webleads.scoring.explain import why

__all__ = ["after_scoring"]

_CACHE_MAX = 256
_configs: dict[tuple[str, int, int], Config] = {}
MAX_REASONS = 5


def _config(conn: Connection, settings: LifecycleSettings) -> Config:
    key = (conn.engine.url.render_as_string(hide_password=True), settings.workspace_id,
           settings.version)
    found = _configs.get(key)
    if found is None:
        if len(_configs) >= _CACHE_MAX:
            _configs.clear()
        found = _configs[key] = db.load_config(conn, settings)
    return found


def _decayed(value: float, since: datetime, now: datetime, half_life_days: float) -> float:
    days = (now - since) / timedelta(days=1)
    return float(value * 2.0 ** (-max(days, 0.0) / half_life_days))


def after_scoring(conn: Connection, *, hits: Sequence[HitFacts], now: datetime,
                  allow_private: bool = False) -> None:
    """Stages, owners and alerts of the accounts of ``hits`` (a batch just stored and
    scored), in the open transaction of ``conn``.  ``hits`` may be the store's
    ``ScoringInput`` list; hits without an account are ignored."""
    by_account: dict[int, list[HitFacts]] = {}
    for hit in hits:
        if hit.account_id is not None:
            by_account.setdefault(hit.account_id, []).append(hit)
    if not by_account:
        return
    settings = db.ensure_settings(conn, {h[0].workspace_id for h in by_account.values()},
                                  now=now)
    configs = {ws: _config(conn, s) for ws, (s, _) in settings.items()}
    facts = db.account_facts(conn, by_account)
    stage_rows: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    batches: list[tuple[AccountFacts, alerts.AccountBatch, stages.Stage]] = []
    for f in facts:
        cfg = configs[f.workspace_id]
        state = settings[f.workspace_id][1]
        score = decay.value(f.weight, now, state.epoch, state.half_life_days) if state else 0.0
        before = 0.0
        if state and f.last_score is not None and f.scored_at is not None:
            before = _decayed(f.last_score, f.scored_at, now, state.half_life_days)
        move = stages.automatic(f.id, f.stage, f.manual, score, cfg.settings.thresholds)
        stage = move.to_stage if move else (f.stage or "anonymous")
        stage_rows.append({
            "account_id": f.id, "workspace_id": f.workspace_id, "stage": stage,
            "since": now if move or f.since is None else f.since,
            "by": stages.AUTO_BY if move or f.by is None else f.by, "manual": f.manual,
            "score": score, "scored_at": now})
        if move and not (move.from_stage is None and move.to_stage == "anonymous"):
            history.append({"workspace_id": f.workspace_id, "account_id": f.id,
                            "from_stage": move.from_stage, "to_stage": move.to_stage,
                            "at": now, "by": stages.AUTO_BY, "reason": move.reason})
        mine = sorted(by_account[f.id], key=lambda h: h.ts)
        batches.append((f, alerts.AccountBatch(
            f.id, f.in_target, before, score, bool(move and move.to_stage == "mql"),
            [alerts.path_of(h.url) for h in mine], mine[-1].ts, None), stage))
    db.save_stages(conn, stage_rows)
    db.add_history(conn, history)
    owned = _assign_owners(conn, batches, configs, now)
    _alert(conn, batches, configs, owned, now, allow_private)


def _assign_owners(conn: Connection,
                   batches: Sequence[tuple[AccountFacts, alerts.AccountBatch, stages.Stage]],
                   configs: Mapping[int, Config], now: datetime) -> dict[int, Owner]:
    """Give an owner to accounts past anonymous that have none; the owner of each
    account of the batch (new or not)."""
    owned: dict[int, Owner] = {}
    rows = []
    for f, _, stage in batches:
        cfg = configs[f.workspace_id]
        if f.owner_id is not None:
            if f.owner_id in cfg.owners:
                owned[f.id] = cfg.owners[f.owner_id]
            continue
        if stage == "anonymous" or not cfg.assignment:
            continue
        rule = owners.first_rule(cfg.assignment, f, cfg.owners)
        if rule is None:
            continue
        if rule.owner_id is not None:
            owner = cfg.owners[rule.owner_id]
        else:
            assert rule.team is not None
            members = owners.team_members(cfg.owners.values(), rule.team)
            owner = owners.pick(members, db.next_in_team(conn, f.workspace_id, rule.team))
        owned[f.id] = owner
        rows.append({"account_id": f.id, "workspace_id": f.workspace_id, "owner_id": owner.id,
                     "assigned_at": now, "by": f"rule {rule.id} ({rule.kind})"})
    db.assign(conn, rows)
    return owned


def _alert(conn: Connection,
           batches: Sequence[tuple[AccountFacts, alerts.AccountBatch, stages.Stage]],
           configs: Mapping[int, Config], owned: Mapping[int, Owner], now: datetime,
           allow_private: bool) -> None:
    jumps: dict[float, dict[int, int]] = {}
    windows = {float(r.params.get("hours", alerts.DEFAULT_JUMP_HOURS))
               for f, _, _ in batches for r in configs[f.workspace_id].alerts
               if r.kind == "score_jump"}
    for hours in sorted(windows):
        jumps[hours] = db.points_since(conn, [f.id for f, _, _ in batches],
                                       now - timedelta(hours=hours))
    found: list[tuple[alerts.Event, AccountFacts, stages.Stage, float]] = []
    for f, batch, stage in batches:
        for rule in configs[f.workspace_id].alerts:
            if rule.kind == "score_jump":
                hours = float(rule.params.get("hours", alerts.DEFAULT_JUMP_HOURS))
                batch = _with_jump(batch, jumps[hours].get(f.id, 0))
            event = alerts.events(rule, batch)
            if event is not None:
                found.append((event, f, stage, batch.after))
    if not found:
        return
    last = db.last_fired(conn, [(e.rule.id, e.account_id) for e, _, _, _ in found])
    fired: list[tuple[int, int, datetime]] = []
    digests: list[dict[str, Any]] = []
    for event, f, stage, score in found:
        rule = event.rule
        if not alerts.cooled(last.get((rule.id, f.id)), now, rule.cooldown_hours):
            continue
        owner = owned.get(f.id)
        if rule.destination == OWNER:
            if owner is None:
                continue  # nobody to tell yet
            destination, language = owner.email, owner.language
        else:
            destination, language = rule.destination, rule.language
        payload = _payload(conn, event, f, stage, score, owner, language, now)
        kind = OUTBOX_KINDS[rule.kind]
        fired.append((rule.id, f.id, now))
        if rule.digest:
            digests.append({
                "workspace_id": f.workspace_id, "recipient": destination,
                "owner_id": owner.id if owner and rule.destination == OWNER else None,
                "language": language, "day": alerts.local_day(now, rule.timezone),
                "rule_id": rule.id, "account_id": f.id, "event_key": event.key,
                "kind": kind, "payload": payload, "at": now})
            continue
        enqueue(conn, workspace_id=f.workspace_id, channel=rule.channel,  # type: ignore[arg-type]
                destination=destination, kind=kind, payload=payload,
                language="fr" if language == "fr" else "en", idempotency_key=event.key,
                now=now, not_before=alerts.quiet_until(now, rule.quiet_hours, rule.timezone),
                allow_private=allow_private)
    db.add_digest_events(conn, digests)
    db.mark_fired(conn, fired)


def _with_jump(batch: alerts.AccountBatch, points: int) -> alerts.AccountBatch:
    return alerts.AccountBatch(batch.account_id, batch.in_target, batch.before, batch.after,
                               batch.became_mql, batch.paths, batch.latest, points)


def _payload(conn: Connection, event: alerts.Event, f: AccountFacts, stage: str, score: float,
             owner: Owner | None, language: str, now: datetime) -> dict[str, Any]:
    reasons = [r.text(language) for r in why(conn, f.id, now)[:MAX_REASONS]]
    payload: dict[str, Any] = {
        "account": {"id": f.id, "name": f.name, "domain": f.domain, "country": f.country},
        "score": round(score), "stage": stage, "reasons": reasons, **event.values}
    if owner is not None:
        payload["owner"] = owner.name
    return payload

"""SQL of the lifecycle: settings, stages and their history, owners and assignment,
alert rules, cooldowns and digest events.  See webleads/lifecycle/."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db import dialect
from webleads.db.schema import accounts
from webleads.db.schema_fr import account_fr, fr_companies
from webleads.db.schema_lifecycle import (
    account_owners,
    account_stages,
    alert_rules,
    alert_state,
    assignment_rules,
    digest_events,
    lifecycle_settings,
    owners,
    stage_history,
    team_counters,
)
from webleads.db.schema_scoring import account_scores, score_ledger, scoring_settings
from webleads.lifecycle.model import (
    AccountFacts,
    AlertRule,
    AssignmentRule,
    Config,
    LifecycleSettings,
    Owner,
)
from webleads.lifecycle.stages import DEFAULT_SLA_HOURS, Stage, Thresholds, parse_stage


@dataclass(frozen=True, slots=True)
class Decay:
    """The scoring state a decayed score needs (None: the workspace never scored)."""

    epoch: datetime
    half_life_days: float


# -- settings and the cached configuration ----------------------------------------------

def _settings(row: Any) -> LifecycleSettings:
    return LifecycleSettings(int(row.workspace_id),
                             Thresholds(float(row.engaged_score), float(row.mql_score)),
                             {str(k): float(v) for k, v in (row.sla_hours or {}).items()},
                             int(row.version))


def ensure_settings(conn: Connection, workspace_ids: Iterable[int], *, now: datetime
                    ) -> dict[int, tuple[LifecycleSettings, Decay | None]]:
    """The lifecycle settings (created with the defaults on first use) and the scoring
    decay of each workspace: one query when they exist."""
    wanted = sorted(set(workspace_ids))
    found = _read_settings(conn, wanted)
    missing = [w for w in wanted if w not in found]
    if missing:
        stmt = dialect.insert(conn, lifecycle_settings).on_conflict_do_nothing()
        conn.execute(stmt, [{"workspace_id": w, "engaged_score": Thresholds().engaged,
                             "mql_score": Thresholds().mql, "sla_hours": DEFAULT_SLA_HOURS,
                             "version": 1, "updated_at": now} for w in missing])
        found.update(_read_settings(conn, missing))
    return found


def _read_settings(conn: Connection, ids: Sequence[int]
                   ) -> dict[int, tuple[LifecycleSettings, Decay | None]]:
    if not ids:
        return {}
    ls, ss = lifecycle_settings.c, scoring_settings.c
    rows = conn.execute(sa.select(lifecycle_settings, ss.epoch, ss.half_life_days)
                        .outerjoin(scoring_settings, ss.workspace_id == ls.workspace_id)
                        .where(ls.workspace_id.in_(ids)))
    return {int(r.workspace_id): (_settings(r), Decay(r.epoch, float(r.half_life_days))
                                  if r.epoch is not None else None) for r in rows}


def bump_version(conn: Connection, workspace_id: int, *, now: datetime) -> None:
    """A change of thresholds, owners or rules: hooks reload the configuration."""
    ensure_settings(conn, [workspace_id], now=now)
    conn.execute(sa.update(lifecycle_settings)
                 .where(lifecycle_settings.c.workspace_id == workspace_id)
                 .values(version=lifecycle_settings.c.version + 1, updated_at=now))


def set_thresholds(conn: Connection, workspace_id: int, *, now: datetime,
                   thresholds: Thresholds | None = None,
                   sla_hours: Mapping[str, float] | None = None) -> None:
    ensure_settings(conn, [workspace_id], now=now)
    values: dict[str, Any] = {}
    if thresholds is not None:
        values.update(engaged_score=thresholds.engaged, mql_score=thresholds.mql)
    if sla_hours is not None:
        values["sla_hours"] = dict(sla_hours)
    if values:
        conn.execute(sa.update(lifecycle_settings)
                     .where(lifecycle_settings.c.workspace_id == workspace_id).values(values))
    bump_version(conn, workspace_id, now=now)


def read_settings(conn: Connection, workspace_id: int) -> LifecycleSettings:
    """A workspace's lifecycle settings, read only: the defaults when it has none yet."""
    found = _read_settings(conn, [workspace_id]).get(workspace_id)
    if found is None:
        return LifecycleSettings(workspace_id, Thresholds(), dict(DEFAULT_SLA_HOURS), 0)
    return found[0]


def load_config(conn: Connection, settings: LifecycleSettings) -> Config:
    ws = settings.workspace_id
    found_owners = {o.id: o for o in list_owners(conn, ws)}
    return Config(settings, found_owners, tuple(list_assignment_rules(conn, ws)),
                  tuple(r for r in list_alert_rules(conn, ws) if r.enabled))


# -- the batch read ----------------------------------------------------------------------

def account_facts(conn: Connection, account_ids: Iterable[int]) -> list[AccountFacts]:
    """Everything the hook needs of these accounts, in one query."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return []
    a, s, st, ow = accounts.c, account_scores.c, account_stages.c, account_owners.c
    # A French company's NAF and postcode, when the account was matched to one.
    fr = (sa.select(account_fr.c.account_id, fr_companies.c.naf, fr_companies.c.postcode)
          .join(fr_companies, fr_companies.c.siren == account_fr.c.siren)
          .where(account_fr.c.account_id.in_(wanted)).subquery())
    rows = conn.execute(
        sa.select(a.id, a.workspace_id, a.name, a.domain, a.country, a.in_target, s.weight,
                  st.stage, st.manual, st.since, st.by, st.score, st.scored_at, ow.owner_id,
                  fr.c.naf, fr.c.postcode)
        .select_from(accounts)
        .outerjoin(account_scores, s.account_id == a.id)
        .outerjoin(account_stages, st.account_id == a.id)
        .outerjoin(account_owners, ow.account_id == a.id)
        .outerjoin(fr, fr.c.account_id == a.id)
        .where(a.id.in_(wanted)).order_by(a.id))
    return [AccountFacts(
        int(r.id), int(r.workspace_id), r.name, r.domain, r.country, bool(r.in_target),
        int(r.weight or 0), parse_stage(r.stage) if r.stage else None, bool(r.manual),
        r.since, r.by, float(r.score) if r.score is not None else None, r.scored_at,
        int(r.owner_id) if r.owner_id is not None else None, r.naf, r.postcode)
        for r in rows]


def points_since(conn: Connection, account_ids: Iterable[int], since: datetime
                 ) -> dict[int, int]:
    """Raw points given to these accounts since ``since`` (a score jump)."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return {}
    lg = score_ledger.c
    return {int(acc): int(total) for acc, total in conn.execute(
        sa.select(lg.account_id, sa.func.sum(lg.points))
        .where(lg.account_id.in_(wanted), lg.ts >= since).group_by(lg.account_id))}


# -- stages --------------------------------------------------------------------------------

def save_stages(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Upsert stage rows (all columns but touched_at); a new stage clears ``touched_at``
    (the first touch is counted per stage)."""
    if not rows:
        return
    stmt = dialect.insert(conn, account_stages)
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(index_elements=["account_id"], set_={
        "stage": ex.stage, "since": ex.since, "by": ex.by, "manual": ex.manual,
        "score": ex.score, "scored_at": ex.scored_at,
        "touched_at": sa.case((account_stages.c.stage == ex.stage, account_stages.c.touched_at),
                              else_=ex.touched_at)})
    conn.execute(stmt, [{"touched_at": None, **r} for r in rows])


def add_history(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(stage_history), list(rows))


def current_stage(conn: Connection, account_id: int) -> tuple[int, Stage | None] | None:
    """(workspace id, stage) of an account; None when there is no such account."""
    row = conn.execute(sa.select(accounts.c.workspace_id, account_stages.c.stage)
                       .outerjoin(account_stages, account_stages.c.account_id == accounts.c.id)
                       .where(accounts.c.id == account_id)).first()
    if row is None:
        return None
    return int(row.workspace_id), parse_stage(row.stage) if row.stage else None


def set_stage(conn: Connection, account_id: int, *, workspace_id: int, stage: Stage,
              previous: Stage | None, by: str, reason: str, now: datetime,
              score: float) -> None:
    """A manual transition; a person moving the account counts as touching it."""
    save_stages(conn, [{"account_id": account_id, "workspace_id": workspace_id,
                        "stage": stage, "since": now, "by": by, "manual": True,
                        "score": score, "scored_at": now, "touched_at": now}])
    conn.execute(sa.update(account_stages).where(account_stages.c.account_id == account_id)
                 .values(touched_at=now))
    add_history(conn, [{"workspace_id": workspace_id, "account_id": account_id,
                        "from_stage": previous, "to_stage": stage, "at": now, "by": by,
                        "reason": reason}])


@dataclass(frozen=True, slots=True)
class HistoryLine:
    from_stage: str | None
    to_stage: str
    at: datetime
    by: str
    reason: str


def history(conn: Connection, account_id: int) -> list[HistoryLine]:
    h = stage_history.c
    return [HistoryLine(r.from_stage, r.to_stage, r.at, r.by, r.reason) for r in conn.execute(
        sa.select(h.from_stage, h.to_stage, h.at, h.by, h.reason)
        .where(h.account_id == account_id).order_by(h.at, h.id))]


def touch(conn: Connection, account_id: int, *, now: datetime) -> bool:
    result = conn.execute(sa.update(account_stages)
                          .where(account_stages.c.account_id == account_id)
                          .values(touched_at=now))
    return bool(result.rowcount)


@dataclass(frozen=True, slots=True)
class Untouched:
    account_id: int
    workspace_id: int
    name: str
    stage: Stage
    since: datetime
    owner: str | None


def untouched(conn: Connection, *, workspace_id: int | None, stages: Iterable[str]
              ) -> list[Untouched]:
    """Accounts in these stages that nobody touched since they entered them."""
    st = account_stages.c
    query = (sa.select(st.account_id, st.workspace_id, accounts.c.name, st.stage, st.since,
                       owners.c.name.label("owner"))
             .join(accounts, accounts.c.id == st.account_id)
             .outerjoin(account_owners, account_owners.c.account_id == st.account_id)
             .outerjoin(owners, owners.c.id == account_owners.c.owner_id)
             .where(st.touched_at.is_(None), st.stage.in_(sorted(set(stages))))
             .order_by(st.since, st.account_id))
    if workspace_id is not None:
        query = query.where(st.workspace_id == workspace_id)
    return [Untouched(int(r.account_id), int(r.workspace_id), r.name, parse_stage(r.stage),
                      r.since, r.owner) for r in conn.execute(query)]


# -- owners and assignment ----------------------------------------------------------------

def _owner(r: Any) -> Owner:
    return Owner(int(r.id), int(r.workspace_id), r.name, r.email, r.team, r.language,
                 bool(r.active))


def add_owner(conn: Connection, *, workspace_id: int, name: str, email: str,
              team: str | None, language: str, now: datetime) -> int:
    new_id = conn.execute(sa.insert(owners).values(
        workspace_id=workspace_id, name=name, email=email, team=team, language=language,
        active=True).returning(owners.c.id)).scalar_one()
    bump_version(conn, workspace_id, now=now)
    return int(new_id)


def list_owners(conn: Connection, workspace_id: int) -> list[Owner]:
    return [_owner(r) for r in conn.execute(
        sa.select(owners).where(owners.c.workspace_id == workspace_id).order_by(owners.c.id))]


def owner_by_email(conn: Connection, workspace_id: int, email: str) -> Owner | None:
    row = conn.execute(sa.select(owners).where(owners.c.workspace_id == workspace_id,
                                               owners.c.email == email)).first()
    return _owner(row) if row is not None else None


def add_assignment_rule(conn: Connection, *, workspace_id: int, kind: str,
                        conditions: Mapping[str, Any], owner_id: int | None,
                        team: str | None, now: datetime, position: int | None = None) -> int:
    if position is None:
        position = int(conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(assignment_rules.c.position), 0))
            .where(assignment_rules.c.workspace_id == workspace_id)).scalar_one()) + 10
    new_id = conn.execute(sa.insert(assignment_rules).values(
        workspace_id=workspace_id, position=position, kind=kind, conditions=dict(conditions),
        owner_id=owner_id, team=team).returning(assignment_rules.c.id)).scalar_one()
    bump_version(conn, workspace_id, now=now)
    return int(new_id)


def set_owner_active(conn: Connection, workspace_id: int, email: str, *, active: bool,
                     now: datetime) -> bool:
    """Activate or deactivate an owner of the workspace; False when there is none.
    Their accounts stay theirs; an inactive owner gets no new account."""
    result = conn.execute(sa.update(owners).where(owners.c.workspace_id == workspace_id,
                                                  owners.c.email == email)
                          .values(active=active))
    if not result.rowcount:
        return False
    bump_version(conn, workspace_id, now=now)
    return True


def remove_assignment_rule(conn: Connection, workspace_id: int, rule_id: int, *,
                           now: datetime) -> bool:
    """Delete a rule of the workspace (accounts keep their owner); False when none."""
    r = assignment_rules.c
    result = conn.execute(sa.delete(assignment_rules)
                          .where(r.id == rule_id, r.workspace_id == workspace_id))
    if not result.rowcount:
        return False
    bump_version(conn, workspace_id, now=now)
    return True


def list_assignment_rules(conn: Connection, workspace_id: int) -> list[AssignmentRule]:
    r = assignment_rules.c
    return [AssignmentRule(int(x.id), int(x.workspace_id), int(x.position), x.kind,
                           dict(x.conditions or {}),
                           int(x.owner_id) if x.owner_id is not None else None, x.team)
            for x in conn.execute(sa.select(assignment_rules).where(r.workspace_id == workspace_id)
                                  .order_by(r.position, r.id))]


def next_in_team(conn: Connection, workspace_id: int, team: str) -> int:
    """The team's counter after adding one (1 for its first account): atomic."""
    stmt = dialect.insert(conn, team_counters).values(workspace_id=workspace_id, team=team,
                                                      counter=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["workspace_id", "team"],
        set_={"counter": team_counters.c.counter + 1}).returning(team_counters.c.counter)
    return int(conn.execute(stmt).scalar_one())


def assign(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Give accounts an owner (an account that already has one keeps it)."""
    if rows:
        conn.execute(dialect.insert(conn, account_owners).on_conflict_do_nothing(), list(rows))


def account_owner(conn: Connection, account_id: int) -> Owner | None:
    row = conn.execute(sa.select(owners).join(account_owners,
                                              account_owners.c.owner_id == owners.c.id)
                       .where(account_owners.c.account_id == account_id)).first()
    return _owner(row) if row is not None else None


# -- alert rules, cooldowns, digest events ------------------------------------------------

def _alert_rule(x: Any) -> AlertRule:
    return AlertRule(int(x.id), int(x.workspace_id), x.kind, dict(x.params or {}), x.channel,
                     x.destination, x.language, float(x.cooldown_hours), x.quiet_hours,
                     x.timezone, bool(x.digest), bool(x.enabled))


def add_alert_rule(conn: Connection, *, workspace_id: int, kind: str,
                   params: Mapping[str, Any], channel: str, destination: str, language: str,
                   cooldown_hours: float, quiet_hours: str | None, timezone: str,
                   digest: bool, now: datetime) -> int:
    new_id = conn.execute(sa.insert(alert_rules).values(
        workspace_id=workspace_id, kind=kind, params=dict(params), channel=channel,
        destination=destination, language=language, cooldown_hours=cooldown_hours,
        quiet_hours=quiet_hours, timezone=timezone, digest=digest, enabled=True,
        created_at=now).returning(alert_rules.c.id)).scalar_one()
    bump_version(conn, workspace_id, now=now)
    return int(new_id)


def list_alert_rules(conn: Connection, workspace_id: int) -> list[AlertRule]:
    r = alert_rules.c
    return [_alert_rule(x) for x in conn.execute(
        sa.select(alert_rules).where(r.workspace_id == workspace_id).order_by(r.id))]


def set_alert_rule_enabled(conn: Connection, workspace_id: int, rule_id: int, *,
                           enabled: bool, now: datetime) -> bool:
    """Enable or disable a rule of the workspace; False when there is none."""
    r = alert_rules.c
    result = conn.execute(sa.update(alert_rules)
                          .where(r.id == rule_id, r.workspace_id == workspace_id)
                          .values(enabled=enabled))
    if not result.rowcount:
        return False
    bump_version(conn, workspace_id, now=now)
    return True


def remove_alert_rule(conn: Connection, workspace_id: int, rule_id: int, *,
                      now: datetime) -> bool:
    """Delete a rule of the workspace with its cooldowns and its digest events (messages
    already in the outbox stay); False when there is none."""
    r = alert_rules.c
    found = conn.execute(sa.select(r.id).where(r.id == rule_id, r.workspace_id == workspace_id)
                         ).first()
    if found is None:
        return False
    conn.execute(sa.delete(alert_state).where(alert_state.c.rule_id == rule_id))
    conn.execute(sa.delete(digest_events).where(digest_events.c.rule_id == rule_id))
    conn.execute(sa.delete(alert_rules).where(r.id == rule_id))
    bump_version(conn, workspace_id, now=now)
    return True


def last_fired(conn: Connection, keys: Iterable[tuple[int, int]]
               ) -> dict[tuple[int, int], datetime]:
    """When each (rule, account) last fired: one query."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    s = alert_state.c
    rules = sorted({k[0] for k in wanted})
    accs = sorted({k[1] for k in wanted})
    return {(int(r.rule_id), int(r.account_id)): r.last_fired_at for r in conn.execute(
        sa.select(s.rule_id, s.account_id, s.last_fired_at)
        .where(s.rule_id.in_(rules), s.account_id.in_(accs)))}


def mark_fired(conn: Connection, rows: Sequence[tuple[int, int, datetime]]) -> None:
    if not rows:
        return
    stmt = dialect.insert(conn, alert_state)
    stmt = stmt.on_conflict_do_update(index_elements=["rule_id", "account_id"],
                                      set_={"last_fired_at": stmt.excluded.last_fired_at})
    conn.execute(stmt, [{"rule_id": r, "account_id": a, "last_fired_at": t}
                        for r, a, t in sorted(rows)])


def add_digest_events(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Digest events, once per (workspace, event key)."""
    if rows:
        conn.execute(dialect.insert(conn, digest_events).on_conflict_do_nothing(), list(rows))


@dataclass(frozen=True, slots=True)
class DigestEvent:
    workspace_id: int
    recipient: str
    owner_id: int | None
    language: str
    account_id: int
    kind: str
    payload: dict[str, Any]
    at: datetime


def digest_day(conn: Connection, day: date) -> list[DigestEvent]:
    d = digest_events.c
    return [DigestEvent(int(r.workspace_id), r.recipient,
                        int(r.owner_id) if r.owner_id is not None else None, r.language,
                        int(r.account_id), r.kind, dict(r.payload), r.at)
            for r in conn.execute(sa.select(digest_events).where(d.day == day)
                                  .order_by(d.workspace_id, d.recipient, d.at, d.id))]


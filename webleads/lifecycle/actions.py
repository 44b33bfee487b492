"""Use cases of the lifecycle, for the command line (and later the dashboard): manual
stages, touches, late accounts, owners, assignment and alert rules.  Input is checked
here; ``ValueError`` messages name the bad option or field."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.engine import Connection

from webleads.db import lifecycle as db
from webleads.db.sites import workspace_ids
from webleads.lifecycle import alerts, owners
from webleads.lifecycle.model import DEFAULT_TIMEZONE, OWNER
from webleads.lifecycle.stages import STAGES, Thresholds, parse_stage
from webleads.outbox.model import CHANNELS, LANGUAGES
from webleads.scoring.explain import account_score

DEFAULT_COOLDOWN_HOURS = 24.0


Missing = Literal["account", "owner", "alert_rule", "assignment_rule"]


class NotFound(LookupError):
    """No such account, owner or rule (in the workspace): ``what`` and ``key`` say which."""

    def __init__(self, what: Missing, key: object) -> None:
        super().__init__(f"{what} {key}")
        self.what: Missing = what
        self.key = key


def move_stage(conn: Connection, account_id: int, stage: str, *, by: str, reason: str,
               now: datetime) -> tuple[str | None, str]:
    """Set an account's stage by hand; (previous, new).  Automatic transitions never
    change it afterwards."""
    new = parse_stage(stage)
    found = db.current_stage(conn, account_id)
    if found is None:
        raise NotFound("account", account_id)
    if not by.strip():
        raise ValueError("by: who moved the account (a name)")
    workspace_id, previous = found
    db.set_stage(conn, account_id, workspace_id=workspace_id, stage=new, previous=previous,
                 by=by.strip(), reason=reason, now=now,
                 score=account_score(conn, account_id, now))
    return previous, new


def touch(conn: Connection, account_id: int, *, now: datetime) -> None:
    if not db.touch(conn, account_id, now=now):
        raise NotFound("account", account_id)


@dataclass(frozen=True, slots=True)
class Late:
    account_id: int
    workspace_id: int
    name: str
    stage: str
    since: datetime
    hours_late: float
    owner: str | None


def late_accounts(conn: Connection, *, now: datetime, workspace_id: int | None = None
                  ) -> list[Late]:
    """Accounts whose stage has a first-touch SLA that passed without a touch."""
    settings = {ws: s for ws, (s, _) in db.ensure_settings(
        conn, workspace_ids(conn) if workspace_id is None else [workspace_id],
        now=now).items()}
    stages = {k for s in settings.values() for k in s.sla_hours}
    out = []
    for u in db.untouched(conn, workspace_id=workspace_id, stages=stages):
        hours = settings[u.workspace_id].sla_hours.get(u.stage)
        if hours is None:
            continue
        due = u.since + timedelta(hours=hours)
        if now > due:
            out.append(Late(u.account_id, u.workspace_id, u.name, u.stage, u.since,
                            (now - due) / timedelta(hours=1), u.owner))
    return out


def set_sla(conn: Connection, workspace_id: int, sla_hours: Mapping[str, float], *,
            now: datetime) -> None:
    """Replace the workspace's first-touch SLA (hours per stage)."""
    checked: dict[str, float] = {}
    for stage, hours in sla_hours.items():
        name = parse_stage(stage)
        if not math.isfinite(hours) or hours <= 0:
            raise ValueError(f"sla {stage}: hours must be > 0")
        checked[name] = float(hours)
    db.set_thresholds(conn, workspace_id, sla_hours=checked, now=now)


def parse_sla(items: Sequence[str]) -> dict[str, float | None]:
    """``STAGE=HOURS`` arguments (``STAGE=off`` removes that stage's SLA)."""
    out: dict[str, float | None] = {}
    for item in items:
        stage, sep, value = item.partition("=")
        if not sep or not stage.strip() or not value.strip():
            raise ValueError(f"STAGE=HOURS: {item!r} is not of the form mql=24")
        try:
            name = parse_stage(stage)
        except ValueError as exc:
            raise ValueError(f"STAGE=HOURS: {exc}") from None
        if value.strip().lower() == "off":
            out[name] = None
            continue
        try:
            hours = float(value)
        except ValueError:
            raise ValueError(f"STAGE=HOURS: {item!r}: {value!r} is not a number of hours "
                             "(or off)") from None
        if not math.isfinite(hours) or hours <= 0:
            raise ValueError(f"STAGE=HOURS: {item!r}: hours must be > 0 (off removes it)")
        out[name] = hours
    return out


def update_sla(conn: Connection, workspace_id: int, changes: Mapping[str, float | None], *,
               now: datetime) -> dict[str, float]:
    """Change the SLA of some stages (None: no SLA for that stage); the new SLA."""
    current = db.ensure_settings(conn, [workspace_id], now=now)[workspace_id][0].sla_hours
    merged = {k: v for k, v in current.items() if k not in changes}
    merged.update({k: v for k, v in changes.items() if v is not None})
    set_sla(conn, workspace_id, merged, now=now)
    return merged


def set_thresholds(conn: Connection, workspace_id: int, *, engaged: float | None,
                   mql: float | None, now: datetime) -> Thresholds:
    """Change the engaged and/or MQL thresholds (the other one is kept); the new ones.
    Accounts move forward at their next batch; none is moved back."""
    current = db.ensure_settings(conn, [workspace_id], now=now)[workspace_id][0].thresholds
    for name, value in (("engaged", engaged), ("mql", mql)):
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ValueError(f"{name}: {value:g} must be a score >= 0")
    new_engaged = current.engaged if engaged is None else float(engaged)
    new_mql = current.mql if mql is None else float(mql)
    if new_engaged > new_mql:
        raise ValueError(f"{'engaged' if engaged is not None else 'mql'}: the engaged "
                         f"threshold ({new_engaged:g}) must not be above the MQL threshold "
                         f"({new_mql:g})")
    new = Thresholds(new_engaged, new_mql)
    if new != current:
        db.set_thresholds(conn, workspace_id, thresholds=new, now=now)
    return new


def check_language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError(f"language: {value!r} is not fr or en")
    return value


def add_owner(conn: Connection, workspace_id: int, *, name: str, email: str,
              team: str | None, language: str, now: datetime) -> int:
    if not name.strip():
        raise ValueError("name: empty")
    if "@" not in email or email.strip() != email or len(email) > 254:
        raise ValueError(f"email: {email!r} is not an e-mail address")
    if db.owner_by_email(conn, workspace_id, email) is not None:
        raise ValueError(f"email: {email} is already an owner")
    return db.add_owner(conn, workspace_id=workspace_id, name=name.strip(), email=email,
                        team=(team or "").strip() or None, language=check_language(language),
                        now=now)


def set_owner_active(conn: Connection, workspace_id: int, email: str, *, active: bool,
                     now: datetime) -> None:
    """(De)activate an owner: an inactive one gets no new account (round robin skips
    them) and keeps the accounts they have."""
    if not db.set_owner_active(conn, workspace_id, email.strip(), active=active, now=now):
        raise NotFound("owner", email)


def add_assignment_rule(conn: Connection, workspace_id: int, *, kind: str,
                        conditions: Mapping[str, Any], owner_email: str | None,
                        team: str | None, now: datetime) -> int:
    checked = owners.check_conditions(kind, conditions, owner=bool(owner_email),
                                      team=bool(team))
    owner_id = None
    if owner_email:
        found = db.owner_by_email(conn, workspace_id, owner_email)
        if found is None:
            raise ValueError(f"owner: no owner has the e-mail {owner_email}")
        owner_id = found.id
    return db.add_assignment_rule(conn, workspace_id=workspace_id, kind=kind,
                                  conditions=checked, owner_id=owner_id, team=team or None,
                                  now=now)


def add_alert_rule(conn: Connection, workspace_id: int, *, kind: str,
                   params: Mapping[str, Any], channel: str, destination: str,
                   language: str = "en", cooldown_hours: float = DEFAULT_COOLDOWN_HOURS,
                   quiet_hours: str | None = None, timezone: str = DEFAULT_TIMEZONE,
                   digest: bool = False, now: datetime) -> int:
    checked = alerts.check_params(kind, params)
    if channel not in CHANNELS:
        raise ValueError(f"channel: {channel!r} is not one of {', '.join(CHANNELS)}")
    if not destination.strip():
        raise ValueError("destination: empty")
    if destination == OWNER and channel != "email":
        raise ValueError("destination: 'owner' (the owner's e-mail) needs --channel email")
    if digest and channel != "email":
        raise ValueError("digest: a daily digest is an e-mail (--channel email)")
    if cooldown_hours < 0:
        raise ValueError("cooldown: hours must be >= 0")
    if quiet_hours:
        alerts.parse_quiet(quiet_hours)
    alerts.check_timezone(timezone)
    return db.add_alert_rule(conn, workspace_id=workspace_id, kind=kind, params=checked,
                             channel=channel, destination=destination,
                             language=check_language(language), cooldown_hours=cooldown_hours,
                             quiet_hours=quiet_hours or None, timezone=timezone, digest=digest,
                             now=now)


def remove_assignment_rule(conn: Connection, workspace_id: int, rule_id: int, *,
                           now: datetime) -> None:
    if not db.remove_assignment_rule(conn, workspace_id, rule_id, now=now):
        raise NotFound("assignment_rule", rule_id)


def remove_alert_rule(conn: Connection, workspace_id: int, rule_id: int, *,
                      now: datetime) -> None:
    if not db.remove_alert_rule(conn, workspace_id, rule_id, now=now):
        raise NotFound("alert_rule", rule_id)


def enable_alert_rule(conn: Connection, workspace_id: int, rule_id: int, *, enabled: bool,
                      now: datetime) -> None:
    if not db.set_alert_rule_enabled(conn, workspace_id, rule_id, enabled=enabled, now=now):
        raise NotFound("alert_rule", rule_id)


__all__ = ["STAGES", "NotFound", "add_alert_rule", "add_assignment_rule", "add_owner",
           "enable_alert_rule", "late_accounts", "move_stage", "parse_sla", "remove_alert_rule",
           "remove_assignment_rule", "set_owner_active", "set_sla", "set_thresholds", "touch",
           "update_sla"]

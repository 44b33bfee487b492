"""Use cases of the lifecycle, for the command line (and later the dashboard): manual
stages, touches, late accounts, owners, assignment and alert rules.  Input is checked
here; ``ValueError`` messages name the bad option or field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from webleads.db import lifecycle as db
from webleads.lifecycle import alerts, owners
from webleads.lifecycle.model import DEFAULT_TIMEZONE, OWNER
from webleads.lifecycle.stages import STAGES, parse_stage
from webleads.outbox.model import CHANNELS, LANGUAGES
from webleads.scoring.explain import account_score

DEFAULT_COOLDOWN_HOURS = 24.0


class NotFound(LookupError):
    """No such account or owner."""


def move_stage(conn: Connection, account_id: int, stage: str, *, by: str, reason: str,
               now: datetime) -> tuple[str | None, str]:
    """Set an account's stage by hand; (previous, new).  Automatic transitions never
    change it afterwards."""
    new = parse_stage(stage)
    found = db.current_stage(conn, account_id)
    if found is None:
        raise NotFound(f"account {account_id}")
    if not by.strip():
        raise ValueError("by: who moved the account (a name)")
    workspace_id, previous = found
    db.set_stage(conn, account_id, workspace_id=workspace_id, stage=new, previous=previous,
                 by=by.strip(), reason=reason, now=now,
                 score=account_score(conn, account_id, now))
    return previous, new


def touch(conn: Connection, account_id: int, *, now: datetime) -> None:
    if not db.touch(conn, account_id, now=now):
        raise NotFound(f"account {account_id}")


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
        conn, db.workspace_ids(conn) if workspace_id is None else [workspace_id],
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
    for stage, hours in sla_hours.items():
        parse_stage(stage)
        if hours <= 0:
            raise ValueError(f"sla {stage}: hours must be > 0")
    db.set_thresholds(conn, workspace_id, sla_hours=sla_hours, now=now)


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


__all__ = ["STAGES", "NotFound", "add_alert_rule", "add_assignment_rule", "add_owner",
           "late_accounts", "move_stage", "set_sla", "touch"]

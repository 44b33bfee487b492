"""Value types of the lifecycle: settings, owners, assignment and alert rules, the facts
of an account that the after-batch hook reads, and the facts of a hit it needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from webleads.lifecycle.stages import Stage, Thresholds

AssignmentKind = Literal["territory", "sector", "target", "round_robin"]
ASSIGNMENT_KINDS: tuple[AssignmentKind, ...] = get_args(AssignmentKind)
AlertKind = Literal["becomes_mql", "score_crosses", "target_visits", "hot_page", "score_jump"]
ALERT_KINDS: tuple[AlertKind, ...] = get_args(AlertKind)
# The outbox kind of each alert kind (webleads/outbox/render.py has their subjects).
OUTBOX_KINDS: dict[AlertKind, str] = {
    "becomes_mql": "mql", "score_crosses": "score_threshold", "target_visits": "target_visit",
    "hot_page": "hot_page", "score_jump": "score_jump"}
OWNER = "owner"  # the destination that means "the account owner's e-mail"
DEFAULT_PAGES = ("/pricing*", "/contact*", "/demo*", "/tarifs*")
DEFAULT_TIMEZONE = "Europe/Paris"


class HitFacts(Protocol):
    """What the hook reads of a stored hit: a ``ScoringInput`` has all of it."""

    @property
    def workspace_id(self) -> int: ...
    @property
    def account_id(self) -> int | None: ...
    @property
    def site_id(self) -> int: ...
    @property
    def url(self) -> str: ...
    @property
    def page_group(self) -> str | None: ...
    @property
    def ts(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class HitFact:
    """A minimal ``HitFacts`` (``url`` may be a full URL or a path)."""

    workspace_id: int
    account_id: int | None
    site_id: int
    url: str
    page_group: str | None
    ts: datetime


@dataclass(frozen=True, slots=True)
class Owner:
    id: int
    workspace_id: int
    name: str
    email: str
    team: str | None
    language: str
    active: bool


@dataclass(frozen=True, slots=True)
class AssignmentRule:
    id: int
    workspace_id: int
    position: int
    kind: AssignmentKind
    conditions: dict[str, Any]
    owner_id: int | None
    team: str | None


@dataclass(frozen=True, slots=True)
class AlertRule:
    id: int
    workspace_id: int
    kind: AlertKind
    params: dict[str, Any]
    channel: str
    destination: str
    language: str
    cooldown_hours: float
    quiet_hours: str | None
    timezone: str
    digest: bool
    enabled: bool


@dataclass(frozen=True, slots=True)
class LifecycleSettings:
    workspace_id: int
    thresholds: Thresholds
    sla_hours: dict[str, float]
    version: int


@dataclass(frozen=True, slots=True)
class Config:
    """What the hook needs of a workspace, cached per (database, workspace, version)."""

    settings: LifecycleSettings
    owners: dict[int, Owner] = field(default_factory=dict)
    assignment: tuple[AssignmentRule, ...] = ()
    alerts: tuple[AlertRule, ...] = ()


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """An account as the hook sees it, read in one query per batch."""

    id: int
    workspace_id: int
    name: str
    domain: str | None
    country: str | None
    in_target: bool
    weight: int                 # the decay-invariant score sum (0: never scored)
    stage: Stage | None         # None: no row in account_stages yet
    manual: bool
    since: datetime | None
    by: str | None
    last_score: float | None    # the decayed score at the previous batch
    scored_at: datetime | None
    owner_id: int | None
    naf: str | None
    postcode: str | None

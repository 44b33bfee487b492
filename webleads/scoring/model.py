"""Values of the scoring: what a stored hit says to the rules, ledger lines, reasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple, Protocol

Grade = Literal["A", "B", "C", "D"]
GRADES: tuple[Grade, ...] = ("A", "B", "C", "D")
GRADE_WEIGHTS: dict[Grade, float] = {"A": 1.0, "B": 0.75, "C": 0.5, "D": 0.25}

# Placeholder stages until the lifecycle work (issue 4, item 4): only the two that a
# score alone decides.
# The lifecycle's stages (webleads/lifecycle/stages.py); before an account has one, the
# score alone says anonymous or engaged.
Stage = Literal["anonymous", "engaged", "mql", "sql", "opportunity", "customer",
                "disqualified", "lost"]


class HitFacts(Protocol):
    """What the rules read of a hit: a ``ScoringInput``, or a ``StoredHit`` (rescore)."""

    @property
    def workspace_id(self) -> int: ...
    @property
    def site_id(self) -> int: ...
    @property
    def account_id(self) -> int | None: ...
    @property
    def contact_id(self) -> int | None: ...
    @property
    def session_id(self) -> int: ...
    @property
    def hit_id(self) -> int | None: ...
    @property
    def visitor_key(self) -> str: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def type(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def page_group(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def source_class(self) -> str | None: ...
    @property
    def utm_source(self) -> str | None: ...
    @property
    def utm_medium(self) -> str | None: ...
    @property
    def utm_campaign(self) -> str | None: ...
    @property
    def engaged_ms(self) -> int: ...
    @property
    def returning(self) -> bool: ...
    @property
    def href(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ScoringInput:
    """One stored hit, as the scoring rules see it.

    ``hit_id`` is None when the writer does not know it: ``(session_id, ts)`` then
    references the hit.  ``returning``: the visitor had a session that started before
    this hit's session (``db.scoring.returning_sessions`` says which sessions are).
    ``href`` is the link of a click or download hit (``props.href``), if any.
    """

    workspace_id: int
    site_id: int
    account_id: int | None
    contact_id: int | None
    session_id: int
    hit_id: int | None
    visitor_key: str
    ts: datetime
    type: str
    url: str
    page_group: str | None
    name: str | None
    source_class: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    engaged_ms: int
    returning: bool
    href: str | None = None


class StoredHit(NamedTuple):
    """The same facts as ``ScoringInput``, as a named tuple: a rescore reads a million of
    them, and a tuple is built several times faster than a frozen dataclass."""

    workspace_id: int
    site_id: int
    account_id: int | None
    contact_id: int | None
    session_id: int
    hit_id: int | None
    visitor_key: str
    ts: datetime
    type: str
    url: str
    page_group: str | None
    name: str | None
    source_class: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    engaged_ms: int
    returning: bool
    href: str | None = None


class Line(NamedTuple):
    """A line of the score ledger: ``points`` given by a rule for a hit.  (A named tuple:
    a rescore makes one per scoring hit.)"""

    workspace_id: int
    account_id: int | None
    contact_id: int | None
    rule_id: int | None
    site_id: int
    session_id: int
    hit_id: int | None
    ts: datetime
    points: int
    weight: int
    page_group: str | None

    def order(self) -> tuple[datetime, int, int, str]:
        """The order in which lines fill a cap: the earliest hits keep their points."""
        return (self.ts, self.session_id, self.contact_id or 0, self.page_group or "")


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an account has its score: the lines of one rule (``rule_id`` None and name
    ``decay`` for the points lost to decay, as ``decayed``)."""

    rule_id: int | None
    name: str
    label: str
    label_fr: str | None
    points: int  # per line
    count: int
    raw: int  # points * count
    decayed: float  # what the lines are worth now

    def text(self, lang: str = "en") -> str:
        label = self.label_fr if lang.startswith("fr") and self.label_fr else self.label
        if self.rule_id is None and self.name == "decay":
            return f"{self.decayed:+.0f} {label}"
        times = f" ×{self.count}" if self.count > 1 else ""
        return f"{self.points:+d} {label}{times}"

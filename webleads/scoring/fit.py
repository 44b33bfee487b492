"""Fit grade A-D from firmographic rules, and the combined priority.

A fit rule gives its points when **all** its conditions hold:

- ``naf``: prefixes of the French activity code (``62``, ``62.01``; dots optional);
- ``headcount``: INSEE headcount band codes (``21``, ``22`` ...);
- ``min_employees`` / ``max_employees``: the band's lower bound at least / upper bound
  at most this many employees (an unknown headcount never matches);
- ``country``: ISO codes of the account's country;
- ``in_target``: the account is (true) or is not (false) on the target list;
- ``category``: enterprise, education, government.

The points of the rules that hold add up; the grade is A from ``grade_a`` points, B from
``grade_b``, C from ``grade_c``, D below.  Priority = score × grade weight (A 1.0,
B 0.75, C 0.5, D 0.25).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from webleads.scoring.decay import MAX_POINTS
from webleads.scoring.model import GRADE_WEIGHTS, Grade
from webleads.scoring.rules import NAME_RE, Checker, Problem, parse_named

# INSEE "tranche d'effectif salarié": code -> (lower bound, upper bound) of employees.
HEADCOUNT_BANDS: dict[str, tuple[int, int]] = {
    "00": (0, 0), "01": (1, 2), "02": (3, 5), "03": (6, 9), "11": (10, 19), "12": (20, 49),
    "21": (50, 99), "22": (100, 199), "31": (200, 249), "32": (250, 499), "41": (500, 999),
    "42": (1000, 1999), "51": (2000, 4999), "52": (5000, 9999), "53": (10000, 10 ** 9),
}
CATEGORIES = ("enterprise", "education", "government")
FIT_CONDITIONS = ("naf", "headcount", "min_employees", "max_employees", "country",
                  "in_target", "category")
FIT_FIELDS = ("name", "label", "label_fr", "points", "enabled", "when")


@dataclass(frozen=True, slots=True)
class FitConditions:
    naf: tuple[str, ...] = ()
    headcount: tuple[str, ...] = ()
    min_employees: int | None = None
    max_employees: int | None = None
    country: tuple[str, ...] = ()
    in_target: bool | None = None
    category: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in FIT_CONDITIONS:
            v = getattr(self, name)
            if v is None or v == ():
                continue
            out[name] = list(v) if isinstance(v, tuple) else v
        return out


@dataclass(frozen=True, slots=True)
class FitRule:
    name: str
    label: str
    points: int
    when: FitConditions = field(default_factory=FitConditions)
    enabled: bool = True
    label_fr: str | None = None
    id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "label": self.label}
        if self.label_fr:
            out["label_fr"] = self.label_fr
        out["points"] = self.points
        if not self.enabled:
            out["enabled"] = False
        out["when"] = self.when.as_dict()
        return out


@dataclass(frozen=True, slots=True)
class Firmographics:
    """What is known of an account's organisation."""

    country: str | None = None
    naf: str | None = None
    headcount_band: str | None = None
    in_target: bool = False
    category: str | None = None


@dataclass(frozen=True, slots=True)
class Thresholds:
    a: int = 60
    b: int = 35
    c: int = 15


def _naf_key(code: str) -> str:
    return code.replace(".", "").upper()


def holds(rule: FitRule, firm: Firmographics) -> bool:
    w = rule.when
    if w.in_target is not None and firm.in_target != w.in_target:
        return False
    if w.country and (firm.country or "").upper() not in w.country:
        return False
    if w.category and firm.category not in w.category:
        return False
    if w.naf:
        naf = _naf_key(firm.naf or "")
        if not naf or not any(naf.startswith(_naf_key(p)) for p in w.naf):
            return False
    if w.headcount and firm.headcount_band not in w.headcount:
        return False
    if w.min_employees is not None or w.max_employees is not None:
        band = HEADCOUNT_BANDS.get(firm.headcount_band or "")
        if band is None:
            return False
        if w.min_employees is not None and band[0] < w.min_employees:
            return False
        if w.max_employees is not None and band[1] > w.max_employees:
            return False
    return True


def fit_points(rules: Iterable[FitRule], firm: Firmographics) -> int:
    return sum(r.points for r in rules if r.enabled and holds(r, firm))


def grade(rules: Iterable[FitRule], firm: Firmographics, thresholds: Thresholds) -> Grade:
    points = fit_points(rules, firm)
    if points >= thresholds.a:
        return "A"
    if points >= thresholds.b:
        return "B"
    if points >= thresholds.c:
        return "C"
    return "D"


def priority(score: float, fit: Grade) -> float:
    return score * GRADE_WEIGHTS[fit]


def parse_fit_rule(data: Any, where: str, problems: list[Problem]) -> FitRule | None:
    if not isinstance(data, Mapping):
        problems.append(Problem(where, None, "", "type", "table"))
        return None
    before = len(problems)
    c = Checker(data, where, problems)
    c.unknown(FIT_FIELDS)
    name = c.string("name", required=True, max_len=100)
    if name is not None and not NAME_RE.match(name):
        c.problem("name", "bad_name")
    label = c.string("label", required=True)
    label_fr = c.string("label_fr")
    points = c.integer("points", required=True, low=-MAX_POINTS, high=MAX_POINTS)
    enabled = c.boolean("enabled")
    when = c.mapping("when")
    p = "when."
    c.unknown(FIT_CONDITIONS, prefix=p, data=when)
    headcount = c.strings("headcount", data=when, prefix=p, choices=tuple(HEADCOUNT_BANDS))
    conditions = FitConditions(
        naf=c.strings("naf", data=when, prefix=p),
        headcount=headcount,
        min_employees=c.integer("min_employees", data=when, prefix=p, low=0),
        max_employees=c.integer("max_employees", data=when, prefix=p, low=0),
        country=c.strings("country", data=when, prefix=p, upper=True),
        in_target=c.boolean("in_target", data=when, prefix=p),
        category=c.strings("category", data=when, prefix=p, choices=CATEGORIES),
    )
    for code in conditions.country:
        if len(code) != 2 or not code.isalpha():
            c.problem(p + "country", "bad_value", f"{code!r}: two-letter ISO codes")
            break
    if len(problems) > before:
        return None
    assert name is not None and label is not None and points is not None
    return FitRule(name=name, label=label, label_fr=label_fr, points=points, when=conditions,
                   enabled=enabled is not False)


def parse_fit_rules(items: Any, section: str, problems: list[Problem]) -> list[FitRule]:
    return parse_named(items, section, problems, parse_fit_rule)

"""Behaviour rules: conditions on a stored hit, points, a cap per period.

A rule scores a hit when **all** its conditions hold:

- ``types``: hit types (pageview, engagement, click, download, form, event, identify);
- ``path`` (globs, ``*`` matches anything, ``/`` included) or ``path_regex`` (searched)
  on the path of the page URL, both case-insensitive;
- ``href``: globs on the link of a click or download (``*.pdf``);
- ``page_group``, ``event`` (the event or form name), ``source_class``: one of the values;
- ``utm_source``, ``utm_medium``, ``utm_campaign``: globs, case-insensitive;
- ``min_engaged_ms``: the hit's engaged time at least this;
- ``returning``: true when the visitor had an earlier session (false: first session).

Rules are data: ``parse_rule`` validates one from a mapping (TOML or JSON) and names
the field of every problem; ``matching.CompiledRules`` turns a list into a fast matcher.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from webleads.model import HIT_TYPES
from webleads.scoring.decay import MAX_POINTS, PERIODS, Period

_T = TypeVar("_T")

SOURCE_CLASSES = ("search", "social", "email", "paid", "referral", "direct", "internal")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a rule: where (``rules[3]``), the rule's name, the field."""

    where: str
    rule: str | None
    field: str
    code: str  # a key of webleads/scoring/messages.py: problem_<code>
    detail: str = ""


class RulesError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.where} {p.rule or ''} {p.field}: {p.code} {p.detail}"
                                   for p in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Conditions:
    types: tuple[str, ...] = ()
    path: tuple[str, ...] = ()
    path_regex: str | None = None
    href: tuple[str, ...] = ()
    page_group: tuple[str, ...] = ()
    event: tuple[str, ...] = ()
    source_class: tuple[str, ...] = ()
    utm_source: tuple[str, ...] = ()
    utm_medium: tuple[str, ...] = ()
    utm_campaign: tuple[str, ...] = ()
    min_engaged_ms: int | None = None
    returning: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """The conditions that are set, in field order (JSON and TOML form)."""
        out: dict[str, Any] = {}
        for name in CONDITION_FIELDS:
            v = getattr(self, name)
            if v is None or v == ():
                continue
            out[name] = list(v) if isinstance(v, tuple) else v
        return out


CONDITION_FIELDS = tuple(Conditions.__dataclass_fields__)
_LIST_FIELDS = ("types", "path", "href", "page_group", "event", "source_class",
                "utm_source", "utm_medium", "utm_campaign")


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    label: str
    points: int
    when: Conditions = field(default_factory=Conditions)
    cap: int | None = None
    per: Period | None = None
    enabled: bool = True
    label_fr: str | None = None
    id: int | None = None  # the database row, once stored

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "label": self.label}
        if self.label_fr:
            out["label_fr"] = self.label_fr
        out["points"] = self.points
        if self.cap is not None:
            out["cap"] = self.cap
            out["per"] = self.per
        if not self.enabled:
            out["enabled"] = False
        out["when"] = self.when.as_dict()
        return out


# -- validation ---------------------------------------------------------------------------

class Checker:
    """Reads typed fields of one mapping, recording problems instead of raising."""

    def __init__(self, data: Mapping[str, Any], where: str, problems: list[Problem]) -> None:
        self.data = data
        self.where = where
        self.problems = problems
        name = data.get("name")
        self.rule = name if isinstance(name, str) else None

    def problem(self, field_name: str, code: str, detail: str = "") -> None:
        self.problems.append(Problem(self.where, self.rule, field_name, code, detail))

    def unknown(self, allowed: Iterable[str], prefix: str = "",
                data: Mapping[str, Any] | None = None) -> None:
        known = set(allowed)
        for key in (data if data is not None else self.data):
            if key not in known:
                self.problem(prefix + str(key), "unknown_field", ", ".join(sorted(known)))

    def string(self, name: str, *, required: bool = False, max_len: int = 200,
               data: Mapping[str, Any] | None = None, prefix: str = "") -> str | None:
        v = (data if data is not None else self.data).get(name)
        if v is None:
            if required:
                self.problem(prefix + name, "required")
            return None
        if not isinstance(v, str) or not v.strip():
            self.problem(prefix + name, "type", "text")
            return None
        if len(v) > max_len:
            self.problem(prefix + name, "range", f"at most {max_len} characters")
            return None
        return v

    def integer(self, name: str, *, required: bool = False, low: int | None = None,
                high: int | None = None, data: Mapping[str, Any] | None = None,
                prefix: str = "") -> int | None:
        v = (data if data is not None else self.data).get(name)
        if v is None:
            if required:
                self.problem(prefix + name, "required")
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            self.problem(prefix + name, "type", "integer")
            return None
        if (low is not None and v < low) or (high is not None and v > high):
            self.problem(prefix + name, "range", f"{low} .. {high}")
            return None
        return v

    def number(self, name: str, *, low: float, high: float) -> float | None:
        v = self.data.get(name)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            self.problem(name, "type", "number")
            return None
        if not low <= v <= high:
            self.problem(name, "range", f"{low} .. {high}")
            return None
        return float(v)

    def boolean(self, name: str, *, data: Mapping[str, Any] | None = None,
                prefix: str = "") -> bool | None:
        v = (data if data is not None else self.data).get(name)
        if v is None:
            return None
        if not isinstance(v, bool):
            self.problem(prefix + name, "type", "true or false")
            return None
        return v

    def strings(self, name: str, *, data: Mapping[str, Any], prefix: str = "",
                choices: Iterable[str] | None = None, upper: bool = False) -> tuple[str, ...]:
        v = data.get(name)
        if v is None:
            return ()
        items = [v] if isinstance(v, str) else v
        if not isinstance(items, list) or not items or not all(
                isinstance(x, str) and x for x in items):
            self.problem(prefix + name, "type", "text or list of texts")
            return ()
        values = tuple(x.upper() if upper else x for x in cast(list[str], items))
        if choices is not None:
            allowed = set(choices)
            for x in values:
                if x not in allowed:
                    self.problem(prefix + name, "bad_value", f"{x!r}: {', '.join(choices)}")
                    return ()
        return values

    def mapping(self, name: str) -> Mapping[str, Any]:
        v = self.data.get(name, {})
        if not isinstance(v, Mapping):
            self.problem(name, "type", "table")
            return {}
        return v


RULE_FIELDS = ("name", "label", "label_fr", "points", "cap", "per", "enabled", "when")


def parse_rule(data: Any, where: str, problems: list[Problem]) -> Rule | None:
    """A rule from a mapping, or None with its problems added to ``problems``."""
    if not isinstance(data, Mapping):
        problems.append(Problem(where, None, "", "type", "table"))
        return None
    before = len(problems)
    c = Checker(data, where, problems)
    c.unknown(RULE_FIELDS)
    name = c.string("name", required=True, max_len=100)
    if name is not None and not NAME_RE.match(name):
        c.problem("name", "bad_name")
    label = c.string("label", required=True)
    label_fr = c.string("label_fr")
    points = c.integer("points", required=True, low=-MAX_POINTS, high=MAX_POINTS)
    cap = c.integer("cap", low=1, high=1_000_000)
    per = c.string("per", max_len=8)
    if per is not None and per not in PERIODS:
        c.problem("per", "bad_value", f"{per!r}: {', '.join(PERIODS)}")
    if (cap is None) != (per is None) and len(problems) == before:
        c.problem("per" if cap is not None else "cap", "cap_needs_both")
    enabled = c.boolean("enabled")
    when = parse_conditions(c, c.mapping("when"))
    if len(problems) > before:
        return None
    assert name is not None and label is not None and points is not None
    return Rule(name=name, label=label, label_fr=label_fr, points=points, when=when, cap=cap,
                per=cast(Period | None, per), enabled=enabled is not False)


def parse_conditions(c: Checker, when: Mapping[str, Any]) -> Conditions:
    p = "when."
    c.unknown(CONDITION_FIELDS, prefix=p, data=when)
    values: dict[str, Any] = {}
    for name in _LIST_FIELDS:
        choices: tuple[str, ...] | None = None
        if name == "types":
            choices = HIT_TYPES
        elif name == "source_class":
            choices = SOURCE_CLASSES
        values[name] = c.strings(name, data=when, prefix=p, choices=choices)
    regex = c.string("path_regex", data=when, prefix=p, max_len=1000)
    if regex is not None:
        try:
            re.compile(regex)
        except re.error as exc:
            c.problem(p + "path_regex", "bad_regex", str(exc))
    values["path_regex"] = regex
    values["min_engaged_ms"] = c.integer("min_engaged_ms", data=when, prefix=p, low=0,
                                         high=86_400_000)
    values["returning"] = c.boolean("returning", data=when, prefix=p)
    return Conditions(**values)


def parse_named(items: Any, section: str, problems: list[Problem],
                parse_one: Callable[[Any, str, list[Problem]], _T | None]) -> list[_T]:
    """An array of tables with unique ``name``s (scoring and fit rules), each parsed by
    ``parse_one``; every problem is collected, none stops the others."""
    if not isinstance(items, list):
        problems.append(Problem(section, None, "", "type", "array of tables"))
        return []
    parsed: list[_T] = []
    seen: set[str] = set()
    for i, data in enumerate(items):
        one = parse_one(data, f"{section}[{i + 1}]", problems)
        name = data.get("name") if isinstance(data, Mapping) else None
        if isinstance(name, str):
            if name in seen:
                problems.append(Problem(f"{section}[{i + 1}]", name, "name", "duplicate"))
            seen.add(name)
        if one is not None:
            parsed.append(one)
    return parsed


def parse_rules(items: Any, section: str, problems: list[Problem]) -> list[Rule]:
    return parse_named(items, section, problems, parse_rule)

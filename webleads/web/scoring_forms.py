"""The forms of the scoring settings: a behaviour rule, a fit rule and the thresholds,
read into the mappings that ``scoring.rules.parse_rule`` and ``scoring.fit.parse_fit_rule``
validate (the same checks as ``webleads scoring import``), and their problems turned
into messages next to the form's fields."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from webleads.lifecycle.stages import Thresholds as StageThresholds
from webleads.model import HIT_TYPES
from webleads.scoring.decay import MAX_POINTS, PERIODS
from webleads.scoring.fit import CATEGORIES, HEADCOUNT_BANDS, FitRule, parse_fit_rule
from webleads.scoring.fit import Thresholds as Grades
from webleads.scoring.rules import SOURCE_CLASSES, Problem, Rule, parse_rule
from webleads.web.i18n import Translator
from webleads.web.settings_forms import Fields

LIST_FIELDS = ("path", "href", "page_group", "event", "utm_source", "utm_medium",
               "utm_campaign")
FIT_LIST_FIELDS = ("naf", "country")
ANY_YES_NO = ("", "yes", "no")


def slug(label: str, taken: Iterable[str]) -> str:
    """A rule name from its label: "Pricing page" -> "pricing-page" (unique)."""
    ascii_ = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:90] or "rule"
    used = set(taken)
    name, n = base, 2
    while name in used:
        name, n = f"{base}-{n}", n + 1
    return name


def _flag(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _int_or_text(value: str) -> int | str | None:
    if not value:
        return None
    try:
        return int(value.replace(" ", ""))
    except ValueError:
        return value  # the parser names the field: "expected integer"


def _common(f: Fields) -> dict[str, Any]:
    data: dict[str, Any] = {"label": f.text("label") or None}
    if label_fr := f.text("label_fr"):
        data["label_fr"] = label_fr
    data["points"] = _int_or_text(f.text("points", max_len=30))
    if not f.checked("enabled"):
        data["enabled"] = False
    return data


def rule_data(f: Fields, name: str) -> dict[str, Any]:
    """The mapping of a behaviour rule from its form (``name``: kept or generated)."""
    data = {"name": name, **_common(f)}
    cap, per = _int_or_text(f.text("cap", max_len=30)), f.choice("per", ("", *PERIODS), "")
    if cap is not None:
        data["cap"] = cap
    if per:
        data["per"] = per
    when: dict[str, Any] = {}
    if types := f.choices("types", HIT_TYPES):
        when["types"] = types
    if sources := f.choices("source_class", SOURCE_CLASSES):
        when["source_class"] = sources
    for key in LIST_FIELDS:
        if values := f.items(key):
            when[key] = values
    if regex := f.text("path_regex", max_len=1000):
        when["path_regex"] = regex
    seconds = f.number("min_engaged_s", low=0, high=86_400)
    if seconds is not None:
        when["min_engaged_ms"] = round(seconds * 1000)
    returning = _flag(f.choice("returning", ANY_YES_NO, ""))
    if returning is not None:
        when["returning"] = returning
    data["when"] = when
    return data


def fit_data(f: Fields, name: str) -> dict[str, Any]:
    data = {"name": name, **_common(f)}
    when: dict[str, Any] = {}
    for key in FIT_LIST_FIELDS:
        if values := f.items(key):
            when[key] = values
    if bands := f.choices("headcount", tuple(HEADCOUNT_BANDS)):
        when["headcount"] = bands
    if categories := f.choices("category", CATEGORIES):
        when["category"] = categories
    for key in ("min_employees", "max_employees"):
        value = f.integer(key, low=0, high=10 ** 9)
        if value is not None:
            when[key] = value
    in_target = _flag(f.choice("in_target", ANY_YES_NO, ""))
    if in_target is not None:
        when["in_target"] = in_target
    data["when"] = when
    return data


def field_of(problem: Problem) -> str:
    name = problem.field.removeprefix("when.")
    return {"min_engaged_ms": "min_engaged_s", "": "label"}.get(name, name)


def problem_message(t: Translator, p: Problem) -> str:
    kinds = {"integer": t("a whole number"), "text": t("a text"),
             "text or list of texts": t("a list of values"), "true or false": t("yes or no")}
    messages = {
        "required": t("Required."),
        "type": t("Expected %(kind)s.", kind=kinds.get(p.detail, p.detail)),
        "range": t("Out of range (%(range)s).", range=p.detail.replace("None", "…")),
        "bad_value": t("Not allowed: %(value)s", value=p.detail),
        "bad_regex": t("Not a valid regular expression: %(error)s", error=p.detail),
        "bad_name": t("Use lower-case letters, digits, “_”, “-” and “.” only."),
        "duplicate": t("Another rule already has this name."),
        "cap_needs_both": t("A cap needs a number of times and a period."),
    }
    return str(messages.get(p.code, t("Invalid value.")))


def parse_behaviour(f: Fields, name: str, others: Iterable[Rule]) -> Rule | None:
    """The rule of a submitted form, or None with the problems in ``f.errors``."""
    problems: list[Problem] = []
    rule = parse_rule(rule_data(f, name), "rule", problems)
    if name in {r.name for r in others}:
        problems.append(Problem("rule", name, "name", "duplicate"))
    for p in problems:
        f.error(field_of(p), problem_message(f.t, p))
    return None if f.errors else rule


def parse_fit(f: Fields, name: str, others: Iterable[FitRule]) -> FitRule | None:
    problems: list[Problem] = []
    rule = parse_fit_rule(fit_data(f, name), "fit", problems)
    if name in {r.name for r in others}:
        problems.append(Problem("fit", name, "name", "duplicate"))
    for p in problems:
        f.error(field_of(p), problem_message(f.t, p))
    return None if f.errors else rule


def parse_thresholds(f: Fields) -> tuple[float, Grades, StageThresholds] | None:
    half_life = f.number("half_life_days", low=0.01, high=3650, required=True)
    a, b, c = (f.integer(k, low=-MAX_POINTS * 100, high=MAX_POINTS * 100, required=True)
               for k in ("grade_a", "grade_b", "grade_c"))
    engaged = f.number("engaged", low=0, high=1e9, required=True)
    mql = f.number("mql", low=0, high=1e9, required=True)
    if a is not None and b is not None and c is not None and not a >= b >= c:
        f.error("grade_b", str(f.t("Grades go down: A ≥ B ≥ C.")))
    if engaged is not None and mql is not None and engaged > mql:
        f.error("mql", str(f.t("The MQL threshold cannot be below the engaged threshold.")))
    if f.errors:
        return None
    assert half_life is not None and a is not None and b is not None and c is not None
    assert engaged is not None and mql is not None
    return half_life, Grades(a, b, c), StageThresholds(engaged, mql)

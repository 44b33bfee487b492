"""The scoring configuration of a workspace as a TOML document: read, validate, write.

```toml
[settings]
half_life_days = 30.0   # points lose half their value in this time
engaged_score = 20.0    # stage "engaged" from this score on

[grades]                # fit points needed for grades A, B, C (D below)
a = 60
b = 35
c = 15

[[rules]]
name = "pricing"
label = "pricing page"
label_fr = "page tarifs"
points = 20
cap = 1
per = "day"
when = { types = ["pageview"], path_regex = "/(pricing|tarifs?)(/|$)" }

[[fit]]
name = "target"
label = "target account"
points = 60
when = { in_target = true }
```

A section that is absent is left as it is on import.  Python's ``tomllib`` reads;
``dump`` writes with a small writer (strings, numbers, booleans, arrays, inline tables
are all this document needs).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from webleads.scoring.fit import FitRule, Thresholds, parse_fit_rules
from webleads.scoring.rules import Checker, Problem, Rule, RulesError, parse_rules

SECTIONS = ("settings", "grades", "rules", "fit")


@dataclass(frozen=True, slots=True)
class ScoringSettings:
    half_life_days: float = 30.0
    engaged_score: float = 20.0


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    settings: ScoringSettings | None = None
    grades: Thresholds | None = None
    rules: list[Rule] | None = None
    fit: list[FitRule] | None = None


def parse(data: Mapping[str, Any]) -> ScoringConfig:
    """Validate a whole document; raises ``RulesError`` naming every problem."""
    problems: list[Problem] = []
    top = Checker(data, "", problems)
    top.unknown(SECTIONS)
    settings = grades = None
    if "settings" in data:
        c = Checker(top.mapping("settings"), "settings", problems)
        c.unknown(("half_life_days", "engaged_score"))
        half_life = c.number("half_life_days", low=0.01, high=3650.0)
        engaged = c.number("engaged_score", low=0.0, high=1e9)
        settings = ScoringSettings(half_life if half_life is not None else 30.0,
                                   engaged if engaged is not None else 20.0)
    if "grades" in data:
        c = Checker(top.mapping("grades"), "grades", problems)
        c.unknown(("a", "b", "c"))
        a, b, cc = (c.integer(k, required=True, low=-10 ** 6, high=10 ** 6)
                    for k in ("a", "b", "c"))
        if a is not None and b is not None and cc is not None:
            if not a >= b >= cc:
                c.problem("a", "grades_order")
            grades = Thresholds(a, b, cc)
    rules = parse_rules(data["rules"], "rules", problems) if "rules" in data else None
    fit = parse_fit_rules(data["fit"], "fit", problems) if "fit" in data else None
    if problems:
        raise RulesError(problems)
    return ScoringConfig(settings, grades, rules, fit)


def loads(text: str) -> ScoringConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError([Problem("", None, "", "bad_toml", str(exc))]) from exc
    return parse(data)


def defaults() -> ScoringConfig:
    """The default configuration shipped in ``defaults.toml``."""
    text = resources.files("webleads.scoring").joinpath("defaults.toml").read_text("utf-8")
    return loads(text)


def dump(config: ScoringConfig) -> str:
    lines = ["# webleads scoring rules: edit, then  webleads scoring import FILE", ""]
    if config.settings is not None:
        lines += ["[settings]", f"half_life_days = {_value(config.settings.half_life_days)}",
                  f"engaged_score = {_value(config.settings.engaged_score)}", ""]
    if config.grades is not None:
        g = config.grades
        lines += ["[grades]", f"a = {g.a}", f"b = {g.b}", f"c = {g.c}", ""]
    for section, items in (("rules", config.rules), ("fit", config.fit)):
        for rule in items or []:
            lines.append(f"[[{section}]]")
            lines += [f"{k} = {_value(v)}" for k, v in rule.as_dict().items()]
            lines.append("")
    return "\n".join(lines)


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}


def _string(s: str) -> str:
    if "'" not in s and not any(ord(ch) < 32 or ord(ch) == 127 for ch in s):
        return f"'{s}'"  # a literal string: regular expressions stay readable
    out = []
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _key(k: str) -> str:
    return k if _BARE_KEY.match(k) else _string(k)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"no TOML for {v!r}")
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_key(str(k))} = {_value(x)}" for k, x in v.items()) + " }" \
            if v else "{}"
    raise TypeError(f"no TOML for {type(v).__name__}")

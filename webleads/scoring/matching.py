"""Fast matching of stored hits against a workspace's rules (see ``rules.py``).

``CompiledRules`` indexes the enabled rules by hit type, caches which path conditions
hold per URL, and turns every other condition into one small test.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from webleads.model import HIT_TYPES
from webleads.scoring.model import HitFacts
from webleads.scoring.rules import Conditions, Rule


@lru_cache(maxsize=65536)
def url_path(url: str) -> str:
    """The path of a page URL ("/" when it has none; the URL itself when unparsable)."""
    try:
        return urlsplit(url).path or "/"
    except ValueError:
        return url


def _globs(patterns: tuple[str, ...]) -> Callable[[str], object] | None:
    if not patterns:
        return None
    joined = "|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)
    return re.compile(joined, re.IGNORECASE | re.DOTALL).match


Check = Callable[[HitFacts], bool]


def _equals(field_name: str, value: object) -> Check:
    return lambda h: bool(getattr(h, field_name) == value)


def _at_least(field_name: str, low: int) -> Check:
    return lambda h: bool(getattr(h, field_name) >= low)


def _one_of(field_name: str, values: frozenset[str]) -> Check:
    return lambda h: getattr(h, field_name) in values


def _glob_on(field_name: str, match: Callable[[str], object]) -> Check:
    def check(h: HitFacts) -> bool:
        value = getattr(h, field_name)
        return bool(value and match(value))
    return check


def _checks(w: Conditions) -> tuple[Check, ...]:
    """One small test per condition other than types and path, cheapest first."""
    out: list[Check] = []
    if w.returning is not None:
        out.append(_equals("returning", w.returning))
    if w.min_engaged_ms is not None:
        out.append(_at_least("engaged_ms", w.min_engaged_ms))
    for name, field_name in (("page_group", "page_group"), ("event", "name"),
                             ("source_class", "source_class")):
        values = frozenset(getattr(w, name))
        if values:
            out.append(_one_of(field_name, values))
    for name in ("href", "utm_source", "utm_medium", "utm_campaign"):
        match = _globs(getattr(w, name))
        if match is not None:
            out.append(_glob_on(name, match))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    rule_id: int
    path: Callable[[str], object] | None
    path_regex: Callable[[str], object] | None
    checks: tuple[Check, ...]

    @property
    def on_path(self) -> bool:
        return self.path is not None or self.path_regex is not None

    def path_holds(self, path: str) -> bool:
        if self.path is not None and not self.path(path):
            return False
        return not (self.path_regex is not None and not self.path_regex(path))

    def others_hold(self, hit: HitFacts) -> bool:
        for check in self.checks:
            if not check(hit):
                return False
        return True

    def matches(self, hit: HitFacts) -> bool:
        return (not self.on_path or self.path_holds(url_path(hit.url))) and \
            self.others_hold(hit)


_PATH_CACHE_MAX = 50_000


class CompiledRules:
    """The enabled rules of a workspace, indexed by hit type.  Which path conditions
    hold is computed once per URL (URLs repeat far more than hits do)."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.by_type: dict[str, list[CompiledRule]] = {t: [] for t in HIT_TYPES}
        self.capped: dict[int, Rule] = {}  # rule id -> rule, of the capped rules
        self._on_path: list[CompiledRule] = []
        self._paths: dict[str, frozenset[int]] = {}
        # per type: (rule, its id when it has a path condition, its other checks)
        self._entries: dict[str, list[tuple[CompiledRule, int | None, tuple[Check, ...]]]] = {
            t: [] for t in HIT_TYPES}
        for rule in rules:
            if not rule.enabled or rule.points == 0:
                continue
            assert rule.id is not None, "compile stored rules"
            if rule.cap is not None:
                self.capped[rule.id] = rule
            w = rule.when
            compiled = CompiledRule(
                rule, rule.id, _globs(w.path),
                re.compile(w.path_regex, re.IGNORECASE).search if w.path_regex else None,
                _checks(w))
            entry = (compiled, compiled.rule_id if compiled.on_path else None, compiled.checks)
            if compiled.on_path:
                self._on_path.append(compiled)
            for t in w.types or HIT_TYPES:
                self.by_type[t].append(compiled)
                self._entries[t].append(entry)

    def _path_rules(self, url: str) -> frozenset[int]:
        found = self._paths.get(url)
        if found is None:
            if len(self._paths) >= _PATH_CACHE_MAX:
                self._paths.clear()
            path = url_path(url)
            found = self._paths[url] = frozenset(
                r.rule_id for r in self._on_path if r.path_holds(path))
        return found

    def matching(self, hit: HitFacts) -> list[CompiledRule]:
        entries = self._entries.get(hit.type)
        if not entries:
            return []
        paths = self._path_rules(hit.url) if self._on_path else frozenset()
        out = []
        for compiled, path_id, checks in entries:
            if path_id is not None and path_id not in paths:
                continue
            for check in checks:
                if not check(hit):
                    break
            else:
                out.append(compiled)
        return out

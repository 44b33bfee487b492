"""The user documentation keeps up with the code.

Each closed vocabulary of the code (settings, rejection reasons, drop reasons, metric
names, pinned dependencies) must appear in the page that documents it, and every page
must carry its French version under a "Français" heading.
"""

from __future__ import annotations

import re
import tomllib
import typing
from pathlib import Path

import pytest
from pydantic import AliasChoices

from webleads.collect.wire import RejectReason
from webleads.metrics import Metrics
from webleads.model import DropReason
from webleads.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = ("configuration", "collect", "enrichment", "operations", "development", "privacy",
         "identification", "french-enrichment", "alerts", "scoring", "lifecycle",
         "campaigns", "dashboard", "api")


def _page(name: str) -> str:
    return (DOCS / f"{name}.md").read_text(encoding="utf-8")


def _env_names(name: str) -> list[str]:
    """The environment variables of one setting: WEBLEADS_X and any alias."""
    field = Settings.model_fields[name]
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    if isinstance(alias, str):
        return [alias]
    prefix = Settings.model_config.get("env_prefix", "")
    return [f"{prefix}{name}".upper()]


def _missing(words: typing.Iterable[str], text: str) -> list[str]:
    return sorted(w for w in set(words) if not re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])",
                                                          text))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_its_french_section(page: str) -> None:
    text = _page(page)
    assert re.search(r"^#{1,3} Français\s*$", text, re.MULTILINE), (
        f"docs/{page}.md has no 'Français' heading")
    english, french = re.split(r"^#{1,3} Français\s*$", text, maxsplit=1, flags=re.MULTILINE)
    assert english.strip() and len(french.strip()) > 200, (
        f"docs/{page}.md: English first, then the French version")


def test_every_setting_is_documented() -> None:
    text = _page("configuration")
    names = [env for name in Settings.model_fields for env in _env_names(name)]
    assert names, "no settings found"
    assert _missing(names, text) == []


def test_every_rejection_reason_is_documented() -> None:
    reasons = typing.get_args(RejectReason)
    assert len(reasons) >= 10
    assert _missing(reasons, _page("collect")) == []


def test_every_drop_reason_is_documented() -> None:
    reasons = typing.get_args(DropReason)
    assert reasons
    assert _missing(reasons, _page("enrichment")) == []


def _metric_names() -> set[str]:
    metrics = Metrics()
    # Give the labelled counters a sample so that their series lines are rendered too.
    metrics.hits_dropped["bot"] += 1
    metrics.requests_rejected["invalid_json"] += 1
    names: set[str] = set()
    for line in metrics.render().splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names


def test_every_metric_is_documented() -> None:
    names = _metric_names()
    assert "webleads_hits_accepted_total" in names
    assert _missing(names, _page("operations")) == []


def _requirement_name(spec: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    assert match, spec
    return match.group(1)


def test_every_dependency_is_explained() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"]) + list(project["optional-dependencies"]["test"])
    text = _page("development")
    section = text.split("## Dependencies", 1)
    assert len(section) == 2, "docs/development.md has no 'Dependencies' section"
    names = [_requirement_name(spec) for spec in specs]
    missing = sorted(n for n in names
                     if not re.search(rf"^\s*- `{re.escape(n)}(\[[^\]]*\])?`", section[1],
                                      re.MULTILINE | re.IGNORECASE))
    assert missing == [], f"one line per dependency in docs/development.md: {missing}"

"""docs/scoring.md keeps up with the code: every condition, every default rule, the
settings of the TOML file, and a French version."""

from __future__ import annotations

import re
from pathlib import Path

from webleads.scoring import document
from webleads.scoring.fit import FIT_CONDITIONS
from webleads.scoring.rules import CONDITION_FIELDS

PAGE = Path(__file__).resolve().parent.parent / "docs" / "scoring.md"


def _text() -> str:
    return PAGE.read_text(encoding="utf-8")


def _missing(words: list[str], text: str) -> list[str]:
    return sorted(w for w in set(words) if f"`{w}`" not in text)


def test_english_then_french() -> None:
    english, french = re.split(r"^#{1,3} Français\s*$", _text(), maxsplit=1,
                               flags=re.MULTILINE)
    assert english.strip() and len(french.strip()) > 2000


def test_every_condition_and_setting_is_documented() -> None:
    text = _text()
    assert _missing(list(CONDITION_FIELDS), text) == []
    assert _missing(list(FIT_CONDITIONS), text) == []
    assert _missing(["half_life_days", "engaged_score", "cap", "per", "label_fr"], text) == []


def test_every_default_rule_is_documented_with_its_points() -> None:
    text = _text()
    config = document.defaults()
    for rule in config.rules or []:
        row = re.search(rf"^\| `{re.escape(rule.name)}` \| (\S+) \| (\S+) \|", text,
                        re.MULTILINE)
        assert row, rule.name
        points = f"+{rule.points}" if rule.points > 0 else f"−{-rule.points}"
        assert row.group(1) == points, rule.name
        assert row.group(2) == f"{rule.cap}/{rule.per}", rule.name

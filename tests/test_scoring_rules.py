"""Scoring rules as data: each condition, validation naming the rule and the field, the
TOML round-trip, the defaults, and the messages in both languages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from webleads.scoring import document
from webleads.scoring.matching import CompiledRules
from webleads.scoring.messages import MESSAGES, problem_text
from webleads.scoring.model import Reason, ScoringInput
from webleads.scoring.rules import Problem, Rule, RulesError, parse_rule

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASE = ScoringInput(
    workspace_id=1, site_id=1, account_id=7, contact_id=None, session_id=1, hit_id=1,
    visitor_key="v", ts=T0, type="pageview", url="https://a.example/en/pricing?x=1",
    page_group="crm", name=None, source_class="paid", utm_source="linkedin",
    utm_medium="cpc", utm_campaign="Spring-2026", engaged_ms=0, returning=False,
)


def rule_of(when: dict[str, Any]) -> Rule:
    problems: list[Problem] = []
    rule = parse_rule({"name": "r", "label": "r", "points": 5, "when": when}, "rules[1]",
                      problems)
    assert rule is not None, problems
    return replace(rule, id=1)


def matches(when: dict[str, Any], **changes: Any) -> bool:
    return bool(CompiledRules([rule_of(when)]).matching(replace(BASE, **changes)))


@pytest.mark.parametrize(("when", "changes", "expected"), [
    ({"types": ["pageview"]}, {}, True),
    ({"types": ["download", "form"]}, {}, False),
    ({"types": "pageview"}, {}, True),
    ({"path": ["*/pricing"]}, {}, True),
    ({"path": ["/pricing*"]}, {}, False),  # the path is /en/pricing
    ({"path": ["*/PRICING"]}, {}, True),  # case-insensitive
    ({"path": "*/docs/*"}, {"url": "https://a.example/docs/api/x"}, True),
    ({"path_regex": "/(pricing|tarifs?)$"}, {}, True),
    ({"path_regex": "/(pricing|tarifs?)$"}, {"url": "https://a.example/fr/tarif"}, True),
    ({"path_regex": "^/pricing"}, {}, False),
    ({"href": ["*.pdf"]}, {"type": "download", "href": "https://a.example/b.PDF"}, True),
    ({"href": ["*.pdf"]}, {"type": "download", "href": None}, False),
    ({"page_group": ["crm", "erp"]}, {}, True),
    ({"page_group": ["erp"]}, {}, False),
    ({"page_group": ["erp"]}, {"page_group": None}, False),
    ({"event": ["signup"]}, {"type": "event", "name": "signup"}, True),
    ({"event": ["signup"]}, {"type": "event", "name": "other"}, False),
    ({"source_class": ["paid", "social"]}, {}, True),
    ({"source_class": ["email"]}, {}, False),
    ({"utm_source": ["linkedin*"]}, {}, True),
    ({"utm_source": ["google"]}, {}, False),
    ({"utm_source": ["google"]}, {"utm_source": None}, False),
    ({"utm_medium": ["cpc", "ppc"]}, {}, True),
    ({"utm_campaign": ["spring-*"]}, {}, True),  # case-insensitive
    ({"utm_campaign": ["autumn-*"]}, {}, False),
    ({"min_engaged_ms": 60000}, {"engaged_ms": 60000}, True),
    ({"min_engaged_ms": 60000}, {"engaged_ms": 59999}, False),
    ({"returning": True}, {"returning": True}, True),
    ({"returning": True}, {}, False),
    ({"returning": False}, {}, True),
    ({"types": ["pageview"], "page_group": ["crm"], "utm_source": ["x"]}, {}, False),  # all
    ({}, {"type": "identify"}, True),
])
def test_each_condition(when: dict[str, Any], changes: dict[str, Any], expected: bool) -> None:
    assert matches(when, **changes) is expected


def test_disabled_and_zero_point_rules_never_match() -> None:
    off = replace(rule_of({}), enabled=False)
    zero = replace(rule_of({}), points=0, id=2)
    assert CompiledRules([off, zero]).matching(BASE) == []


def test_unparsable_urls_do_not_raise() -> None:
    assert matches({"path": ["*"]}, url="http://[::1")


def problems_of(data: dict[str, Any]) -> list[tuple[str, str | None, str, str]]:
    with pytest.raises(RulesError) as caught:
        document.parse(data)
    return [(p.where, p.rule, p.field, p.code) for p in caught.value.problems]


def test_every_problem_names_its_rule_and_field() -> None:
    found = problems_of({"rules": [
        {"name": "ok", "label": "fine", "points": 3},
        {"name": "pricing", "label": "pricing page", "points": "20",
         "when": {"types": ["pageview", "hover"], "path_regex": "(unclosed"}},
        {"name": "capped", "label": "x", "points": 1, "cap": 2},
        {"name": "ok", "label": "twice", "points": 1, "colour": "red"},
        {"label": "nameless", "points": 1, "when": {"min_engaged_ms": -1, "url": "/x"}},
    ], "fit": [{"name": "big", "label": "big", "points": 5,
                "when": {"headcount": ["99"], "country": ["FRA"]}}],
        "grades": {"a": 10, "b": 20, "c": 5}})
    assert found == [
        ("grades", None, "a", "grades_order"),
        ("rules[2]", "pricing", "points", "type"),
        ("rules[2]", "pricing", "when.types", "bad_value"),
        ("rules[2]", "pricing", "when.path_regex", "bad_regex"),
        ("rules[3]", "capped", "per", "cap_needs_both"),
        ("rules[4]", "ok", "colour", "unknown_field"),
        ("rules[4]", "ok", "name", "duplicate"),
        ("rules[5]", None, "name", "required"),
        ("rules[5]", None, "when.url", "unknown_field"),
        ("rules[5]", None, "when.min_engaged_ms", "range"),
        ("fit[1]", "big", "when.headcount", "bad_value"),
        ("fit[1]", "big", "when.country", "bad_value"),
    ]


def test_bad_toml_names_the_rule_and_field_in_both_languages() -> None:
    text = document.dump(document.defaults()).replace("points = 20", 'points = "twenty"', 1)
    with pytest.raises(RulesError) as caught:
        document.loads(text)
    [problem] = caught.value.problems
    assert (problem.where, problem.rule, problem.field) == ("rules[1]", "pricing", "points")
    assert problem_text("en", problem) == "rules[1] (pricing): points: expected integer"
    assert problem_text("fr_FR.UTF-8", problem) == \
        "rules[1] (pricing) : points: attendu : un entier"
    with pytest.raises(RulesError) as caught:
        document.loads("[[rules]\nname = 1")
    assert caught.value.problems[0].code == "bad_toml"


def test_toml_round_trip_of_the_defaults() -> None:
    config = document.defaults()
    assert config.rules and config.fit and config.settings and config.grades
    names = [r.name for r in config.rules]
    assert {"pricing", "demo-contact", "product", "case-study", "docs", "pdf-download",
            "form", "returning", "engaged", "careers", "login-support", "paid-campaign",
            "linkedin-campaign"} <= set(names)
    assert {r.name: r.points for r in config.rules}["careers"] < 0
    text = document.dump(config)
    again = document.loads(text)
    assert again == config
    assert document.dump(again) == text


def test_writer_quotes_what_needs_quoting() -> None:
    tricky = Rule(name="q", label="it's \"quoted\"\tand\\back", points=-3,
                  when=rule_of({"path_regex": r"\.(pdf|docx?)$", "utm_campaign": ["a'b"]}).when,
                  cap=2, per="week", enabled=False, label_fr="é ü 中")
    config = document.ScoringConfig(rules=[tricky])
    assert document.loads(document.dump(config)) == config


def test_defaults_score_what_they_promise() -> None:
    rules = [replace(r, id=i) for i, r in enumerate(document.defaults().rules or [], 1)]
    compiled = CompiledRules(rules)

    def names(**changes: Any) -> set[str]:
        base = replace(BASE, source_class="direct", utm_source=None, utm_medium=None,
                       utm_campaign=None)
        return {c.rule.name for c in compiled.matching(replace(base, **changes))}

    assert names(url="https://a.example/pricing") == {"pricing"}
    assert names(url="https://a.example/fr/tarifs/") == {"pricing"}
    assert names(url="https://a.example/contact-us") == {"demo-contact"}
    assert names(url="https://a.example/products/crm") == {"product"}
    assert names(url="https://a.example/customers/acme") == {"case-study"}
    assert names(url="https://a.example/docs/install") == {"docs"}
    assert names(url="https://a.example/careers") == {"careers"}
    assert names(url="https://a.example/fr/emplois/dev") == {"careers"}
    assert names(url="https://a.example/login") == {"login-support"}
    assert names(url="https://a.example/blog/pricing-trends-2026") == set()
    assert names(type="download", href="https://a.example/files/brochure.pdf?v=2") == {
        "pdf-download"}
    assert names(type="form", name="contact") == {"form"}
    assert names(url="https://a.example/", returning=True) == {"returning"}
    assert names(type="engagement", engaged_ms=61_000) == {"engaged"}
    assert names(url="https://a.example/", source_class="paid") == {"paid-campaign"}
    assert names(url="https://a.example/", utm_source="linkedin") == {"linkedin-campaign"}


def test_reason_texts() -> None:
    pricing = Reason(1, "pricing", "pricing page", "page tarifs", 20, 2, 40, 31.5)
    assert pricing.text("en") == "+20 pricing page ×2"
    assert pricing.text("fr") == "+20 page tarifs ×2"
    assert Reason(2, "careers", "careers page", None, -10, 1, -10, -9.0).text("fr") == \
        "-10 careers page"
    assert Reason(None, "decay", "decay", "décroissance", 0, 0, 0, -5.2).text() == "-5 decay"


def test_messages_have_the_same_keys_in_both_languages() -> None:
    assert set(MESSAGES["en"]) == set(MESSAGES["fr"])
    for key, text in MESSAGES["en"].items():
        assert set(_fields(text)) == set(_fields(MESSAGES["fr"][key])), key


def test_every_problem_code_has_a_message() -> None:
    codes = {"unknown_field", "required", "type", "range", "bad_value", "bad_regex",
             "bad_name", "duplicate", "cap_needs_both", "grades_order", "bad_toml"}
    assert {k.removeprefix("problem_") for k in MESSAGES["en"]
            if k.startswith("problem_")} == codes


def test_every_kind_of_value_is_translated() -> None:
    from webleads.scoring.messages import KINDS_FR

    kinds = {"integer", "number", "text", "table", "true or false", "text or list of texts",
             "array of tables"}
    assert set(KINDS_FR) == kinds


def _fields(text: str) -> list[str]:
    import string

    return [f for _, f, _, _ in string.Formatter().parse(text) if f]

"""Decay math, cap periods, the cap book's independence from arrival order, and the fit
grade (pure logic)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from webleads.scoring import decay
from webleads.scoring.engine import CapBook, Scorer
from webleads.scoring.fit import Firmographics, FitConditions, FitRule, Thresholds, grade
from webleads.scoring.fit import priority as fit_priority
from webleads.scoring.matching import CompiledRules
from webleads.scoring.model import ScoringInput
from webleads.scoring.rules import Conditions, Rule

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
EPOCH = decay.DEFAULT_EPOCH


def score(lines: list[tuple[int, datetime]], now: datetime = NOW, h: float = 30.0) -> float:
    total = sum(decay.weight(p, ts, EPOCH, h) for p, ts in lines)
    return decay.value(total, now, EPOCH, h)


def test_twenty_points_thirty_days_ago_are_worth_ten_now() -> None:
    assert score([(20, NOW - timedelta(days=30))]) == pytest.approx(10, abs=1e-4)
    assert score([(20, NOW)]) == pytest.approx(20, abs=1e-4)
    assert score([(20, NOW - timedelta(days=60))]) == pytest.approx(5, abs=1e-4)
    assert score([(20, NOW - timedelta(days=7))], h=7) == pytest.approx(10, abs=1e-4)
    # Before the epoch too, and negative points decay the same way.
    old = datetime(2025, 12, 2, tzinfo=UTC)
    assert score([(-8, old)], now=old + timedelta(days=30)) == pytest.approx(-4, abs=1e-3)


def test_sums_are_exact_in_any_order() -> None:
    rng = random.Random(7)
    lines = [rng.choice([20, 25, 5, -10, 3]) for _ in range(2000)]
    stamps = [EPOCH + timedelta(seconds=rng.randrange(0, 300 * 86400)) for _ in lines]
    weights = [decay.weight(p, ts, EPOCH, 30.0) for p, ts in zip(lines, stamps, strict=True)]
    shuffled = weights[:]
    rng.shuffle(shuffled)
    assert sum(weights) == sum(shuffled)
    assert all(isinstance(w, int) for w in weights)
    # Far from 64-bit overflow at the rebase limit with the largest points.
    worst = decay.weight(decay.MAX_POINTS, EPOCH + timedelta(days=30 * decay.MAX_HALF_LIVES),
                         EPOCH, 30.0)
    assert worst * 1_000_000 < 2 ** 63


def test_rebase_limit_and_new_epoch() -> None:
    assert not decay.needs_rebase(EPOCH + timedelta(days=360), EPOCH, 30.0)
    assert decay.needs_rebase(EPOCH + timedelta(days=361), EPOCH, 30.0)
    assert decay.new_epoch(datetime(2027, 3, 4, 17, 5, tzinfo=UTC)) == datetime(
        2027, 3, 4, tzinfo=UTC)


@pytest.mark.parametrize(("ts", "period", "start", "end"), [
    (datetime(2026, 3, 4, 23, 59, tzinfo=UTC), "day", date(2026, 3, 4), date(2026, 3, 5)),
    (datetime(2026, 3, 4, 12, tzinfo=UTC), "week", date(2026, 3, 2), date(2026, 3, 9)),
    (datetime(2026, 3, 2, 0, 0, tzinfo=UTC), "week", date(2026, 3, 2), date(2026, 3, 9)),
    (datetime(2026, 3, 1, 23, tzinfo=UTC), "week", date(2026, 2, 23), date(2026, 3, 2)),
    (datetime(2026, 2, 28, 23, tzinfo=UTC), "month", date(2026, 2, 1), date(2026, 3, 1)),
    (datetime(2026, 12, 31, tzinfo=UTC), "month", date(2026, 12, 1), date(2027, 1, 1)),
])
def test_periods(ts: datetime, period: decay.Period, start: date, end: date) -> None:
    assert decay.period_start(ts, period) == start
    assert decay.period_end(start, period) == end


def test_cap_book_keeps_the_earliest_lines_whatever_the_order() -> None:
    rng = random.Random(3)
    orders = [(EPOCH + timedelta(minutes=rng.randrange(100)), rng.randrange(3), 0, "")
              for _ in range(40)]
    key = (1, 1, date(2026, 1, 1))
    expected = sorted(orders)[:5]
    for _ in range(20):
        rng.shuffle(orders)
        book = CapBook()
        kept: dict[int, tuple[datetime, int, int, str]] = {}
        for ref, order in enumerate(orders, 1):
            entered, evicted = book.offer(key, 5, order, ref)
            if entered:
                kept[ref] = order
            if evicted is not None:
                del kept[evicted]
        assert sorted(kept.values()) == expected


def test_scorer_caps_per_subject_and_period() -> None:
    rule = Rule(name="p", label="p", points=10, when=Conditions(types=("pageview",)), cap=2,
                per="day", id=5)
    scorer = Scorer(CompiledRules([rule]), EPOCH, 30.0)
    base = ScoringInput(1, 1, 7, None, 1, None, "v", NOW, "pageview", "https://a/x", None,
                        None, None, None, None, None, 0, False)
    for minutes in (0, 1, 2, 60 * 24, 60 * 24 + 1):
        scorer.add(replace(base, ts=NOW + timedelta(minutes=minutes)))
    scorer.add(replace(base, account_id=8))
    scorer.add(replace(base, account_id=None, contact_id=3))
    scorer.add(replace(base, account_id=None, contact_id=None))  # nobody: no line
    lines = list(scorer.added.values())
    assert sorted(((x.account_id, x.contact_id, x.ts) for x in lines), key=repr) == sorted([
        (7, None, NOW), (7, None, NOW + timedelta(minutes=1)),
        (7, None, NOW + timedelta(days=1)), (7, None, NOW + timedelta(days=1, minutes=1)),
        (8, None, NOW), (None, 3, NOW)], key=repr)


FIT = [
    FitRule("target", "target", 60, FitConditions(in_target=True), id=1),
    FitRule("fr", "France", 15, FitConditions(country=("FR",)), id=2),
    FitRule("s10", "10+", 10, FitConditions(min_employees=10), id=3),
    FitRule("s50", "50+", 20, FitConditions(min_employees=50), id=4),
    FitRule("s250", "250+", 15, FitConditions(min_employees=250), id=5),
    FitRule("soft", "software", 20, FitConditions(naf=("62", "58.29")), id=6),
    FitRule("small", "under 20", -30, FitConditions(max_employees=19), id=7),
    FitRule("off", "disabled", 100, FitConditions(), enabled=False, id=8),
]


@pytest.mark.parametrize(("firm", "expected"), [
    (Firmographics(in_target=True), "A"),
    (Firmographics(country="FR", headcount_band="32"), "A"),  # 15 + 10 + 20 + 15
    (Firmographics(country="fr", headcount_band="21"), "B"),  # 45
    (Firmographics(country="DE", headcount_band="21", naf="62.01Z"), "B"),  # 30 + 20
    (Firmographics(country="DE", headcount_band="21", naf="58.29C"), "B"),
    (Firmographics(country="DE", headcount_band="21", naf="58.11Z"), "C"),  # 30
    (Firmographics(country="FR", headcount_band="11"), "D"),  # 15 + 10 - 30
    (Firmographics(country="FR", headcount_band="NN"), "C"),  # unknown size: 15
    (Firmographics(), "D"),
])
def test_fit_grade(firm: Firmographics, expected: str) -> None:
    assert grade(FIT, firm, Thresholds(60, 35, 15)) == expected


def test_priority_weights_the_score_by_grade() -> None:
    assert [fit_priority(40.0, g) for g in ("A", "B", "C", "D")] == [40.0, 30.0, 20.0, 10.0]

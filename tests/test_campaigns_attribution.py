"""Attribution models against hand-computed fixtures: every number below was worked out
by hand (shares as fractions, revenue in cents)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction as F

import pytest

from webleads.campaigns.attribution import (
    MODELS,
    Attribution,
    Model,
    Touchpoint,
    attribute,
    parse_model,
    split_cents,
)

CONV = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)


def days_before(d: float, key: int, campaign: str = "c") -> Touchpoint:
    return Touchpoint(at=CONV - timedelta(days=d), key=key, campaign=campaign)


def keys(result: Attribution) -> list[int]:
    return [c.touchpoint.key for c in result.credits]


def shares(result: Attribution) -> list[F]:
    return [c.share for c in result.credits]


def cents(result: Attribution) -> list[int]:
    return [c.cents for c in result.credits]


# Three touches 14, 7 and 0 days before the conversion (given out of order).
JOURNEY = [days_before(7, 2), days_before(14, 1), days_before(0, 3)]

# model -> (shares, cents of 100.00)
THREE = {
    "first_touch": ([F(1), F(0), F(0)], [10000, 0, 0]),
    "last_touch": ([F(0), F(0), F(1)], [0, 0, 10000]),
    # 100.00 / 3 = 33.333...: one cent left, every remainder equal, every share equal:
    # the earliest touch takes it.
    "linear": ([F(1, 3)] * 3, [3334, 3333, 3333]),
    "position_based": ([F(2, 5), F(1, 5), F(2, 5)], [4000, 2000, 4000]),
    # half-life 7 days: weights 1/4, 1/2, 1 -> 1/7, 2/7, 4/7 = 14.2857, 28.5714, 57.1428;
    # floors 1428 + 2857 + 5714 = 9999; the cent goes to the largest remainder (.57).
    "time_decay": ([F(1, 7), F(2, 7), F(4, 7)], [1429, 2857, 5714]),
}


@pytest.mark.parametrize("model", MODELS)
def test_three_touches(model: Model) -> None:
    result = attribute(JOURNEY, CONV, model=model, revenue_cents=10000)
    assert keys(result) == [1, 2, 3]
    assert (shares(result), cents(result)) == THREE[model]
    assert sum(cents(result)) == 10000


@pytest.mark.parametrize("model", MODELS)
def test_one_touch_takes_everything(model: Model) -> None:
    result = attribute([days_before(3, 9)], CONV, model=model, revenue_cents=12345)
    assert shares(result) == [F(1)] and cents(result) == [12345]


def test_two_touches_position_based_is_half_and_half() -> None:
    result = attribute([days_before(1, 1), days_before(5, 2)], CONV, model="position_based",
                       revenue_cents=999)
    # 9.99 / 2 = 4.995: the cent left goes to the earliest touch (key 2, 5 days before).
    assert keys(result) == [2, 1]
    assert shares(result) == [F(1, 2), F(1, 2)] and cents(result) == [500, 499]


def test_position_based_five_touches() -> None:
    journey = [days_before(d, k) for k, d in enumerate([40, 30, 20, 10, 0], start=1)]
    result = attribute(journey, CONV, model="position_based", revenue_cents=10000)
    # 40 % / 20 % over 3 middle touches (6.666...) / 40 %: 40.00, 6.67, 6.67, 6.66, 40.00
    assert shares(result) == [F(2, 5), F(1, 15), F(1, 15), F(1, 15), F(2, 5)]
    assert cents(result) == [4000, 667, 667, 666, 4000]


def test_ties_are_ordered_by_key() -> None:
    same = CONV - timedelta(days=2)
    journey = [Touchpoint(at=same, key=7), Touchpoint(at=same, key=3),
               Touchpoint(at=same, key=5)]
    assert keys(attribute(journey, CONV, model="first_touch")) == [3, 5, 7]
    assert cents(attribute(journey, CONV, model="first_touch", revenue_cents=100)) == [100, 0, 0]
    assert cents(attribute(journey, CONV, model="last_touch", revenue_cents=100)) == [0, 0, 100]
    # Same age: time-decay gives equal shares, like linear: 0.34, 0.33, 0.33.
    decay = attribute(journey, CONV, model="time_decay", revenue_cents=100)
    assert shares(decay) == [F(1, 3)] * 3 and cents(decay) == [34, 33, 33]


def test_lookback_excludes_older_touches() -> None:
    journey = [days_before(100, 1), days_before(30, 2), days_before(10, 3)]
    result = attribute(journey, CONV, model="first_touch", lookback=timedelta(days=90),
                       revenue_cents=5000)
    # The touch of 100 days ago is out: first touch is the one of 30 days ago.
    assert keys(result) == [2, 3] and cents(result) == [5000, 0]
    linear = attribute(journey, CONV, model="linear", lookback=timedelta(days=30),
                       revenue_cents=5000)
    # The boundary (exactly 30 days) is inside the window.
    assert keys(linear) == [2, 3] and cents(linear) == [2500, 2500]


def test_journey_entirely_older_than_the_lookback_is_unattributed() -> None:
    result = attribute([days_before(200, 1), days_before(120, 2)], CONV, model="linear",
                       lookback=timedelta(days=90), revenue_cents=10000)
    assert not result.attributed and result.credits == ()


def test_touches_after_the_conversion_do_not_count() -> None:
    late = Touchpoint(at=CONV + timedelta(minutes=1), key=2)
    result = attribute([days_before(1, 1), late], CONV, model="last_touch")
    assert keys(result) == [1]


def test_time_decay_with_another_half_life() -> None:
    journey = [days_before(2, 1), days_before(1, 2), days_before(0, 3)]
    result = attribute(journey, CONV, model="time_decay", half_life=timedelta(days=1),
                       revenue_cents=10000)
    # weights 1/4, 1/2, 1 again (ages of 2, 1, 0 half-lives).
    assert shares(result) == [F(1, 7), F(2, 7), F(4, 7)]
    assert cents(result) == [1429, 2857, 5714]


@pytest.mark.parametrize(("total", "split", "expected"), [
    (10000, [F(1, 3)] * 3, [3334, 3333, 3333]),
    (10001, [F(1, 3)] * 3, [3334, 3334, 3333]),
    (1, [F(1, 4)] * 4, [1, 0, 0, 0]),
    (0, [F(1, 2)] * 2, [0, 0]),
    # 1.00 over 1/6, 1/3, 1/2 = 16.67, 33.33, 50: floors 16, 33, 50 = 99; .67 > .33.
    (100, [F(1, 6), F(1, 3), F(1, 2)], [17, 33, 50]),
    # 0.02 over 3 equal shares: the two earliest touches take a cent each.
    (2, [F(1, 3)] * 3, [1, 1, 0]),
    # 0.01 over 1/4, 3/4: remainders .25 and .75, the larger takes the cent.
    (1, [F(1, 4), F(3, 4)], [0, 1]),
    # 0.02 over 1/4, 3/4 = 0.5, 1.5: equal remainders, the larger credit takes the cent.
    (2, [F(1, 4), F(3, 4)], [0, 2]),
])
def test_split_cents(total: int, split: list[F], expected: list[int]) -> None:
    assert split_cents(total, split) == expected
    assert sum(expected) == total


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        attribute(JOURNEY, CONV, model="linear", revenue_cents=-1)
    with pytest.raises(ValueError):
        attribute(JOURNEY, CONV, model="time_decay", half_life=timedelta(0))
    with pytest.raises(ValueError, match="unknown attribution model"):
        parse_model("u-shaped")
    assert parse_model("Position-Based") == "position_based"

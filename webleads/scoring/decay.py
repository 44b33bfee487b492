"""Decay of points with a half-life, as exact integer sums; cap periods.

Each ledger line carries ``weight = round(points * 2 ** ((ts - epoch) / h + SCALE_BITS))``
where ``h`` is the workspace's half-life.  A score is a sum of weights, and its value
at time ``T`` is ``sum / 2**SCALE_BITS * 2 ** (-(T - epoch) / h)``: every point has
lost half its value after ``h``, and adding a line is one integer addition.  Integers
make the sum independent of the order of additions, so the incremental path and a full
rescore give exactly the same numbers.

Weights double every half-life after the epoch: once a hit comes more than
``MAX_HALF_LIVES`` half-lives after it, the workspace's epoch moves to that hit's day
and every weight is recomputed (``rebase_epoch``), which keeps 64-bit sums far from
overflow (points are at most ``MAX_POINTS`` in absolute value).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal

SCALE_BITS = 16
MAX_HALF_LIVES = 12
MAX_POINTS = 10_000
DEFAULT_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_HALF_LIFE_DAYS = 30.0
_US = timedelta(microseconds=1)
_DAY_US = 86_400_000_000

Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")


def weight(points: int, ts: datetime, epoch: datetime, half_life_days: float) -> int:
    """The decay-invariant weight of ``points`` given at ``ts``."""
    halvings = ((ts - epoch) // _US) / (half_life_days * _DAY_US)
    factor: float = 2.0 ** (halvings + SCALE_BITS)
    return round(points * factor)


def value(weight_sum: int, now: datetime, epoch: datetime, half_life_days: float) -> float:
    """The decayed value at ``now`` of a sum of weights."""
    halvings = ((now - epoch) // _US) / (half_life_days * _DAY_US)
    factor: float = 2.0 ** (-halvings - SCALE_BITS)
    return weight_sum * factor


def needs_rebase(latest: datetime, epoch: datetime, half_life_days: float) -> bool:
    return latest - epoch > timedelta(days=half_life_days * MAX_HALF_LIVES)


def new_epoch(latest: datetime) -> datetime:
    """The epoch after a rebase: midnight UTC of the latest hit's day."""
    day = latest.astimezone(UTC).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@lru_cache(maxsize=4096)
def _period_of_day(day: date, period: Period) -> date:
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_start(ts: datetime, period: Period) -> date:
    """The UTC day, ISO week (Monday) or month that ``ts`` falls in, by its first day."""
    return _period_of_day(ts.astimezone(UTC).date(), period)


def period_end(start: date, period: Period) -> date:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)

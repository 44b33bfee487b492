"""Attribution models over a journey of touchpoints (pure: no I/O, no clock).

A touchpoint is a session start with its source; a conversion (an MQL, a won deal) at a
time ``at`` gives each touchpoint of the lookback window ``[at - lookback, at]`` a share
of the credit.  Shares are exact fractions that add up to 1; revenue is split in
integer cents that add up exactly to the revenue (largest remainder: each touch gets
the floor of its exact share, and the cents left go one by one to the largest
fractional remainders, then the largest credit, then the earliest touch).

Touchpoints at the same time are ordered by ``key`` (the session id), so ties are
deterministic: first-touch takes the lowest key, last-touch the highest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Literal, get_args

Model = Literal["first_touch", "last_touch", "linear", "position_based", "time_decay"]
MODELS: tuple[Model, ...] = get_args(Model)

DEFAULT_LOOKBACK = timedelta(days=90)
DEFAULT_HALF_LIFE = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Touchpoint:
    at: datetime
    key: int = 0  # the session id: orders touches of the same time
    source_class: str | None = None
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    campaign_id: int | None = None  # the matched campaign, when known
    account_id: int | None = None
    contact_id: int | None = None


@dataclass(frozen=True, slots=True)
class Credit:
    touchpoint: Touchpoint
    share: Fraction  # of one conversion; the shares of a conversion add up to 1
    cents: int  # of the revenue; the cents of a conversion add up to the revenue


@dataclass(frozen=True, slots=True)
class Attribution:
    model: Model
    credits: tuple[Credit, ...]  # in journey order; empty: unattributed

    @property
    def attributed(self) -> bool:
        return bool(self.credits)


def parse_model(value: str) -> Model:
    name = value.strip().lower().replace("-", "_")
    for model in MODELS:
        if name == model:
            return model
    raise ValueError(f"unknown attribution model {value!r} (one of {', '.join(MODELS)})")


def attribute(touches: Sequence[Touchpoint], at: datetime, *, model: Model,
              revenue_cents: int = 0, lookback: timedelta = DEFAULT_LOOKBACK,
              half_life: timedelta = DEFAULT_HALF_LIFE) -> Attribution:
    """The credit of each touchpoint of the window for a conversion at ``at``."""
    return attribute_models(touches, at, models=(model,), revenue_cents=revenue_cents,
                            lookback=lookback, half_life=half_life)[model]


def attribute_models(touches: Sequence[Touchpoint], at: datetime, *,
                     models: Sequence[Model] = MODELS, revenue_cents: int = 0,
                     lookback: timedelta = DEFAULT_LOOKBACK,
                     half_life: timedelta = DEFAULT_HALF_LIFE) -> dict[Model, Attribution]:
    """``attribute`` under several models at once (the window is chosen once)."""
    if revenue_cents < 0:
        raise ValueError("revenue cannot be negative")
    if lookback < timedelta(0):
        raise ValueError("the lookback window cannot be negative")
    if half_life <= timedelta(0):
        raise ValueError("the half-life must be positive")
    journey = sorted((x for x in touches if at - lookback <= x.at <= at),
                     key=lambda x: (x.at, x.key))
    out: dict[Model, Attribution] = {}
    for model in models:
        if not journey:
            out[model] = Attribution(model, ())
            continue
        shares = weights(journey, at, model=model, half_life=half_life)
        cents = split_cents(revenue_cents, shares)
        out[model] = Attribution(model, tuple(
            Credit(x, s, c) for x, s, c in zip(journey, shares, cents, strict=True)))
    return out


def weights(journey: Sequence[Touchpoint], at: datetime, *, model: Model,
            half_life: timedelta = DEFAULT_HALF_LIFE) -> list[Fraction]:
    """Shares of an ordered, non-empty journey; they add up to exactly 1."""
    n = len(journey)
    if model == "first_touch":
        return [Fraction(1)] + [Fraction(0)] * (n - 1)
    if model == "last_touch":
        return [Fraction(0)] * (n - 1) + [Fraction(1)]
    if model == "linear":
        return [Fraction(1, n)] * n
    if model == "position_based":
        if n == 1:
            return [Fraction(1)]
        if n == 2:
            return [Fraction(1, 2)] * 2
        middle = Fraction(1, 5) / (n - 2)
        return [Fraction(2, 5)] + [middle] * (n - 2) + [Fraction(2, 5)]
    if model == "time_decay":
        # 2 ** (-age / half_life), exact binary values turned into exact fractions.
        raw = [Fraction(2.0 ** (-((at - x.at) / half_life))) for x in journey]
        total = sum(raw, Fraction(0))
        return [w / total for w in raw]
    raise ValueError(f"unknown attribution model {model!r}")


def split_cents(total: int, shares: Sequence[Fraction]) -> list[int]:
    """``total`` cents split along ``shares`` (adding up to 1), adding up to ``total``.

    Largest remainder: floors first, then one cent each to the largest fractional
    remainders; ties go to the largest share, then to the earliest position.
    """
    if total == 0:
        return [0] * len(shares)
    exact = [total * s for s in shares]
    cents = [int(e) for e in exact]  # floor: shares and total are not negative
    left = total - sum(cents)
    if left:
        order = sorted(range(len(shares)),
                       key=lambda i: (-(exact[i] - cents[i]), -shares[i], i))
        for i in order[:left]:
            cents[i] += 1
    return cents

"""Periods of the dashboard's reports (days of a site's time zone) and the conversion
between those days and UTC instants.

A period is a range of whole days, both ends included; its *previous* period is the
same number of days just before it ("this month" on the 10th compares with the ten days
before the 1st).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PeriodKind = Literal["7d", "30d", "90d", "month", "last_month", "custom"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("7d", "30d", "90d", "month", "last_month", "custom")
MAX_DAYS = 731  # two years: the longest custom period
EARLIEST = date(2000, 1, 1)


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The time zone ``name``, or UTC when it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class LocalTime:
    """Days and hours of one time zone, from UTC instants (cached per quarter-hour:
    every zone's offset is a multiple of 15 minutes)."""

    def __init__(self, tz: str) -> None:
        self.tz = zone(tz)
        self._cache: dict[int, tuple[date, int]] = {}

    def today(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()

    def start(self, day: date) -> datetime:
        """The first instant of ``day`` (aware, UTC)."""
        return datetime.combine(day, time(0), tzinfo=self.tz).astimezone(UTC)

    def bounds(self, first: date, last: date) -> tuple[datetime, datetime]:
        """``[start, end)`` in UTC of the days ``first`` to ``last``."""
        return self.start(first), self.start(last + timedelta(days=1))

    def day_hour(self, instant: datetime) -> tuple[date, int]:
        """The local day and hour (0-23) of an aware instant."""
        quarter = int(instant.timestamp()) // 900
        found = self._cache.get(quarter)
        if found is None:
            local = datetime.fromtimestamp(quarter * 900, self.tz)
            found = self._cache[quarter] = (local.date(), local.hour)
        return found


@dataclass(frozen=True, slots=True)
class Period:
    kind: PeriodKind
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def previous(self) -> Period:
        return Period(self.kind, self.first - timedelta(days=self.days),
                      self.first - timedelta(days=1))

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]


class PeriodError(ValueError):
    """A custom period that cannot be: ``field`` is "from" or "to"."""

    def __init__(self, field: str, code: Literal["date", "order", "length"]) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


def parse_day(value: str) -> date | None:
    """``YYYY-MM-DD`` as a date, None when it is not a real date."""
    value = value.strip()
    if len(value) != 10:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if EARLIEST <= day <= date(2999, 12, 31) else None


def period_of(kind: PeriodKind, today: date, start: str = "", end: str = "") -> Period:
    """The period ``kind`` seen from ``today``; ``custom`` takes ``start`` and ``end``
    (ISO dates) and raises :class:`PeriodError` when they do not make a period."""
    if kind == "custom":
        first, last = parse_day(start), parse_day(end)
        if first is None:
            raise PeriodError("from", "date")
        if last is None:
            raise PeriodError("to", "date")
        if last < first:
            raise PeriodError("to", "order")
        if (last - first).days + 1 > MAX_DAYS:
            raise PeriodError("from", "length")
        return Period(kind, first, last)
    if kind == "month":
        return Period(kind, today.replace(day=1), today)
    if kind == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return Period(kind, last.replace(day=1), last)
    days = {"7d": 7, "30d": 30, "90d": 90}[kind]
    return Period(kind, today - timedelta(days=days - 1), today)

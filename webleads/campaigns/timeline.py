"""Campaigns over time: the series behind the charts (pure, from a ReportSet).

Buckets are UTC days, or weeks (starting on Monday) when a span is longer than
``DAILY_MAX`` days.  Sessions count on the day they started, MQLs on the day of the
stage change, costs on their day, revenue on the deal's day (the campaign's attributed
cents under one model).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from webleads.campaigns.attribution import Model
from webleads.campaigns.reports import ReportSet

DAILY_MAX = 92
MAX_WEEKS = 104

Step = Literal["day", "week"]


@dataclass(frozen=True, slots=True)
class Timeline:
    step: Step
    labels: tuple[date, ...]  # first day of each bucket
    sessions: tuple[int, ...]
    mqls: tuple[int, ...]
    cost_cents: tuple[int, ...]  # cumulative
    revenue_cents: tuple[int, ...]  # cumulative


def _bucket(day: date, first: date, step: Step) -> int:
    if step == "day":
        return (day - first).days
    return ((day - timedelta(days=day.weekday())) - first).days // 7


def _labels(first: date, last: date) -> tuple[Step, date, int]:
    if (last - first).days + 1 <= DAILY_MAX:
        return "day", first, (last - first).days + 1
    start = first - timedelta(days=first.weekday())
    weeks = (last - start).days // 7 + 1
    if weeks > MAX_WEEKS:
        start += timedelta(weeks=weeks - MAX_WEEKS)
        weeks = MAX_WEEKS
    return "week", start, weeks


def campaign_timeline(rs: ReportSet, campaign_id: int, costs: dict[date, int], model: Model,
                      today: date) -> Timeline:
    report = rs.get(campaign_id)
    assert report is not None
    c = report.campaign
    sessions = rs.sessions.get(campaign_id, [])
    deal_days = [rs.deals[d].day for d in rs.influenced.get(campaign_id, set())]
    days = [s.started_at.date() for s in sessions]
    first = min([c.starts_on, *days, *costs])
    last = max([c.ends_on, *days, *deal_days, *costs])
    if today >= c.starts_on:
        last = max(min(last, today), first)
    step, start, n = _labels(first, last)
    counts = [0] * n
    mqls = [0] * n
    cost = [0] * n
    revenue = [0] * n

    def add(series: list[int], day: date, value: int) -> None:
        i = _bucket(day, start, step)
        series[min(max(i, 0), n - 1)] += value

    for day in days:
        add(counts, day, 1)
    for at in rs.mql_at.get(campaign_id, {}).values():
        add(mqls, at.date(), 1)
    for day, cents in costs.items():
        add(cost, day, cents)
    for deal_id, cents in rs.deal_cents[model].get(campaign_id, {}).items():
        add(revenue, rs.deals[deal_id].day, cents)
    labels = tuple(start + timedelta(days=i if step == "day" else 7 * i) for i in range(n))
    return Timeline(step, labels, tuple(counts), tuple(mqls), tuple(_cumulative(cost)),
                    tuple(_cumulative(revenue)))


def _cumulative(values: list[int]) -> list[int]:
    out, total = [], 0
    for v in values:
        total += v
        out.append(total)
    return out


def weekly_sessions(rs: ReportSet, campaign_ids: list[int]
                    ) -> tuple[tuple[date, ...], dict[int, tuple[int, ...]]]:
    """Sessions per week of each campaign, over the weeks any of them has sessions."""
    days = [s.started_at.date() for i in campaign_ids for s in rs.sessions.get(i, [])]
    if not days:
        return (), {}
    first, last = min(days), max(days)
    start = first - timedelta(days=first.weekday())
    weeks = (last - start).days // 7 + 1
    if weeks > MAX_WEEKS:
        start += timedelta(weeks=weeks - MAX_WEEKS)
        weeks = MAX_WEEKS
    out: dict[int, tuple[int, ...]] = {}
    for i in campaign_ids:
        counts = [0] * weeks
        for s in rs.sessions.get(i, []):
            day = s.started_at.date()
            k = ((day - timedelta(days=day.weekday())) - start).days // 7
            if 0 <= k < weeks:
                counts[k] += 1
        out[i] = tuple(counts)
    return tuple(start + timedelta(weeks=k) for k in range(weeks)), out

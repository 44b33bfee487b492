"""What the Overview, Live and Identification pages share: the choice of site and period
from query parameters, labels of stored codes in the reader's language, deltas against
the previous period and chart specs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from webleads.db.engine import read_only
from webleads.db.overview import SiteRef, workspace_sites
from webleads.periods import (
    PERIOD_KINDS,
    Period,
    PeriodError,
    PeriodKind,
    parse_day,
    period_of,
)
from webleads.web.i18n import Translator
from webleads.web.page import Ctx, HTTPProblem, pick

PRESETS: tuple[PeriodKind, ...] = ("7d", "30d", "90d", "month", "last_month")


def sites_of(ctx: Ctx, raw: str | None, *, allow_all: bool = False
             ) -> tuple[list[SiteRef], SiteRef | None]:
    """The workspace's sites and the one chosen by the ``site`` parameter (the first by
    default; None for "all" when allowed, or when the workspace has no site)."""
    with read_only(ctx.engine) as conn:
        found = workspace_sites(conn, ctx.workspace_id)
    raw = (raw or "").strip()
    if not raw:
        return found, (None if allow_all or not found else found[0])
    if raw == "all" and allow_all:
        return found, None
    if not raw.isdigit() or len(raw) > 18:
        raise HTTPProblem(400, str(ctx.t(
            "Invalid site: the “site” parameter must be the number of one of your sites.")))
    chosen = next((s for s in found if s.id == int(raw)), None)
    if chosen is None:
        raise HTTPProblem(404, str(ctx.t("This site does not exist in this workspace.")))
    return found, chosen


@dataclass(frozen=True, slots=True)
class PeriodChoice:
    kind: PeriodKind
    period: Period | None  # None when the custom dates are wrong (see errors)
    errors: dict[str, str]
    start: str  # the dates as typed, for the form
    end: str


def period_choice(t: Translator, kind: str | None, start: str | None, end: str | None,
                  today: date, default: PeriodKind = "30d") -> PeriodChoice:
    """The period of the query parameters: a preset (unknown ones fall back to
    ``default``) or custom dates, with a message per wrong field."""
    chosen: PeriodKind = pick(PERIOD_KINDS, kind, default)  # type: ignore[assignment]
    start, end = (start or "")[:40], (end or "")[:40]
    if chosen != "custom" and (start or end) and not kind:
        chosen = "custom"
    try:
        period = period_of(chosen, today, start, end)
    except PeriodError as exc:
        # A date field cannot show what is not a date: those come back empty.
        return PeriodChoice(chosen, None, {exc.field: period_error(t, exc)},
                            start if parse_day(start) else "", end if parse_day(end) else "")
    if chosen != "custom":
        start, end = period.first.isoformat(), period.last.isoformat()
    return PeriodChoice(chosen, period, {}, start, end)


def period_error(t: Translator, exc: PeriodError) -> str:
    if exc.code == "date":
        return str(t("Enter a real date, as year-month-day (2026-03-31)."))
    if exc.code == "order":
        return str(t("The end date comes before the start date."))
    return str(t("A period is at most two years long."))


def period_names(t: Translator) -> dict[str, str]:
    return {"7d": str(t("Last 7 days")), "30d": str(t("Last 30 days")),
            "90d": str(t("Last 90 days")), "month": str(t("This month")),
            "last_month": str(t("Last month")), "custom": str(t("Custom dates"))}


# -- labels ---------------------------------------------------------------------------------

def source(t: Translator, code: str | None) -> str:
    names = {"search": t("Search engines"), "social": t("Social networks"),
             "email": t("E-mail"), "paid": t("Paid campaigns"),
             "referral": t("Other websites"), "direct": t("Direct"),
             "internal": t("Internal")}
    return str(names.get(code or "", code or t("Unknown")))


def network(t: Translator, code: str | None) -> str:
    names = {"enterprise": t("Companies"), "education": t("Education"),
             "government": t("Public bodies"), "isp": t("Internet providers"),
             "mobile": t("Mobile networks"), "hosting": t("Hosting and cloud"),
             "anonymizer": t("VPNs and anonymisers"), "bot": t("Bots"),
             "reserved": t("Private or reserved addresses"), "unknown": t("Unknown network")}
    return str(names.get(code or "unknown", code or ""))


def country(t: Translator, code: str | None) -> str:
    if not code:
        return str(t("Unknown"))
    return str(t.locale.territories.get(code.upper(), code.upper()))


def weekdays(t: Translator) -> list[str]:
    """Monday to Sunday, abbreviated."""
    names = t.locale.days["format"]["abbreviated"]
    return [str(names[i]) for i in range(7)]


# -- numbers --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Delta:
    text: str  # "+12 %", "−3 pts", "–"
    kind: Literal["up", "down", ""]
    title: str


def delta(t: Translator, current: float | None, previous: float | None, *,
          shown_previous: str, points: bool = False) -> Delta:
    """The change from the previous period: relative, or in points for shares."""
    title = str(t("Previous period: %(value)s", value=shown_previous))
    if current is None or previous is None or (not points and not previous):
        return Delta("–", "", title)
    change = (current - previous) * 100 if points else (current - previous) / previous
    if abs(change) < (0.05 if points else 0.005):  # would show as +0
        return Delta("=", "", title)
    sign = "+" if change > 0 else "−"
    if points:
        text = str(t("%(value)s pts", value=f"{sign}{t.number(abs(change), 1)}"))
    else:
        text = sign + t.percent(abs(change))
    return Delta(text, "up" if change > 0 else "down", title)


def shade(value: int, top: int) -> int:
    """The heatmap class h0..h9 of a value: h0 for none, h1..h9 up to the maximum."""
    if value <= 0 or top <= 0:
        return 0
    return max(1, min(9, -(-9 * value // top)))


def bar_spec(labels: list[str], values: list[int], label: str) -> dict[str, Any]:
    """A horizontal bar chart (Chart.js spec, pure JSON)."""
    return {"type": "bar",
            "data": {"labels": labels, "datasets": [{"label": label, "data": values}]},
            "options": {"indexAxis": "y", "plugins": {"legend": {"display": False}},
                        "scales": {"x": {"beginAtZero": True, "ticks": {"precision": 0}}}}}

"""What the campaign pages show, in the reader's language: report options from the
query string, words for closed vocabularies, report rows and chart specs.  No SQL and
no decisions: campaigns/ computes, this module formats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from webleads.campaigns.attribution import DEFAULT_HALF_LIFE, DEFAULT_LOOKBACK, MODELS, Model
from webleads.campaigns.reports import CampaignReport, ReportSet, Totals
from webleads.campaigns.timeline import Timeline, weekly_sessions
from webleads.web.campaign_forms import plain
from webleads.web.i18n import Translator
from webleads.web.page import HTTPProblem, pick

DEFAULT_MODEL: Model = "position_based"
MAX_LOOKBACK_DAYS = 730
MAX_LINES = 8  # campaigns drawn in the chart over time


def model_names(t: Translator) -> dict[str, str]:
    return {"first_touch": plain(t("First touch")), "last_touch": plain(t("Last touch")),
            "linear": plain(t("Linear")), "position_based": plain(t("Position-based (40/20/40)")),
            "time_decay": plain(t("Time decay"))}


def objective_names(t: Translator) -> dict[str, str]:
    return {"visits": plain(t("Visits")), "identified_accounts": plain(t("Identified accounts")),
            "mqls": plain(t("MQLs")), "meetings": plain(t("Meetings")),
            "revenue": plain(t("Revenue"))}


def status_names(t: Translator) -> dict[str, str]:
    return {"upcoming": plain(t("upcoming")), "running": plain(t("running")),
            "ended": plain(t("ended"))}


def kind_names(t: Translator) -> dict[str, str]:
    return {"event": plain(t("Event")), "url": plain(t("Page address")),
            "form": plain(t("Marked form")), "stage": plain(t("Stage reached")),
            "deal": plain(t("Won deal"))}


@dataclass(frozen=True, slots=True)
class Options:
    """How reports attribute: the model, the lookback window and the half-life."""

    model: Model = DEFAULT_MODEL
    lookback_days: int = DEFAULT_LOOKBACK.days
    half_life_days: float = DEFAULT_HALF_LIFE.days

    @property
    def lookback(self) -> timedelta:
        return timedelta(days=self.lookback_days)

    @property
    def half_life(self) -> timedelta:
        return timedelta(days=self.half_life_days)

    @property
    def is_default(self) -> bool:
        return self == Options()

    def query(self) -> str:
        """``?model=...`` to keep the options in links ("" for the defaults)."""
        if self.is_default:
            return ""
        return "?" + urlencode({"model": self.model, "lookback": self.lookback_days,
                                "half_life": f"{self.half_life_days:g}"})


def options(t: Translator, model: str | None, lookback: str | None,
            half_life: str | None) -> Options:
    """Options from the query string: a model outside the list is the default one; a
    number that is not one, or out of range, is a 400 naming the field."""
    name = pick(MODELS, model, DEFAULT_MODEL)
    chosen = next(m for m in MODELS if m == name)
    days = DEFAULT_LOOKBACK.days
    if lookback not in (None, ""):
        try:
            days = int(lookback)
        except ValueError:
            days = -1
        if not 1 <= days <= MAX_LOOKBACK_DAYS:
            raise HTTPProblem(400, plain(t("Lookback window: give a whole number of days from 1 "
                                         "to %(max)s.", max=MAX_LOOKBACK_DAYS)))
    life = float(DEFAULT_HALF_LIFE.days)
    if half_life not in (None, ""):
        try:
            life = float(half_life.replace(",", "."))
        except ValueError:
            life = -1.0
        if not 0.1 <= life <= 365:
            raise HTTPProblem(400, plain(t("Half-life: give a number of days from 0.1 to 365.")))
    return Options(chosen, days, life)


def roi_text(t: Translator, roi: float | None) -> str:
    if roi is None:
        return "–"
    text = t.percent(roi)
    return ("+" + text) if roi > 0 else text


def roi_kind(roi: float | None) -> str:
    return "" if roi is None else "good" if roi >= 0 else "bad"


def row(t: Translator, r: CampaignReport, opts: Options, today: date) -> dict[str, Any]:
    """One campaign's report as the table shows it."""
    c = r.campaign
    roi = r.roi(opts.model)
    per = r.cost_per_mql_cents
    return {
        "id": c.id, "name": c.name, "channel": c.channel, "range": c.page_group or "",
        "status": r.status(today), "status_text": status_names(t)[r.status(today)],
        "dates": plain(t("%(first)s – %(last)s", first=t.date(c.starts_on),
                       last=t.date(c.ends_on))),
        "sessions": t.number(r.sessions), "accounts": t.number(r.identified_accounts),
        "new": t.number(r.new_accounts), "mqls": t.number(r.mqls), "sqls": t.number(r.sqls),
        "won": t.number(r.won_deals), "clicks": t.number(r.clicks + r.email_clicks),
        "revenue": t.money(r.revenue(opts.model), c.currency),
        "cost": t.money(r.cost_cents, c.currency) if r.cost_cents else "–",
        "per_mql": t.money(per, c.currency) if per is not None and r.cost_cents else "–",
        "roi": roi_text(t, roi), "roi_kind": roi_kind(roi),
        "credit": t.number(r.credits.get(opts.model, 0.0), 2),
        "budget": t.money(c.budget_cents, c.currency) if c.budget_cents is not None else "–",
        "foreign": r.foreign_deals, "n_new": r.new_accounts, "n_sqls": r.sqls,
        "n_clicks": r.clicks + r.email_clicks,
    }


def totals_row(t: Translator, x: Totals, *, ranges: bool = False) -> dict[str, Any]:
    per = x.cost_per_mql_cents
    return {"range": (x.range or plain(t("No range"))) if ranges else "",
            "currency": x.currency, "campaigns": t.number(x.campaigns),
            "n_campaigns": x.campaigns, "n_sqls": x.sqls,
            "sessions": t.number(x.sessions), "accounts": t.number(x.accounts),
            "mqls": t.number(x.mqls), "sqls": t.number(x.sqls), "won": t.number(x.won_deals),
            "revenue": t.money(x.revenue_cents, x.currency),
            "cost": t.money(x.cost_cents, x.currency) if x.cost_cents else "–",
            "per_mql": t.money(per, x.currency) if per is not None and x.cost_cents else "–",
            "roi": roi_text(t, x.roi), "roi_kind": roi_kind(x.roi)}


# -- charts ---------------------------------------------------------------------------------

def _euros(cents: int) -> float:
    return round(cents / 100, 2)


def weekly_chart(t: Translator, rs: ReportSet) -> dict[str, Any] | None:
    """Visits per week of the campaigns with the most visits."""
    busiest = sorted((r for r in rs.reports if r.sessions), key=lambda r: -r.sessions)
    chosen = busiest[:MAX_LINES]
    labels, series = weekly_sessions(rs, [r.campaign.id for r in chosen])
    if not labels:
        return None
    return {"type": "line", "data": {
        "labels": [t.date(d, "d MMM yy") for d in labels],
        "datasets": [{"label": r.campaign.name, "data": list(series[r.campaign.id]),
                      "tension": 0.2, "fill": False} for r in chosen]},
        "options": {"plugins": {"legend": {"position": "bottom"}},
                    "scales": {"y": {"beginAtZero": True, "ticks": {"precision": 0},
                                     "title": {"display": True,
                                               "text": plain(t("Visits per week"))}}}}}


def money_chart(t: Translator, labels: list[str], costs: list[int], revenues: list[int],
                currency: str) -> dict[str, Any]:
    """Cost against attributed revenue, side by side (in units of ``currency``)."""
    return {"type": "bar", "data": {"labels": labels, "datasets": [
        {"label": plain(t("Cost (%(currency)s)", currency=currency)),
         "data": [_euros(c) for c in costs], "color": "#c0392b"},
        {"label": plain(t("Revenue (%(currency)s)", currency=currency)),
         "data": [_euros(r) for r in revenues], "color": "#2e8540"}]},
        "options": {"plugins": {"legend": {"position": "bottom"}},
                    "scales": {"y": {"beginAtZero": True}}}}


def counts_chart(t: Translator, reports: list[CampaignReport]) -> dict[str, Any]:
    """Visits, identified accounts, MQLs and won deals per campaign."""
    names = [r.campaign.name for r in reports]
    return {"type": "bar", "data": {"labels": names, "datasets": [
        {"label": plain(t("Visits")), "data": [r.sessions for r in reports]},
        {"label": plain(t("Identified accounts")),
         "data": [r.identified_accounts for r in reports]},
        {"label": plain(t("MQLs")), "data": [r.mqls for r in reports]},
        {"label": plain(t("Won deals")), "data": [r.won_deals for r in reports]}]},
        "options": {"plugins": {"legend": {"position": "bottom"}},
                    "scales": {"y": {"beginAtZero": True, "ticks": {"precision": 0}}}}}


def _bucket_label(t: Translator, tl: Timeline, day: date) -> str:
    if tl.step == "day":
        return t.date(day, "d MMM")
    return plain(t("week of %(day)s", day=t.date(day, "d MMM yy")))


def activity_chart(t: Translator, tl: Timeline) -> dict[str, Any]:
    """Visits (bars) and MQLs (line) per day or week."""
    return {"type": "bar", "data": {
        "labels": [_bucket_label(t, tl, d) for d in tl.labels],
        "datasets": [
            {"label": plain(t("Visits")), "data": list(tl.sessions), "yAxisID": "y"},
            {"label": plain(t("MQLs")), "data": list(tl.mqls), "type": "line", "yAxisID": "y1",
             "color": "#f0a202", "tension": 0.2, "pointRadius": 0, "pointHoverRadius": 4}]},
        "options": {"plugins": {"legend": {"position": "bottom"}}, "scales": {
            "y": {"beginAtZero": True, "position": "left", "ticks": {"precision": 0}},
            "y1": {"beginAtZero": True, "position": "right", "ticks": {"precision": 0},
                   "grid": {"drawOnChartArea": False}}}}}


def money_timeline_chart(t: Translator, tl: Timeline, currency: str) -> dict[str, Any]:
    """Cumulated cost and attributed revenue."""
    return {"type": "line", "data": {
        "labels": [_bucket_label(t, tl, d) for d in tl.labels],
        "datasets": [
            {"label": plain(t("Cost so far (%(currency)s)", currency=currency)),
             "data": [_euros(c) for c in tl.cost_cents], "color": "#c0392b", "fill": False,
             "pointRadius": 0, "pointHoverRadius": 4},
            {"label": plain(t("Revenue so far (%(currency)s)", currency=currency)),
             "data": [_euros(r) for r in tl.revenue_cents], "color": "#2e8540",
             "fill": False, "pointRadius": 0, "pointHoverRadius": 4}]},
        "options": {"plugins": {"legend": {"position": "bottom"}},
                    "scales": {"y": {"beginAtZero": True}}}}


def focus_chart(t: Translator, views: dict[str | None, int]) -> dict[str, Any]:
    ordered = sorted(views.items(), key=lambda p: -p[1])
    return {"type": "doughnut", "data": {
        "labels": [g if g else plain(t("No range")) for g, _ in ordered],
        "datasets": [{"label": plain(t("Page views")), "data": [n for _, n in ordered]}]},
        "options": {"plugins": {"legend": {"position": "right"}}}}

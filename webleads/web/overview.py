"""The Overview page: a site's traffic over a period against the previous period of the
same length — key numbers, visits over time, sources, campaigns, pages, page groups,
countries and the hour x weekday heatmap.  The numbers come from ``webleads.traffic``
(daily rollups); this module only turns them into charts and words."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from webleads import traffic
from webleads.db.engine import read_only
from webleads.db.overview import Report, SiteRef, has_data
from webleads.db.sites import load_sites
from webleads.periods import LocalTime
from webleads.sites import snippet
from webleads.web import traffic_view as tv
from webleads.web.i18n import Translator
from webleads.web.page import Ctx, workspace_ctx

router = APIRouter(include_in_schema=False)

Param = Annotated[str | None, Query(max_length=40)]
TOP_SHOWN = 10
PAGES_SHOWN = 15


@router.get("/w/{ws}/overview")
def overview_page(ctx: Annotated[Ctx, Depends(workspace_ctx)], site: Param = None,
                  period: Param = None,
                  start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
                  end: Annotated[str | None, Query(alias="to", max_length=40)] = None
                  ) -> Response:
    sites, chosen = tv.sites_of(ctx, site)
    values: dict[str, Any] = {"sites": sites, "site": chosen, "names": tv.period_names(ctx.t),
                              "presets": tv.PRESETS, "path": "/overview"}
    if chosen is None:
        return ctx.render("overview/page.html", state="no_site", choice=None, **values)
    t = Translator.of(ctx.t.lang, chosen.timezone)
    now = datetime.now(UTC)
    choice = tv.period_choice(t, period, start, end, LocalTime(chosen.timezone).today(now))
    values["choice"] = choice
    if choice.period is None:
        return ctx.render("overview/page.html", status=400, state="invalid", **values)
    with read_only(ctx.engine) as conn:
        seen = has_data(conn, chosen.id)
        full = next(s for s in load_sites(conn) if s.id == chosen.id) if not seen else None
    if full is not None:
        return ctx.render("overview/page.html", state="no_hits",
                          snippet=snippet(full, str(ctx.request.base_url)), **values)
    report = traffic.overview(ctx.engine, chosen, choice.period, now=now)
    return ctx.render("overview/page.html", state="report", report=report,
                      view=view(t, report, chosen), **values)


def view(t: Translator, report: Report, site: SiteRef) -> dict[str, Any]:
    """Everything the template shows, formatted in the reader's language."""
    cur, prev = report.current, report.previous
    number = cache(t.number)  # the same small numbers again and again
    return {
        "kpis": _kpis(t, report),
        "line": _line(t, report),
        "days": [{"day": t.date(p.day), "visits": number(p.visits),
                  "pageviews": number(p.pageviews), "before": t.date(q.day),
                  "before_visits": number(q.visits)}
                 for p, q in zip(report.daily, report.previous_daily, strict=True)],
        "heatmap": _heatmap(t, report, number),
        "sources": _ranked(t, report, "source", lambda v: tv.source(t, v)),
        "mediums": _ranked(t, report, "medium", str),
        "campaigns": _ranked(t, report, "campaign", str),
        "groups": _ranked(t, report, "group", str),
        "countries": _ranked(t, report, "country", lambda v: tv.country(t, v)),
        "pages": _pages(report),
        "visits": cur.visits, "previous_visits": prev.visits, "timezone": site.timezone,
    }


def _kpis(t: Translator, report: Report) -> list[dict[str, Any]]:
    cur, prev = report.current, report.previous
    share = cur.identified_share
    per_visit = cur.engaged_per_visit
    return [
        {"label": t("Visits"), "value": t.number(cur.visits), "sub": "",
         "delta": tv.delta(t, cur.visits, prev.visits, shown_previous=t.number(prev.visits)),
         "help": t("Sessions started in the period (30 minutes without activity end one).")},
        {"label": t("Visitors"), "value": t.number(cur.visitors), "sub": "",
         "delta": tv.delta(t, cur.visitors, prev.visitors,
                           shown_previous=t.number(prev.visitors)),
         "help": t("Distinct browsers (or daily anonymous visitors), counted once over the "
                   "period; above a few hundred, an estimate within about 2 %.")},
        {"label": t("Page views"), "value": t.number(cur.pageviews), "sub": "",
         "delta": tv.delta(t, cur.pageviews, prev.pageviews,
                           shown_previous=t.number(prev.pageviews)),
         "help": t("Pages viewed, including those of hits deleted since by the retention "
                   "period.")},
        {"label": t("Identified visits"), "value": t.percent(share) if share is not None
         else "–",
         "sub": t.ngettext("%(num)s of %(total)s visits", "%(num)s of %(total)s visits",
                           cur.identified_visits, total=t.number(cur.visits)),
         "delta": tv.delta(t, share, prev.identified_share, points=True,
                           shown_previous=t.percent(prev.identified_share)
                           if prev.identified_share is not None else "–"),
         "help": t("Share of visits from a named organisation (company, school, public "
                   "body).")},
        {"label": t("Organisations"), "value": t.number(cur.accounts),
         "sub": t("%(new)s new, %(returning)s returning", new=t.number(cur.new_accounts),
                  returning=t.number(cur.returning_accounts)),
         "delta": tv.delta(t, cur.accounts, prev.accounts,
                           shown_previous=t.number(prev.accounts)),
         "help": t("Organisations identified among the visits; new ones were seen for the "
                   "first time in the period.")},
        {"label": t("Engaged time"), "value": t.duration(cur.engaged_ms),
         "sub": t("%(time)s per visit", time=t.duration(per_visit)) if per_visit else "",
         "delta": tv.delta(t, cur.engaged_ms, prev.engaged_ms,
                           shown_previous=t.duration(prev.engaged_ms)),
         "help": t("Time spent with the page visible and in use.")},
    ]


def _line(t: Translator, report: Report) -> dict[str, Any]:
    labels = [t.date(p.day, "d MMM") for p in report.daily]
    return {"type": "line", "data": {"labels": labels, "datasets": [
        {"label": str(t("This period")), "data": [p.visits for p in report.daily],
         "color": "#1f4e79", "fill": True, "tension": 0.25, "pointRadius": 2},
        {"label": str(t("Previous period")), "data": [p.visits for p in report.previous_daily],
         "color": "#6b7785", "borderDash": [6, 4], "fill": False, "tension": 0.25,
         "pointRadius": 0},
    ]}, "options": {"interaction": {"mode": "index", "intersect": False},
                    "plugins": {"legend": {"position": "bottom"}},
                    "scales": {"y": {"beginAtZero": True, "ticks": {"precision": 0}}}}}


def _heatmap(t: Translator, report: Report, number: Callable[[int], str]
             ) -> dict[str, Any]:
    top = max(report.heatmap.values(), default=0)
    names = tv.weekdays(t)
    rows = []
    for weekday in range(7):
        cells = []
        for hour in range(24):
            n = report.heatmap.get((weekday, hour), 0)
            title = t.ngettext("%(day)s %(start)s–%(end)s: %(num)s visit",
                               "%(day)s %(start)s–%(end)s: %(num)s visits", n,
                               day=names[weekday], start=f"{hour:02d}:00",
                               end=f"{(hour + 1) % 24:02d}:00")
            cells.append({"shade": tv.shade(n, top), "title": title, "value": number(n)})
        rows.append({"day": names[weekday], "cells": cells})
    return {"rows": rows, "top": top}


def _ranked(t: Translator, report: Report, kind: str, label: Any) -> dict[str, Any]:
    values = report.dims.get(kind, ())[:TOP_SHOWN]
    total = sum(n for _, n in report.dims.get(kind, ()))
    unit = t("Page views") if kind == "group" else t("Visits")
    rows = [{"label": label(v), "value": t.number(n),
             "share": t.percent(n / total) if total else "–"} for v, n in values]
    spec = tv.bar_spec([str(label(v)) for v, _ in values], [n for _, n in values], str(unit))
    return {"rows": rows, "spec": spec, "unit": unit, "height": 160 if len(values) <= 3
            else 240 if len(values) <= 6 else 300}


def _pages(report: Report) -> list[dict[str, Any]]:
    values = report.dims.get("page", ())[:PAGES_SHOWN]
    top = values[0][1] if values else 0
    return [{"path": path, "value": n, "top": top} for path, n in values]

"""The Identification page: the funnel of a site's hits over a period (received, from
people, stored, from business networks, identified; organisations in target) with the
reasons of each drop, and the data sources the identification uses (the facts of
``webleads data status``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from markupsafe import Markup

from webleads.db.engine import read_only
from webleads.db.funnel import NOT_HUMAN, Funnel, funnel
from webleads.model import ORGANISATION_CATEGORIES
from webleads.networks.sources import status_rows
from webleads.periods import LocalTime
from webleads.web import traffic_view as tv
from webleads.web.i18n import Translator
from webleads.web.page import Ctx, workspace_ctx

router = APIRouter(include_in_schema=False)

Param = Annotated[str | None, Query(max_length=40)]


@router.get("/w/{ws}/funnel")
def funnel_page(ctx: Annotated[Ctx, Depends(workspace_ctx)], site: Param = None,
                period: Param = None,
                start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
                end: Annotated[str | None, Query(alias="to", max_length=40)] = None
                ) -> Response:
    sites, chosen = tv.sites_of(ctx, site)
    settings = ctx.web.settings
    values: dict[str, Any] = {
        "sites": sites, "site": chosen, "names": tv.period_names(ctx.t),
        "presets": tv.PRESETS, "path": "/funnel", "choice": None,
        "identification": settings.network_data == "shipped",
        "sources": sources(ctx.t, status_rows(
            settings.data_dir, enabled=settings.network_data == "shipped")),
    }
    if chosen is None:
        return ctx.render("funnel/page.html", state="no_site", **values)
    t = Translator.of(ctx.t.lang, chosen.timezone)
    local = LocalTime(chosen.timezone)
    choice = tv.period_choice(t, period, start, end, local.today(datetime.now(UTC)))
    values["choice"] = choice
    if choice.period is None:
        return ctx.render("funnel/page.html", status=400, state="invalid", **values)
    first, after = local.bounds(choice.period.first, choice.period.last)
    with read_only(ctx.engine) as conn:
        found = funnel(conn, site_id=chosen.id, start=first.astimezone(local.tz),
                       end=(after - timedelta(microseconds=1)).astimezone(local.tz))
    return ctx.render("funnel/page.html", state="report", period=choice.period,
                      view=view(t, found), **values)


def reason(t: Translator, code: str) -> str:
    names = {"bot": t("Declared crawlers and automation tools"),
             "empty_user_agent": t("No browser user agent"),
             "headless_browser": t("Headless browsers"),
             "bot_network": t("Networks of declared crawlers"),
             "do_not_track": t("Do Not Track or Global Privacy Control"),
             "ignored_network": t("Ignored networks (your offices, excluded ranges)")}
    return str(names.get(code, code))


def view(t: Translator, f: Funnel) -> dict[str, Any]:
    """The steps with their counts, share of what was received and drop reasons."""
    def share(n: int) -> str:
        return t.percent(n / f.received, 1) if f.received else "–"

    Reasons = list[tuple[str, int]]
    not_human: Reasons = [(reason(t, r), n) for r, n in f.dropped.items()
                          if r in NOT_HUMAN and n]
    refused: Reasons = [(reason(t, r), n) for r, n in f.dropped.items()
                        if r not in NOT_HUMAN and n]
    elsewhere: Reasons = sorted(((tv.network(t, c), n) for c, n in f.by_category.items()
                                 if c not in ORGANISATION_CATEGORIES and n),
                                key=lambda p: -p[1])
    unnamed = f.business - f.identified_hits
    steps: list[tuple[Markup, int, Reasons, Markup]] = [
        (t("Hits received"), f.received, [], t("Every valid hit the tag or the API sent.")),
        (t("From people"), f.human, not_human, t("Not sent by a crawler or a robot.")),
        (t("Stored"), f.stored, refused,
         t("Kept after the visitor's privacy choices and your exclusions.")),
        (t("From business networks"), f.business, elsewhere,
         t("From the network of a company, a school or a public body.")),
        (t("Identified"), f.identified_hits,
         [(str(t("Business networks without a named organisation")), unnamed)]
         if unnamed > 0 else [],
         t("Put on an organisation, by its network or by a contact's e-mail domain.")),
    ]
    rows = [{"label": label, "value": t.number(n), "share": share(n), "help": help_,
             "reasons": [{"label": r, "value": t.number(x)} for r, x in reasons]}
            for label, n, reasons, help_ in steps]
    spec = tv.bar_spec([str(s[0]) for s in steps], [s[1] for s in steps], str(t("Hits")))
    categories = [{"label": tv.network(t, c), "value": t.number(n), "share": t.percent(
        n / f.stored, 1) if f.stored else "–"} for c, n in sorted(
            f.by_category.items(), key=lambda p: (-p[1], p[0]))]
    return {"steps": rows, "spec": spec, "categories": categories,
            "organisations": f.identified, "in_target": f.in_target,
            "target_share": t.percent(f.in_target / f.identified) if f.identified else "–",
            "empty": f.received == 0}


def sources(t: Translator, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The data sources, as ``webleads data status`` lists them."""
    return [{"name": r["name"], "layer": r["layer"], "date": str(r["date"])[:10],
             "entries": t.number(int(r["ranges"])),
             "size": t("%(n)s MB", n=t.number(int(r["size"]) / 1e6, 1))
             if int(r["size"]) >= 100_000 else t("%(n)s kB", n=t.number(int(r["size"]) / 1e3)),
             "licence": r["licence"] or "–", "attribution": r["attribution"],
             "imported": not r["shipped"]} for r in rows]

"""The Live page: organisations and visitors on the sites now (active in the last 5
minutes) and in the last 30 minutes.  The page polls its fragment every 10 seconds
(htmx); the fragment is a plain URL too: ``/w/{ws}/live/now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from webleads.db.engine import read_only
from webleads.db.live import LiveNow, LiveVisit, live
from webleads.db.overview import SiteRef
from webleads.db.rollups import page_path
from webleads.web import traffic_view as tv
from webleads.web.i18n import Translator
from webleads.web.page import Ctx, workspace_ctx

router = APIRouter(include_in_schema=False)

NOW = timedelta(minutes=5)
WINDOW = timedelta(minutes=30)
VISITS_SHOWN = 100
Param = Annotated[str | None, Query(max_length=40)]


@router.get("/w/{ws}/live")
def live_page(ctx: Annotated[Ctx, Depends(workspace_ctx)], site: Param = None) -> Response:
    return ctx.render("live/page.html", **_values(ctx, site))


@router.get("/w/{ws}/live/now")
def live_fragment(ctx: Annotated[Ctx, Depends(workspace_ctx)], site: Param = None
                  ) -> Response:
    """Only the part that changes (what the page polls)."""
    return ctx.render("live/_now.html", **_values(ctx, site))


def _values(ctx: Ctx, raw_site: str | None) -> dict[str, Any]:
    sites, chosen = tv.sites_of(ctx, raw_site, allow_all=True)
    t = Translator.of(ctx.t.lang, chosen.timezone) if chosen else ctx.t
    now = datetime.now(UTC)
    ids = [chosen.id] if chosen else [s.id for s in sites]
    with read_only(ctx.engine) as conn:
        found = live(conn, site_ids=ids, now=now, recent=now - NOW, since=now - WINDOW)
    query = f"?site={chosen.id}" if chosen else ""
    return {"sites": sites, "site": chosen, "now_view": view(t, found, sites),
            "fragment_url": ctx.url("/live/now") + query, "page_url": ctx.url("/live") + query}


def view(t: Translator, found: LiveNow, sites: list[SiteRef]) -> dict[str, Any]:
    names = {s.id: s.name for s in sites}
    active = found.active
    organisations = found.organisations
    orgs_now = {v.account_id for v in active if v.account_id is not None}
    anonymous_now = found.anonymous(active_only=True)
    return {
        "updated": t.time(found.now),
        "visits_now": len(active), "visits": found.total,
        "orgs_now": len(orgs_now), "orgs": len(organisations),
        "organisations": [{
            "id": o.account_id, "name": o.name or o.domain or "?", "domain": o.domain,
            "people": len(o.visits), "active": o.account_id in orgs_now,
            "page": _page(o.visits[0]),
            "source": _source(t, o.visits[0]),
            "country": tv.country(t, o.visits[0].country),
            "engaged": t.duration(sum(v.engaged_ms for v in o.visits)),
            "seen": t.ago(min(o.last_seen, found.now), found.now),
        } for o in organisations],
        "anonymous": [{"label": tv.network(t, category), "now": anonymous_now.get(category, 0),
                       "all": n} for category, n in found.anonymous().items()],
        "rows": [_row(t, v, found, names, len(sites) > 1) for v in found.visits[:VISITS_SHOWN]],
        "more": max(0, found.total - VISITS_SHOWN),
    }


def _page(v: LiveVisit) -> dict[str, str]:
    return {"path": page_path(v.url) if v.url else "", "title": v.title}


def _source(t: Translator, v: LiveVisit) -> str:
    label = tv.source(t, v.source_class)
    detail = v.utm_campaign or v.source_name
    return f"{label} · {detail}" if detail else label


def _row(t: Translator, v: LiveVisit, found: LiveNow, names: dict[int, str],
         several: bool) -> dict[str, Any]:
    return {
        "account_id": v.account_id,
        "who": v.account_name or v.account_domain if v.account_id is not None
        else tv.network(t, v.network_category),
        "active": v.last_seen >= found.recent, "page": _page(v), "source": _source(t, v),
        "country": tv.country(t, v.country), "engaged": t.duration(v.engaged_ms),
        "pages": t.number(v.pageviews),
        "seen": t.ago(min(v.last_seen, found.now), found.now),  # a fast clock: "just now"
        "seen_at": t.time(v.last_seen), "site": names.get(v.site_id, "") if several else "",
    }

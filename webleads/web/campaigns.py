"""The Campaigns pages: the list with what each campaign brought, one campaign (charts
over time, conversions, accounts, links and the tracked e-mail link builder), new and
edit forms, the side-by-side comparison and the product ranges.  Imports and the data
campaigns are measured with (contacts, deals, conversions, costs) are in
campaigns_data.py.  Every campaign is looked up within the workspace: another
workspace's id is a 404, like a missing one."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from webleads.campaigns import links, tracked
from webleads.campaigns.conversions import campaign_activity, range_focus
from webleads.campaigns.model import Campaign, parse_cents
from webleads.campaigns.reports import ReportSet, report_set, totals
from webleads.campaigns.timeline import campaign_timeline
from webleads.db import campaign_reads as reads
from webleads.db import campaigns as db
from webleads.db import contacts_import as contacts_db
from webleads.db.engine import read_only
from webleads.db.sites import load_sites
from webleads.users import Role
from webleads.web import campaign_views as v
from webleads.web.account_words import stage as stage_word
from webleads.web.campaign_forms import form_values, plain, read_campaign, taken_error
from webleads.web.campaigns_data import router as data_router
from webleads.web.page import Ctx, HTTPProblem, workspace_ctx

router = APIRouter(include_in_schema=False)
router.include_router(data_router)  # its fixed paths come before /campaigns/{id}

Param = Annotated[str | None, Query(max_length=40)]
Text = Annotated[str | None, Query(max_length=2000)]
CtxDep = Annotated[Ctx, Depends(workspace_ctx)]
WRITERS: tuple[Role, ...] = ("admin", "marketer")
ACCOUNTS_SHOWN = 50
FOCUS_SAMPLE = 300  # sessions per campaign read for the ranges page's focus


def _today() -> date:
    return datetime.now(UTC).date()


def _reports(ctx: Ctx, opts: v.Options) -> ReportSet:
    with read_only(ctx.engine) as conn:
        return report_set(conn, ctx.workspace_id, lookback=opts.lookback,
                          half_life=opts.half_life)


def _not_found(ctx: Ctx) -> HTTPProblem:
    return HTTPProblem(404, plain(ctx.t("This campaign does not exist in this workspace.")))


def _ranges(ctx: Ctx) -> list[str]:
    """The product ranges (page groups) of the workspace's sites, for the form."""
    with read_only(ctx.engine) as conn:
        sites = [s for s in load_sites(conn) if s.workspace_id == ctx.workspace_id]
    return sorted({rule.group for s in sites for rule in s.page_groups})


@router.get("/w/{ws}/campaigns")
def campaigns_page(ctx: CtxDep, model: Param = None, lookback: Param = None,
                   half_life: Param = None) -> Response:
    opts = v.options(ctx.t, model, lookback, half_life)
    rs = _reports(ctx, opts)
    t, today = ctx.t, _today()
    reports = sorted(rs.reports, key=lambda r: (r.campaign.starts_on, r.campaign.id),
                     reverse=True)
    sums = totals(rs, opts.model)
    main = sums[0] if sums else None
    money = [r for r in reports if main and r.campaign.currency == main.currency
             and (r.cost_cents or r.revenue(opts.model))][:12]
    return ctx.render(
        "campaigns/list.html", tab="list", opts=opts, models=v.model_names(t),
        rows=[v.row(t, r, opts, today) for r in reports],
        totals=[v.totals_row(t, x) for x in sums],
        weekly=v.weekly_chart(t, rs),
        money=v.money_chart(t, [r.campaign.name for r in money],
                            [r.cost_cents for r in money],
                            [r.revenue(opts.model) for r in money], main.currency)
        if money and main else None)


# -- comparison and product ranges ----------------------------------------------------------

@router.get("/w/{ws}/campaigns/compare")
def compare_page(ctx: CtxDep, ids: Annotated[list[str] | None, Query(max_length=20)] = None,
                 model: Param = None, lookback: Param = None,
                 half_life: Param = None) -> Response:
    opts = v.options(ctx.t, model, lookback, half_life)
    wanted: list[int] = []
    for text in (ids or [])[:12]:
        if not text.isdigit():
            raise HTTPProblem(400, plain(ctx.t("Campaigns to compare: %(value)s is not a "
                                             "campaign number.", value=text[:20])))
        wanted.append(int(text))
    rs = _reports(ctx, opts)
    known = {r.campaign.id: r for r in rs.reports}
    if any(i not in known for i in wanted):
        raise _not_found(ctx)
    chosen = [known[i] for i in dict.fromkeys(wanted)]
    t, today = ctx.t, _today()
    currency = chosen[0].campaign.currency if chosen else "EUR"
    same = [r for r in chosen if r.campaign.currency == currency]
    return ctx.render(
        "campaigns/compare.html", tab="compare", opts=opts, models=v.model_names(t),
        all=[(r.campaign, r.campaign.id in wanted) for r in rs.reports],
        rows=[v.row(t, r, opts, today) for r in chosen],
        counts=v.counts_chart(t, chosen) if len(chosen) >= 2 else None,
        money=v.money_chart(t, [r.campaign.name for r in same], [r.cost_cents for r in same],
                            [r.revenue(opts.model) for r in same], currency)
        if len(same) >= 2 else None, ids=wanted)


@router.get("/w/{ws}/campaigns/ranges")
def ranges_page(ctx: CtxDep, model: Param = None, lookback: Param = None,
                half_life: Param = None) -> Response:
    opts = v.options(ctx.t, model, lookback, half_life)
    t = ctx.t
    with read_only(ctx.engine) as conn:
        rs = report_set(conn, ctx.workspace_id, lookback=opts.lookback,
                        half_life=opts.half_life)
        focus = {r.campaign.id: range_focus(conn, rs, r.campaign.id,
                                            max_sessions=FOCUS_SAMPLE)
                 for r in rs.reports if r.campaign.page_group and r.sessions}
    groups = totals(rs, opts.model, by_range=True)
    main = groups[0].currency if groups else "EUR"
    shown = [g for g in groups if g.currency == main]
    focus_rows = []
    for r in rs.reports:
        views, sampled = focus.get(r.campaign.id, ({}, False))
        if views:
            total = sum(views.values())
            on = views.get(r.campaign.page_group, 0)
            focus_rows.append((r.campaign, t.percent(on / total), round(100 * on / total),
                               t.number(total), sampled))
    return ctx.render(
        "campaigns/ranges.html", tab="ranges", opts=opts, models=v.model_names(t),
        rows=[v.totals_row(t, g, ranges=True) for g in groups],
        money=v.money_chart(t, [g.range or plain(t("No range")) for g in shown],
                            [g.cost_cents for g in shown], [g.revenue_cents for g in shown],
                            main) if shown else None,
        focus_rows=focus_rows)


# -- new and edit ---------------------------------------------------------------------------

def _form(ctx: Ctx, values: dict[str, str], errors: dict[str, str],
          campaign: Campaign | None, status: int = 200) -> Response:
    return ctx.render("campaigns/form.html", status=status, values=values, errors=errors,
                      campaign=campaign, ranges=_ranges(ctx),
                      objectives=v.objective_names(ctx.t))


@router.get("/w/{ws}/campaigns/new")
def new_page(ctx: CtxDep) -> Response:
    ctx.require(*WRITERS)
    return _form(ctx, form_values(None), {}, None)


@router.post("/w/{ws}/campaigns/new")
async def new_campaign(ctx: CtxDep, request: Request) -> Response:
    ctx.require(*WRITERS)
    form = read_campaign(ctx.t, dict(await request.form()))
    if form.campaign is None:
        return _form(ctx, form.values, form.errors, None, 400)
    try:
        with ctx.engine.begin() as conn:
            made = db.insert_campaign(conn, ctx.workspace_id, form.campaign,
                                      now=datetime.now(UTC))
    except ValueError as exc:
        return _form(ctx, form.values, taken_error(ctx.t, str(exc)), None, 400)
    return ctx.redirect(f"/campaigns/{made.id}", flash=plain(ctx.t(
        "Campaign %(name)s created. Build its links below.", name=made.name)))


def _campaign(ctx: Ctx, campaign_id: int) -> Campaign:
    with read_only(ctx.engine) as conn:
        found = db.get_campaign(conn, ctx.workspace_id, campaign_id)
    if found is None:
        raise _not_found(ctx)
    return found


@router.get("/w/{ws}/campaigns/{campaign_id}/edit")
def edit_page(ctx: CtxDep, campaign_id: int) -> Response:
    campaign = _campaign(ctx, campaign_id)
    ctx.require(*WRITERS)
    return _form(ctx, form_values(campaign), {}, campaign)


@router.post("/w/{ws}/campaigns/{campaign_id}/edit")
async def edit_campaign(ctx: CtxDep, campaign_id: int, request: Request) -> Response:
    campaign = _campaign(ctx, campaign_id)
    ctx.require(*WRITERS)
    form = read_campaign(ctx.t, dict(await request.form()))
    if form.campaign is None:
        return _form(ctx, form.values, form.errors, campaign, 400)
    try:
        with ctx.engine.begin() as conn:
            db.update_campaign(conn, campaign, form.campaign)
    except ValueError as exc:
        return _form(ctx, form.values, taken_error(ctx.t, str(exc)), campaign, 400)
    return ctx.redirect(f"/campaigns/{campaign.id}", flash=plain(ctx.t("Campaign saved.")))


# -- one campaign ---------------------------------------------------------------------------

def _detail(ctx: Ctx, campaign_id: int, opts: v.Options, *, status: int = 200,
            **extra: Any) -> Response:
    t, today = ctx.t, _today()
    for name in ("new_link", "email_link"):
        extra.setdefault(name, None)
    for name in ("link_errors", "email_errors", "cost_errors"):
        extra.setdefault(name, {})
    with read_only(ctx.engine) as conn:
        rs = report_set(conn, ctx.workspace_id, lookback=opts.lookback,
                        half_life=opts.half_life)
        report = rs.get(campaign_id)
        if report is None:
            raise _not_found(ctx)
        costs = db.costs_per_day(conn, campaign_id)
        activity = campaign_activity(conn, rs, campaign_id,
                                     db.list_definitions(conn, ctx.workspace_id))
        short = db.short_link_rows(conn, [campaign_id])
        clicks = contacts_db.latest_clicks(conn, campaign_id)
        per_account: dict[int, int] = {}
        for s in rs.sessions.get(campaign_id, []):
            if s.account_id is not None:
                per_account[s.account_id] = per_account.get(s.account_id, 0) + 1
        top = sorted(per_account, key=lambda a: (-per_account[a], a))[:ACCOUNTS_SHOWN]
        info = reads.accounts_info(conn, top)
        people = contacts_db.contacts_of_accounts(conn, top)
        counts = contacts_db.count_contacts(conn, ctx.workspace_id)
        summary = db.summary_sent(conn, campaign_id)
    c = report.campaign
    timeline = campaign_timeline(rs, campaign_id, costs, opts.model, today)
    focus = activity.focus
    views = sum(focus.values())
    return ctx.render(
        "campaigns/detail.html", status=status, tab="list", opts=opts,
        models=v.model_names(t), c=c, report=report, row=v.row(t, report, opts, today),
        objective=v.objective_names(t)[c.objective],
        activity=v.activity_chart(t, timeline),
        money=v.money_timeline_chart(t, timeline, c.currency),
        credits=[(v.model_names(t)[m], t.number(x, 2), t.money(report.revenue(m), c.currency),
                  v.roi_text(t, report.roi(m)), m == opts.model)
                 for m, x in report.credits.items()],
        conversions=activity.conversions, kinds=v.kind_names(t),
        focus=v.focus_chart(t, focus) if views else None,
        focus_share=t.percent(focus.get(c.page_group, 0) / views)
        if views and c.page_group else None,
        focus_rows=sorted(focus.items(), key=lambda p: -p[1]),
        costs=sorted(costs.items(), reverse=True), short=short,
        short_base=str(ctx.request.base_url).rstrip("/") + links.SHORT_PREFIX,
        clicks=clicks, accounts=[(info[a], stage_word(t, info[a].stage) if info[a].stage else "–",
                                  per_account[a], people.get(a, [])) for a in top if a in info],
        contact_counts=counts, summary=summary, can_edit=ctx.can(*WRITERS),
        link_values=extra.pop("link_values", {"url": "", "source": "", "medium": "",
                                              "content": ""}),
        email_values=extra.pop("email_values", {"contact": "", "url": ""}),
        cost_values=extra.pop("cost_values", {"day": today.isoformat(), "amount": ""}),
        **extra)


@router.get("/w/{ws}/campaigns/{campaign_id}")
def campaign_page(ctx: CtxDep, campaign_id: int, model: Param = None, lookback: Param = None,
                  half_life: Param = None, link: Param = None) -> Response:
    opts = v.options(ctx.t, model, lookback, half_life)
    return _detail(ctx, campaign_id, opts, new_link=link)


@router.post("/w/{ws}/campaigns/{campaign_id}/links")
async def add_link(ctx: CtxDep, campaign_id: int, request: Request) -> Response:
    campaign = _campaign(ctx, campaign_id)
    ctx.require(*WRITERS)
    form = await request.form()
    values = {k: str(form.get(k) or "").strip()[:2000]
              for k in ("url", "source", "medium", "content")}
    errors: dict[str, str] = {}
    if not values["source"]:
        errors["source"] = plain(ctx.t("Say who shows the link, e.g. linkedin or newsletter."))
    if not values["medium"]:
        errors["medium"] = plain(ctx.t("Say the kind of medium, e.g. email, cpc or social."))
    made = None
    if not errors:
        try:
            with ctx.engine.begin() as conn:
                made = links.create_link(conn, campaign, values["url"], source=values["source"],
                                         medium=values["medium"],
                                         content=values["content"] or None,
                                         now=datetime.now(UTC))
        except ValueError as exc:
            field = str(exc).split(":", 1)[0].split(" ", 1)[0]
            if field in ("source", "medium", "content"):
                errors[field] = plain(ctx.t("Give 1 to 200 characters."))
            else:
                errors["url"] = plain(ctx.t("Give an absolute address, such as "
                                          "https://www.example.com/offer."))
    if made is None:
        return _detail(ctx, campaign_id, v.Options(), status=400, link_values=values,
                       link_errors=errors)
    return ctx.redirect(f"/campaigns/{campaign_id}?link={made.code}#links",
                        flash=plain(ctx.t("Link created: copy it below.")))


@router.get("/w/{ws}/campaigns/{campaign_id}/email-link")
def email_link(ctx: CtxDep, campaign_id: int, contact: Text = None, url: Text = None,
               source: Param = None) -> Response:
    campaign = _campaign(ctx, campaign_id)
    values = {"contact": (contact or "").strip(), "url": (url or "").strip()}
    errors: dict[str, str] = {}
    if not values["contact"]:
        errors["contact"] = plain(ctx.t("Give the contact's e-mail address."))
    if not values["url"]:
        errors["url"] = plain(ctx.t("Give the landing page's address."))
    made = None
    if not errors:
        base = str(ctx.request.base_url)
        try:
            with ctx.engine.connect() as conn:
                made = tracked.build_email_link(conn, campaign, values["contact"], values["url"],
                                                base=base, secret=ctx.web.settings.secret_key,
                                                now=datetime.now(UTC),
                                                source=(source or "newsletter").strip()
                                                or "newsletter")
        except ValueError as exc:
            errors.update(_link_error(ctx, str(exc)))
    if made is None:
        return _detail(ctx, campaign_id, v.Options(), status=400, email_values=values,
                       email_errors=errors)
    return _detail(ctx, campaign_id, v.Options(), email_values=values, email_link=made)


def _link_error(ctx: Ctx, message: str) -> dict[str, str]:
    t = ctx.t
    if message.startswith("contact:") and "agreed" in message:
        return {"contact": plain(t("This contact has not agreed to tracked links (consent: "
                                 "yes in the contact import)."))}
    if message.startswith("contact:"):
        return {"contact": plain(t("No contact with this e-mail address in this workspace: "
                                 "import it first."))}
    if message.startswith("url:") and "site" in message:
        return {"url": plain(t("This address is not on one of the workspace's sites."))}
    return {"url": plain(t("Give an absolute address, such as https://www.example.com/offer."))}


@router.get("/w/{ws}/campaigns/{campaign_id}/email-links.csv")
def email_links_csv(ctx: CtxDep, campaign_id: int, url: Text = None) -> Response:
    """The tracked link of every consenting contact, for an e-mailing tool's mail merge."""
    import csv
    import io

    campaign = _campaign(ctx, campaign_id)
    if not (url or "").strip():
        raise HTTPProblem(400, plain(ctx.t("Landing page: give the address the links lead to.")))
    try:
        with ctx.engine.connect() as conn:
            made = tracked.links_for_contacts(conn, campaign, (url or "").strip(),
                                              base=str(ctx.request.base_url),
                                              secret=ctx.web.settings.secret_key,
                                              now=datetime.now(UTC))
    except ValueError as exc:
        raise HTTPProblem(400, plain(ctx.t("Landing page: %(problem)s", problem=_link_error(
            ctx, str(exc)).get("url", "")))) from None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["email", "name", "organisation", "link"])
    for person, link in made:
        writer.writerow([person.email, person.name, person.organisation, link.url])
    return Response(buffer.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="links-'
                             f'{campaign.utm_campaign[:60]}.csv"', "cache-control": "no-store"})


@router.post("/w/{ws}/campaigns/{campaign_id}/costs")
async def add_cost(ctx: CtxDep, campaign_id: int, request: Request) -> Response:
    campaign = _campaign(ctx, campaign_id)
    ctx.require(*WRITERS)
    form = await request.form()
    values = {k: str(form.get(k) or "").strip()[:100] for k in ("day", "amount")}
    errors: dict[str, str] = {}
    day: date | None = None
    try:
        day = date.fromisoformat(values["day"])
    except ValueError:
        errors["day"] = plain(ctx.t("A date is needed (YYYY-MM-DD)."))
    cents = 0
    try:
        cents = parse_cents(values["amount"])
    except ValueError:
        errors["amount"] = plain(ctx.t("An amount such as 5000 or 4999.90 (two decimals at "
                                     "most)."))
    if errors or day is None:
        return _detail(ctx, campaign_id, v.Options(), status=400, cost_values=values,
                       cost_errors=errors)
    with ctx.engine.begin() as conn:
        db.put_costs(conn, [db.CostLine(campaign.id, day, cents, campaign.currency)],
                     now=datetime.now(UTC))
    return ctx.redirect(f"/campaigns/{campaign_id}#costs", flash=plain(ctx.t(
        "Cost of %(day)s saved.", day=ctx.t.date(day))))

"""Campaign reports: what each campaign brought, side by side.

Per campaign: sessions (visits), identified accounts, new accounts (first seen within
the campaign's dates), MQLs and SQLs (accounts that moved to the ``mql``/``sql`` stage
within the campaign's dates, after a session of the campaign), won deals and revenue,
short-link and tracked e-mail clicks, cost, cost per MQL, ROI, and the credit of MQL
conversions per attribution model.  Dates are UTC days, ``ends_on`` included.

Credits: every MQL conversion of an account that some campaign touched is attributed
over all the account's sessions of the lookback window (whatever their source); a
campaign's credit is the sum of the shares of its sessions.  The credits of one
conversion add up to 1, shared with other campaigns and with unpaid sources.

Won deals (deals.py) count at the end of their day.  A deal entered with a campaign is
that campaign's, in full, under every model.  Otherwise its revenue is split in cents
over the sessions of its account (or of its contact, when the contact has no account)
in the lookback window, and a campaign gets the cents of its sessions.  A campaign
*influenced* a deal when one of its sessions is in that window: ``won_deals`` counts
those.  Revenue and ROI only add deals in the campaign's currency (``foreign_deals``
counts the others).  ROI = (revenue - cost) / cost.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Literal

from sqlalchemy.engine import Connection

from webleads.campaigns.attribution import (
    DEFAULT_HALF_LIFE,
    DEFAULT_LOOKBACK,
    MODELS,
    Model,
    Touchpoint,
    attribute_models,
)
from webleads.campaigns.model import CLICK_NETWORKS, Campaign, match_campaign
from webleads.db import campaign_reads as reads
from webleads.db import campaigns as db
from webleads.db import contacts_import as contacts_db

Status = Literal["upcoming", "running", "ended"]
JourneyKey = tuple[str, int]  # ("a", account id) or ("c", contact id)


@dataclass(frozen=True, slots=True)
class CampaignReport:
    campaign: Campaign
    sessions: int
    identified_accounts: int
    new_accounts: int
    mqls: int
    clicks: int  # short-link clicks
    cost_cents: int
    credits: dict[Model, float] = field(default_factory=dict)  # MQL conversions credited
    sqls: int = 0
    won_deals: int = 0  # deals it influenced
    revenue_cents: dict[Model, int] = field(default_factory=dict)  # attributed
    foreign_deals: int = 0  # influenced deals in another currency: not in revenue
    email_clicks: int = 0  # tracked e-mail link clicks
    contacts_clicked: int = 0
    identified_by_link: int = 0  # clicks whose landing page identified the contact

    @property
    def cost_per_mql_cents(self) -> int | None:
        return round(self.cost_cents / self.mqls) if self.mqls else None

    def revenue(self, model: Model) -> int:
        return self.revenue_cents.get(model, 0)

    def roi(self, model: Model) -> float | None:
        """(revenue - cost) / cost; None without cost."""
        if self.cost_cents <= 0:
            return None
        return (self.revenue(model) - self.cost_cents) / self.cost_cents

    def status(self, today: date) -> Status:
        c = self.campaign
        return "upcoming" if today < c.starts_on else "ended" if today > c.ends_on \
            else "running"

    def as_dict(self) -> dict[str, object]:
        c = self.campaign
        return {"id": c.id, "name": c.name, "channel": c.channel, "range": c.page_group,
                "objective": c.objective, "starts_on": c.starts_on.isoformat(),
                "ends_on": c.ends_on.isoformat(), "utm_campaign": c.utm_campaign,
                "currency": c.currency, "budget_cents": c.budget_cents,
                "sessions": self.sessions, "identified_accounts": self.identified_accounts,
                "new_accounts": self.new_accounts, "mqls": self.mqls, "sqls": self.sqls,
                "clicks": self.clicks, "email_clicks": self.email_clicks,
                "won_deals": self.won_deals, "foreign_deals": self.foreign_deals,
                "cost_cents": self.cost_cents, "cost_per_mql_cents": self.cost_per_mql_cents,
                "credits": {m: round(v, 4) for m, v in self.credits.items()},
                "revenue_cents": dict(self.revenue_cents),
                "roi": {m: None if (r := self.roi(m)) is None else round(r, 4)
                        for m in self.revenue_cents}}


@dataclass(frozen=True)
class ReportSet:
    """Every campaign's report, and what they were computed from (for the detail and
    the charts over time)."""

    reports: list[CampaignReport]
    sessions: dict[int, list[reads.SessionRow]]  # matched sessions per campaign
    mql_at: dict[int, dict[int, datetime]]  # per campaign: account -> MQL time counted
    sql_at: dict[int, dict[int, datetime]]
    deals: dict[int, db.Deal]
    influenced: dict[int, set[int]]  # per campaign: deal ids
    deal_cents: dict[Model, dict[int, dict[int, int]]]  # model -> campaign -> deal -> cents
    lookback: timedelta = DEFAULT_LOOKBACK

    def get(self, campaign_id: int) -> CampaignReport | None:
        return next((r for r in self.reports if r.campaign.id == campaign_id), None)


def window(campaign: Campaign) -> tuple[datetime, datetime]:
    """[start, end) of the campaign's days in UTC."""
    start = datetime.combine(campaign.starts_on, time(), UTC)
    return start, datetime.combine(campaign.ends_on, time(), UTC) + timedelta(days=1)


def deal_time(day: date) -> datetime:
    """A won deal counts at the end of its (UTC) day."""
    return datetime.combine(day, time.max, UTC)


def campaign_reports(conn: Connection, workspace_id: int, *,
                     lookback: timedelta = DEFAULT_LOOKBACK,
                     half_life: timedelta = DEFAULT_HALF_LIFE) -> list[CampaignReport]:
    """The report of every campaign of the workspace, in order of start."""
    return report_set(conn, workspace_id, lookback=lookback, half_life=half_life).reports


def report_set(conn: Connection, workspace_id: int, *, lookback: timedelta = DEFAULT_LOOKBACK,
               half_life: timedelta = DEFAULT_HALF_LIFE) -> ReportSet:
    campaigns = db.list_campaigns(conn, workspace_id)
    empty_cents: dict[Model, dict[int, dict[int, int]]] = {m: {} for m in MODELS}
    if not campaigns:
        return ReportSet([], {}, {}, {}, {}, {}, empty_cents, lookback)
    by_id = {c.id: c for c in campaigns}
    matched: dict[int, list[reads.SessionRow]] = defaultdict(list)
    campaign_of: dict[int, int] = {}  # session -> campaign
    for row in reads.candidate_sessions(conn, workspace_id,
                                     utm_keys=[c.utm_campaign for c in campaigns],
                                     click_id_kinds=CLICK_NETWORKS):
        found = match_campaign(campaigns, utm_campaign=row.utm_campaign,
                               click_id_kind=row.click_id_kind, started_at=row.started_at)
        if found is not None:
            matched[found.id].append(row)
            campaign_of[row.id] = found.id
    touched = {r.account_id for rs in matched.values() for r in rs if r.account_id is not None}
    first_seen = reads.accounts_first_seen(
        conn, workspace_id, since=min(window(c)[0] for c in campaigns),
        until=max(window(c)[1] for c in campaigns))
    stages = reads.workspace_stage_changes(conn, workspace_id, stages=("mql", "sql"))
    mql_changes = [(a, at) for a, at in stages["mql"] if a in touched]
    sql_changes = [(a, at) for a, at in stages["sql"] if a in touched]
    costs = db.costs_by_campaign(conn, by_id)
    clicks: dict[int, int] = defaultdict(int)
    for link in db.short_link_rows(conn, by_id):
        if link.campaign_id is not None:
            clicks[link.campaign_id] += link.clicks
    email = contacts_db.click_counts(conn, by_id)
    deals = {d.id: d for d in db.list_deals(conn, workspace_id)}
    conversions = _conversions(matched, mql_changes, list(deals.values()), lookback)
    journeys = _journeys(conn, conversions, campaign_of, lookback=lookback)
    credits = _credits(journeys, conversions, lookback=lookback, half_life=half_life)
    influenced, deal_cents = _revenue(journeys, conversions, deals, by_id, lookback=lookback,
                                      half_life=half_life)
    reports = []
    mql_at: dict[int, dict[int, datetime]] = {}
    sql_at: dict[int, dict[int, datetime]] = {}
    for c in campaigns:
        own = matched.get(c.id, [])
        accounts = {r.account_id for r in own if r.account_id is not None}
        first_touch: dict[int, datetime] = {}
        for r in own:
            if r.account_id is not None and r.account_id not in first_touch:
                first_touch[r.account_id] = r.started_at
        mql_at[c.id] = converted(c, first_touch, mql_changes)
        sql_at[c.id] = converted(c, first_touch, sql_changes)
        start, end = window(c)
        new = {a for a in accounts if a in first_seen and start <= first_seen[a] < end}
        won = influenced.get(c.id, set())
        clicked = email.get(c.id)
        reports.append(CampaignReport(
            campaign=c, sessions=len(own), identified_accounts=len(accounts),
            new_accounts=len(new), mqls=len(mql_at[c.id]), clicks=clicks.get(c.id, 0),
            cost_cents=costs.get(c.id, 0),
            credits={m: float(credits[m].get(c.id, Fraction(0))) for m in MODELS},
            sqls=len(sql_at[c.id]), won_deals=len(won),
            revenue_cents={m: sum(deal_cents[m].get(c.id, {}).values()) for m in MODELS},
            foreign_deals=sum(1 for d in won if deals[d].currency != c.currency),
            email_clicks=clicked.clicks if clicked else 0,
            contacts_clicked=clicked.contacts if clicked else 0,
            identified_by_link=clicked.identified if clicked else 0))
    return ReportSet(reports, dict(matched), mql_at, sql_at, deals, influenced, deal_cents,
                     lookback)


def converted(c: Campaign, first_touch: dict[int, datetime],
              changes: list[tuple[int, datetime]]) -> dict[int, datetime]:
    """Accounts that reached the stage within the campaign's dates, after its first
    session of theirs: account -> the first such time."""
    start, end = window(c)
    out: dict[int, datetime] = {}
    for account, at in changes:
        if account in first_touch and start <= at < end and first_touch[account] <= at:
            out.setdefault(account, at)
    return out


@dataclass(frozen=True, slots=True)
class _Conversion:
    key: JourneyKey  # whose journey
    at: datetime
    deal_id: int | None  # None: an MQL


def _conversions(matched: dict[int, list[reads.SessionRow]], changes: list[tuple[int, datetime]],
                 deals: list[db.Deal], lookback: timedelta) -> list[_Conversion]:
    """The MQLs and the deals (without a campaign of their own) to attribute: only those
    with a campaign session in their window, since the others give campaigns nothing."""
    times: dict[JourneyKey, list[datetime]] = defaultdict(list)
    for rows in matched.values():
        for r in rows:
            if r.account_id is not None:
                times[("a", r.account_id)].append(r.started_at)
            if r.contact_id is not None:
                times[("c", r.contact_id)].append(r.started_at)
    for found in times.values():
        found.sort()
    candidates = [_Conversion(("a", account), at, None) for account, at in changes]
    for d in deals:
        if d.campaign_id is not None:
            continue
        if d.account_id is not None:
            candidates.append(_Conversion(("a", d.account_id), deal_time(d.day), d.id))
        elif d.contact_id is not None:
            candidates.append(_Conversion(("c", d.contact_id), deal_time(d.day), d.id))
    out = []
    for x in candidates:
        found = times.get(x.key, [])
        i = bisect_left(found, x.at - lookback)
        if i < len(found) and found[i] <= x.at:
            out.append(x)
    return out


def _journeys(conn: Connection, conversions: list[_Conversion], campaign_of: dict[int, int],
              *, lookback: timedelta) -> dict[JourneyKey, list[Touchpoint]]:
    """The touchpoints (sessions, whatever their source) of every journey to attribute."""
    journeys: dict[JourneyKey, list[Touchpoint]] = defaultdict(list)
    if not conversions:
        return journeys
    since = min(x.at for x in conversions) - lookback
    until = max(x.at for x in conversions)
    accounts = {x.key[1] for x in conversions if x.key[0] == "a"}
    contacts = {x.key[1] for x in conversions if x.key[0] == "c"}
    for t in reads.journey_touches(conn, account_ids=accounts, contact_ids=contacts, since=since,
                                until=until):
        touch = Touchpoint(at=t.started_at, key=t.id, campaign_id=campaign_of.get(t.id),
                           account_id=t.account_id, contact_id=t.contact_id)
        if t.contact_id is None:  # read for its account
            journeys[("a", t.account_id or 0)].append(touch)
        else:  # read for its contact
            journeys[("c", t.contact_id)].append(touch)
    return journeys


def _credits(journeys: dict[JourneyKey, list[Touchpoint]], conversions: list[_Conversion], *,
             lookback: timedelta, half_life: timedelta) -> dict[Model, dict[int, Fraction]]:
    """Per model, per campaign: the summed shares of MQL conversions."""
    totals: dict[Model, dict[int, Fraction]] = {m: defaultdict(Fraction) for m in MODELS}
    for x in conversions:
        if x.deal_id is not None:
            continue
        results = attribute_models(journeys.get(x.key, []), x.at, lookback=lookback,
                                   half_life=half_life)
        for model, result in results.items():
            for credit in result.credits:
                cid = credit.touchpoint.campaign_id
                if cid is not None:
                    totals[model][cid] += credit.share
    return totals


def _revenue(journeys: dict[JourneyKey, list[Touchpoint]], conversions: list[_Conversion],
             deals: dict[int, db.Deal], by_id: dict[int, Campaign], *, lookback: timedelta,
             half_life: timedelta
             ) -> tuple[dict[int, set[int]], dict[Model, dict[int, dict[int, int]]]]:
    """Per campaign, the deals it influenced; per model and campaign, its cents of each
    deal (only deals in the campaign's currency)."""
    influenced: dict[int, set[int]] = defaultdict(set)
    cents: dict[Model, dict[int, dict[int, int]]] = {m: defaultdict(dict) for m in MODELS}
    for deal in deals.values():  # credited in full to their campaign
        campaign = by_id.get(deal.campaign_id) if deal.campaign_id is not None else None
        if campaign is not None:
            influenced[campaign.id].add(deal.id)
            if campaign.currency == deal.currency:
                for model in MODELS:
                    cents[model][campaign.id][deal.id] = deal.amount_cents
    for x in conversions:
        if x.deal_id is None:
            continue
        deal = deals[x.deal_id]
        results = attribute_models(journeys.get(x.key, []), x.at,
                                   revenue_cents=deal.amount_cents, lookback=lookback,
                                   half_life=half_life)
        for model, result in results.items():
            for credit in result.credits:
                cid = credit.touchpoint.campaign_id
                if cid is None:
                    continue
                influenced[cid].add(deal.id)
                if by_id[cid].currency == deal.currency:
                    own = cents[model][cid]
                    own[deal.id] = own.get(deal.id, 0) + credit.cents
    return influenced, cents


# -- totals and product ranges --------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Totals:
    """Campaigns added up, per product range (or for all) and currency."""

    range: str | None
    currency: str
    campaigns: int
    sessions: int
    accounts: int  # distinct
    mqls: int  # distinct accounts
    sqls: int
    won_deals: int  # distinct deals
    revenue_cents: int
    cost_cents: int

    @property
    def roi(self) -> float | None:
        return None if self.cost_cents <= 0 else \
            (self.revenue_cents - self.cost_cents) / self.cost_cents

    @property
    def cost_per_mql_cents(self) -> int | None:
        return round(self.cost_cents / self.mqls) if self.mqls else None


def totals(rs: ReportSet, model: Model, *, by_range: bool = False) -> list[Totals]:
    """Reports added up per currency (and per range), without counting an account, an
    MQL or a deal twice; largest cost first."""
    groups: dict[tuple[str | None, str], list[CampaignReport]] = defaultdict(list)
    for r in rs.reports:
        groups[(r.campaign.page_group if by_range else None, r.campaign.currency)].append(r)
    out = []
    for (group, currency), reports in groups.items():
        ids = [r.campaign.id for r in reports]
        accounts = {s.account_id for i in ids for s in rs.sessions.get(i, [])
                    if s.account_id is not None}
        out.append(Totals(
            range=group, currency=currency, campaigns=len(reports),
            sessions=sum(r.sessions for r in reports), accounts=len(accounts),
            mqls=len({a for i in ids for a in rs.mql_at.get(i, {})}),
            sqls=len({a for i in ids for a in rs.sql_at.get(i, {})}),
            won_deals=len({d for i in ids for d in rs.influenced.get(i, set())}),
            revenue_cents=sum(r.revenue(model) for r in reports),
            cost_cents=sum(r.cost_cents for r in reports)))
    return sorted(out, key=lambda t: (-t.cost_cents, -t.sessions, t.range or "", t.currency))

"""Campaign reports: what each campaign brought, side by side.

Per campaign: sessions (visits), identified accounts, new accounts (first seen within
the campaign's dates), MQLs (accounts that moved to the ``mql`` stage within the
campaign's dates, after a session of the campaign), short-link clicks, cost, cost per
MQL, and the credit of MQL conversions per attribution model.  Dates are UTC days,
``ends_on`` included.

Credits: every MQL conversion of an account that some campaign touched is attributed
over all the account's sessions of the lookback window (whatever their source); a
campaign's credit is the sum of the shares of its sessions.  The credits of one
conversion add up to 1, shared with other campaigns and with unpaid sources.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from fractions import Fraction

from sqlalchemy.engine import Connection

from webleads.campaigns.attribution import (
    DEFAULT_HALF_LIFE,
    DEFAULT_LOOKBACK,
    MODELS,
    Model,
    Touchpoint,
    attribute,
)
from webleads.campaigns.model import CLICK_NETWORKS, Campaign, match_campaign
from webleads.db import campaigns as db


@dataclass(frozen=True, slots=True)
class CampaignReport:
    campaign: Campaign
    sessions: int
    identified_accounts: int
    new_accounts: int
    mqls: int
    clicks: int
    cost_cents: int
    credits: dict[Model, float] = field(default_factory=dict)  # MQL conversions credited

    @property
    def cost_per_mql_cents(self) -> int | None:
        return round(self.cost_cents / self.mqls) if self.mqls else None

    def as_dict(self) -> dict[str, object]:
        c = self.campaign
        return {"id": c.id, "name": c.name, "channel": c.channel, "range": c.page_group,
                "objective": c.objective, "starts_on": c.starts_on.isoformat(),
                "ends_on": c.ends_on.isoformat(), "utm_campaign": c.utm_campaign,
                "currency": c.currency, "budget_cents": c.budget_cents,
                "sessions": self.sessions, "identified_accounts": self.identified_accounts,
                "new_accounts": self.new_accounts, "mqls": self.mqls, "clicks": self.clicks,
                "cost_cents": self.cost_cents, "cost_per_mql_cents": self.cost_per_mql_cents,
                "credits": {m: round(v, 4) for m, v in self.credits.items()}}


def window(campaign: Campaign) -> tuple[datetime, datetime]:
    """[start, end) of the campaign's days in UTC."""
    start = datetime.combine(campaign.starts_on, time(), UTC)
    return start, datetime.combine(campaign.ends_on, time(), UTC) + timedelta(days=1)


def campaign_reports(conn: Connection, workspace_id: int, *,
                     lookback: timedelta = DEFAULT_LOOKBACK,
                     half_life: timedelta = DEFAULT_HALF_LIFE) -> list[CampaignReport]:
    """The report of every campaign of the workspace, in order of start."""
    campaigns = db.list_campaigns(conn, workspace_id)
    if not campaigns:
        return []
    by_id = {c.id: c for c in campaigns}
    rows = db.candidate_sessions(conn, workspace_id,
                                 utm_keys=[c.utm_campaign for c in campaigns],
                                 click_id_kinds=CLICK_NETWORKS)
    matched: dict[int, list[db.SessionRow]] = defaultdict(list)
    for row in rows:
        found = match_campaign(campaigns, utm_campaign=row.utm_campaign,
                               click_id_kind=row.click_id_kind, started_at=row.started_at)
        if found is not None:
            matched[found.id].append(row)
    touched = {r.account_id for rs in matched.values() for r in rs if r.account_id is not None}
    first_seen = db.accounts_first_seen(conn, touched)
    changes = db.stage_changes(conn, touched, stage="mql")
    costs = db.costs_by_campaign(conn, by_id)
    clicks: dict[int, int] = defaultdict(int)
    for link in db.short_link_rows(conn, by_id):
        if link.campaign_id is not None:
            clicks[link.campaign_id] += link.clicks
    credits = _credits(conn, campaigns, changes, lookback=lookback, half_life=half_life)
    reports = []
    for c in campaigns:
        start, end = window(c)
        own = matched.get(c.id, [])
        accounts = {r.account_id for r in own if r.account_id is not None}
        first_touch: dict[int, datetime] = {}
        for r in own:
            if r.account_id is not None and r.account_id not in first_touch:
                first_touch[r.account_id] = r.started_at
        mqls = {a for a, at in changes
                if a in first_touch and start <= at < end and first_touch[a] <= at}
        new = {a for a in accounts if a in first_seen and start <= first_seen[a] < end}
        reports.append(CampaignReport(
            campaign=c, sessions=len(own), identified_accounts=len(accounts),
            new_accounts=len(new), mqls=len(mqls), clicks=clicks.get(c.id, 0),
            cost_cents=costs.get(c.id, 0),
            credits={m: float(credits[m].get(c.id, Fraction(0))) for m in MODELS}))
    return reports


def _credits(conn: Connection, campaigns: list[Campaign], changes: list[tuple[int, datetime]],
             *, lookback: timedelta, half_life: timedelta
             ) -> dict[Model, dict[int, Fraction]]:
    """Per model, per campaign: the summed shares of MQL conversions."""
    totals: dict[Model, dict[int, Fraction]] = {m: defaultdict(Fraction) for m in MODELS}
    if not changes:
        return totals
    since = min(at for _, at in changes) - lookback
    until = max(at for _, at in changes)
    journeys: dict[int, list[Touchpoint]] = defaultdict(list)
    for r in db.account_sessions(conn, {a for a, _ in changes}, since=since, until=until):
        found = match_campaign(campaigns, utm_campaign=r.utm_campaign,
                               click_id_kind=r.click_id_kind, started_at=r.started_at)
        assert r.account_id is not None
        journeys[r.account_id].append(Touchpoint(
            at=r.started_at, key=r.id, source_class=r.source_class,
            source=r.utm_source or r.source_name, medium=r.utm_medium,
            campaign=r.utm_campaign, campaign_id=found.id if found else None,
            account_id=r.account_id, contact_id=r.contact_id))
    for account, at in changes:
        for model in MODELS:
            result = attribute(journeys.get(account, []), at, model=model, lookback=lookback,
                               half_life=half_life)
            for credit in result.credits:
                cid = credit.touchpoint.campaign_id
                if cid is not None:
                    totals[model][cid] += credit.share
    return totals

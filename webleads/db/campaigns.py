"""SQL of campaigns: campaigns, costs, short links and their clicks, and the reads of
the campaign reports.  See webleads/campaigns/."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.campaigns.model import Campaign, NewCampaign, parse_objective
from webleads.db import dialect
from webleads.db.schema import accounts, sessions, sites
from webleads.db.schema_campaigns import (
    campaign_costs,
    campaigns,
    short_link_clicks,
    short_links,
)
from webleads.db.schema_lifecycle import stage_history


def _campaign(row: Any) -> Campaign:
    return Campaign(id=int(row.id), workspace_id=int(row.workspace_id), name=row.name,
                    channel=row.channel, page_group=row.page_group,
                    objective=parse_objective(row.objective), starts_on=row.starts_on,
                    ends_on=row.ends_on,
                    budget_cents=None if row.budget_cents is None else int(row.budget_cents),
                    currency=row.currency, utm_campaign=row.utm_campaign, notes=row.notes)


def insert_campaign(conn: Connection, workspace_id: int, new: NewCampaign, *,
                    now: datetime) -> Campaign:
    """Insert a validated campaign; ValueError when its name or key is taken."""
    c = campaigns.c
    taken = conn.execute(sa.select(c.name, c.utm_campaign).where(
        c.workspace_id == workspace_id,
        sa.or_(c.name == new.name, c.utm_campaign == new.utm_campaign))).first()
    if taken is not None:
        field = "name" if taken.name == new.name else "utm-campaign"
        raise ValueError(f"{field}: campaign {taken.name!r} already uses it")
    new_id = conn.execute(campaigns.insert().values(
        workspace_id=workspace_id, name=new.name, channel=new.channel,
        page_group=new.page_group, objective=new.objective, starts_on=new.starts_on,
        ends_on=new.ends_on, budget_cents=new.budget_cents, currency=new.currency,
        utm_campaign=new.utm_campaign, notes=new.notes, created_at=now,
    ).returning(c.id)).scalar_one()
    return Campaign(int(new_id), workspace_id, new.name, new.channel, new.page_group,
                    new.objective, new.starts_on, new.ends_on, new.budget_cents, new.currency,
                    new.utm_campaign, new.notes)


def list_campaigns(conn: Connection, workspace_id: int) -> list[Campaign]:
    c = campaigns.c
    return [_campaign(r) for r in conn.execute(
        sa.select(campaigns).where(c.workspace_id == workspace_id)
        .order_by(c.starts_on, c.id))]


def find_campaign(conn: Connection, workspace_id: int, name: str) -> Campaign | None:
    """A campaign by id, name (ignoring case) or utm_campaign key."""
    c = campaigns.c
    text = name.strip()
    cond = [sa.func.lower(c.name) == text.lower(), c.utm_campaign == text.lower()]
    if text.isdigit():
        cond.append(c.id == int(text))
    row = conn.execute(sa.select(campaigns).where(c.workspace_id == workspace_id, sa.or_(*cond))
                       .order_by(c.id)).first()
    return None if row is None else _campaign(row)


@dataclass(frozen=True, slots=True)
class CostLine:
    campaign_id: int
    day: date
    amount_cents: int
    currency: str


def put_costs(conn: Connection, lines: Sequence[CostLine], *, now: datetime) -> None:
    """Set the amount of each (campaign, day): a new import replaces the day's amount."""
    if not lines:
        return
    stmt = dialect.insert(conn, campaign_costs)
    stmt = stmt.on_conflict_do_update(
        index_elements=[campaign_costs.c.campaign_id, campaign_costs.c.day],
        set_={"amount_cents": stmt.excluded.amount_cents, "currency": stmt.excluded.currency,
              "updated_at": stmt.excluded.updated_at})
    conn.execute(stmt, [{"campaign_id": x.campaign_id, "day": x.day,
                         "amount_cents": x.amount_cents, "currency": x.currency,
                         "updated_at": now} for x in lines])


def costs_by_campaign(conn: Connection, campaign_ids: Iterable[int]) -> dict[int, int]:
    k = campaign_costs.c
    ids = list(campaign_ids)
    if not ids:
        return {}
    return {int(i): int(total) for i, total in conn.execute(
        sa.select(k.campaign_id, sa.func.sum(k.amount_cents)).where(k.campaign_id.in_(ids))
        .group_by(k.campaign_id))}


# -- short links ----------------------------------------------------------------------------

def insert_short_link(conn: Connection, code: str, *, campaign_id: int | None,
                      target_url: str, now: datetime) -> None:
    conn.execute(short_links.insert().values(code=code, campaign_id=campaign_id,
                                             target_url=target_url, created_at=now, clicks=0))


def count_click(conn: Connection, code: str, *, day: date) -> str | None:
    """Count one click of ``code`` (total and per day); its target, or None if unknown."""
    s = short_links.c
    target = conn.execute(sa.update(short_links).where(s.code == code)
                          .values(clicks=s.clicks + 1).returning(s.target_url)).scalar()
    if target is None:
        return None
    stmt = dialect.insert(conn, short_link_clicks).values(code=code, day=day, clicks=1)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=[short_link_clicks.c.code, short_link_clicks.c.day],
        set_={"clicks": short_link_clicks.c.clicks + 1}))
    return str(target)


def short_link_target(conn: Connection, code: str) -> str | None:
    return conn.execute(sa.select(short_links.c.target_url)
                        .where(short_links.c.code == code)).scalar()


@dataclass(frozen=True, slots=True)
class ShortLinkRow:
    code: str
    campaign_id: int | None
    target_url: str
    clicks: int


def short_link_rows(conn: Connection, campaign_ids: Iterable[int]) -> list[ShortLinkRow]:
    s = short_links.c
    return [ShortLinkRow(r.code, None if r.campaign_id is None else int(r.campaign_id),
                         r.target_url, int(r.clicks))
            for r in conn.execute(sa.select(s.code, s.campaign_id, s.target_url, s.clicks)
                                  .where(s.campaign_id.in_(list(campaign_ids)))
                                  .order_by(s.created_at, s.code))]


def clicks_per_day(conn: Connection, code: str) -> dict[date, int]:
    k = short_link_clicks.c
    return {r.day: int(r.clicks) for r in conn.execute(
        sa.select(k.day, k.clicks).where(k.code == code).order_by(k.day))}


# -- report reads ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    started_at: datetime
    account_id: int | None
    contact_id: int | None
    source_class: str | None
    source_name: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    click_id_kind: str | None


_SESSION_COLUMNS = (sessions.c.id, sessions.c.started_at, sessions.c.account_id,
                    sessions.c.contact_id, sessions.c.source_class, sessions.c.source_name,
                    sessions.c.utm_source, sessions.c.utm_medium, sessions.c.utm_campaign,
                    sessions.c.click_id_kind)


def _session(r: Any) -> SessionRow:
    return SessionRow(int(r.id), r.started_at,
                      None if r.account_id is None else int(r.account_id),
                      None if r.contact_id is None else int(r.contact_id), r.source_class,
                      r.source_name, r.utm_source, r.utm_medium, r.utm_campaign,
                      r.click_id_kind)


def candidate_sessions(conn: Connection, workspace_id: int, *, utm_keys: Iterable[str],
                       click_id_kinds: Iterable[str]) -> list[SessionRow]:
    """Sessions of the workspace that may belong to a campaign: their utm_campaign is one
    of ``utm_keys`` (ignoring case), or they have no utm_campaign and a click id."""
    s = sessions.c
    keys = sorted(set(utm_keys))
    kinds = sorted(set(click_id_kinds))
    by_key = sa.func.lower(sa.func.trim(s.utm_campaign)).in_(keys)
    by_click = sa.and_(s.utm_campaign.is_(None), s.click_id_kind.in_(kinds))
    query = (sa.select(*_SESSION_COLUMNS).select_from(
        sessions.join(sites, sites.c.id == s.site_id))
        .where(sites.c.workspace_id == workspace_id, sa.or_(by_key, by_click))
        .order_by(s.started_at, s.id))
    return [_session(r) for r in conn.execute(query)]


def account_sessions(conn: Connection, account_ids: Iterable[int], *, since: datetime,
                     until: datetime) -> list[SessionRow]:
    """Every session of these accounts started in [since, until]: the touchpoints."""
    s = sessions.c
    ids = sorted(set(account_ids))
    if not ids:
        return []
    return [_session(r) for r in conn.execute(
        sa.select(*_SESSION_COLUMNS).where(s.account_id.in_(ids), s.started_at >= since,
                                           s.started_at <= until)
        .order_by(s.started_at, s.id))]


def accounts_first_seen(conn: Connection, account_ids: Iterable[int]) -> dict[int, datetime]:
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    return {int(i): seen for i, seen in conn.execute(
        sa.select(accounts.c.id, accounts.c.first_seen).where(accounts.c.id.in_(ids)))}


def stage_changes(conn: Connection, account_ids: Iterable[int], *, stage: str
                  ) -> list[tuple[int, datetime]]:
    """(account, time) of every move of these accounts into ``stage``, oldest first."""
    h = stage_history.c
    ids = sorted(set(account_ids))
    if not ids:
        return []
    return [(int(a), at) for a, at in conn.execute(
        sa.select(h.account_id, h.at).where(h.account_id.in_(ids), h.to_stage == stage)
        .order_by(h.at, h.id))]

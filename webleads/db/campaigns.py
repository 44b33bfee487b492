"""SQL of campaigns: campaigns, costs, short links and their clicks, deals, conversion
definitions, end-of-campaign summaries.  See webleads/campaigns/ (the reads of the
reports: db/campaign_reads.py; contacts and tracked e-mail clicks:
db/contacts_import.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.campaigns.model import Campaign, NewCampaign, parse_objective
from webleads.db import dialect
from webleads.db.schema import accounts, contacts
from webleads.db.schema_campaigns import (
    campaign_costs,
    campaign_summaries,
    campaigns,
    conversion_definitions,
    deals,
    short_link_clicks,
    short_links,
)
from webleads.db.schema_web import memberships, users

CHUNK = 500


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


def campaign_by_id(conn: Connection, campaign_id: int) -> Campaign | None:
    """A campaign whatever its workspace: only for ids a signed token vouches for."""
    row = conn.execute(sa.select(campaigns).where(campaigns.c.id == campaign_id)).first()
    return None if row is None else _campaign(row)


def get_campaign(conn: Connection, workspace_id: int, campaign_id: int) -> Campaign | None:
    """A campaign of this workspace (None for another workspace's id)."""
    c = campaigns.c
    row = conn.execute(sa.select(campaigns).where(c.id == campaign_id,
                                                  c.workspace_id == workspace_id)).first()
    return None if row is None else _campaign(row)


def update_campaign(conn: Connection, campaign: Campaign, new: NewCampaign) -> Campaign:
    """Replace a campaign's values with validated ones; ValueError when its name or key
    is another campaign's."""
    c = campaigns.c
    taken = conn.execute(sa.select(c.name, c.utm_campaign).where(
        c.workspace_id == campaign.workspace_id, c.id != campaign.id,
        sa.or_(c.name == new.name, c.utm_campaign == new.utm_campaign))).first()
    if taken is not None:
        field = "name" if taken.name == new.name else "utm-campaign"
        raise ValueError(f"{field}: campaign {taken.name!r} already uses it")
    conn.execute(sa.update(campaigns).where(c.id == campaign.id).values(
        name=new.name, channel=new.channel, page_group=new.page_group,
        objective=new.objective, starts_on=new.starts_on, ends_on=new.ends_on,
        budget_cents=new.budget_cents, currency=new.currency,
        utm_campaign=new.utm_campaign, notes=new.notes))
    return Campaign(campaign.id, campaign.workspace_id, new.name, new.channel, new.page_group,
                    new.objective, new.starts_on, new.ends_on, new.budget_cents, new.currency,
                    new.utm_campaign, new.notes)


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


def costs_per_day(conn: Connection, campaign_id: int) -> dict[date, int]:
    k = campaign_costs.c
    return {r.day: int(r.amount_cents) for r in conn.execute(
        sa.select(k.day, k.amount_cents).where(k.campaign_id == campaign_id).order_by(k.day))}


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


# -- deals ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NewDeal:
    day: date
    amount_cents: int
    currency: str
    account_id: int | None
    contact_id: int | None
    campaign_id: int | None
    ref: str
    note: str = ""
    source: str = "dashboard"


@dataclass(frozen=True, slots=True)
class Deal:
    id: int
    day: date
    amount_cents: int
    currency: str
    account_id: int | None
    contact_id: int | None
    campaign_id: int | None
    source: str
    note: str
    account_name: str | None = None
    contact_email: str | None = None
    campaign_name: str | None = None


def insert_deals(conn: Connection, workspace_id: int, new: Sequence[NewDeal], *,
                 now: datetime) -> int:
    """Insert deals; one whose ``ref`` the workspace already has is left alone.  Returns
    the number inserted."""
    if not new:
        return 0
    stmt = dialect.insert(conn, deals).on_conflict_do_nothing(
        index_elements=[deals.c.workspace_id, deals.c.ref])
    before = _count_deals(conn, workspace_id)
    conn.execute(stmt, [{
        "workspace_id": workspace_id, "day": x.day, "account_id": x.account_id,
        "contact_id": x.contact_id, "campaign_id": x.campaign_id,
        "amount_cents": x.amount_cents, "currency": x.currency, "source": x.source,
        "ref": x.ref, "note": x.note, "created_at": now} for x in new])
    return _count_deals(conn, workspace_id) - before


def _count_deals(conn: Connection, workspace_id: int) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(deals)
                            .where(deals.c.workspace_id == workspace_id)).scalar_one())


def list_deals(conn: Connection, workspace_id: int, *, limit: int | None = None) -> list[Deal]:
    """The workspace's deals, newest day first."""
    d = deals.c
    stmt = (sa.select(d.id, d.day, d.amount_cents, d.currency, d.account_id, d.contact_id,
                      d.campaign_id, d.source, d.note, accounts.c.name.label("account_name"),
                      contacts.c.email.label("contact_email"),
                      campaigns.c.name.label("campaign_name"))
            .select_from(deals.outerjoin(accounts, accounts.c.id == d.account_id)
                         .outerjoin(contacts, contacts.c.id == d.contact_id)
                         .outerjoin(campaigns, campaigns.c.id == d.campaign_id))
            .where(d.workspace_id == workspace_id).order_by(d.day.desc(), d.id.desc()))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [Deal(int(r.id), r.day, int(r.amount_cents), r.currency,
                 None if r.account_id is None else int(r.account_id),
                 None if r.contact_id is None else int(r.contact_id),
                 None if r.campaign_id is None else int(r.campaign_id), r.source, r.note,
                 r.account_name, r.contact_email, r.campaign_name) for r in conn.execute(stmt)]


def delete_deal(conn: Connection, workspace_id: int, deal_id: int) -> bool:
    return bool(conn.execute(sa.delete(deals).where(
        deals.c.id == deal_id, deals.c.workspace_id == workspace_id)).rowcount)


def contact_ids(conn: Connection, workspace_id: int, emails: Iterable[str]
                ) -> dict[str, tuple[int, int | None]]:
    """{email: (contact id, account id)} of the workspace's contacts among ``emails``."""
    wanted = sorted(set(emails))
    out: dict[str, tuple[int, int | None]] = {}
    c = contacts.c
    for start in range(0, len(wanted), CHUNK):
        for email, i, account in conn.execute(sa.select(c.email, c.id, c.account_id).where(
                c.workspace_id == workspace_id, c.email.in_(wanted[start:start + CHUNK]))):
            out[email] = (int(i), None if account is None else int(account))
    return out


def account_ids_by_domain(conn: Connection, workspace_id: int, domains: Iterable[str]
                          ) -> dict[str, int]:
    wanted = sorted({d.lower() for d in domains})
    out: dict[str, int] = {}
    a = accounts.c
    for start in range(0, len(wanted), CHUNK):
        out.update((str(d).lower(), int(i)) for d, i in conn.execute(
            sa.select(a.domain, sa.func.min(a.id)).where(
                a.workspace_id == workspace_id,
                sa.func.lower(a.domain).in_(wanted[start:start + CHUNK]))
            .group_by(a.domain)))
    return out


# -- conversion definitions -----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Definition:
    id: int
    name: str
    kind: str
    value: str


def list_definitions(conn: Connection, workspace_id: int) -> list[Definition]:
    k = conversion_definitions.c
    return [Definition(int(r.id), r.name, r.kind, r.value) for r in conn.execute(
        sa.select(k.id, k.name, k.kind, k.value).where(k.workspace_id == workspace_id)
        .order_by(k.name))]


def insert_definition(conn: Connection, workspace_id: int, *, name: str, kind: str,
                      value: str, now: datetime) -> Definition:
    k = conversion_definitions.c
    taken = conn.execute(sa.select(k.id).where(k.workspace_id == workspace_id,
                                               sa.func.lower(k.name) == name.lower())).first()
    if taken is not None:
        raise ValueError(f"name: a conversion is already called {name!r}")
    new_id = conn.execute(conversion_definitions.insert().values(
        workspace_id=workspace_id, name=name, kind=kind, value=value, created_at=now)
        .returning(k.id)).scalar_one()
    return Definition(int(new_id), name, kind, value)


def delete_definition(conn: Connection, workspace_id: int, definition_id: int) -> bool:
    k = conversion_definitions.c
    return bool(conn.execute(sa.delete(conversion_definitions).where(
        k.id == definition_id, k.workspace_id == workspace_id)).rowcount)


# -- end-of-campaign summaries --------------------------------------------------------------

def ended_unsummarised(conn: Connection, *, ended_from: date, ended_to: date
                       ) -> list[Campaign]:
    """Campaigns of every workspace whose last day is in [ended_from, ended_to] and whose
    summary was not sent yet."""
    c = campaigns.c
    done = sa.select(campaign_summaries.c.campaign_id)
    return [_campaign(r) for r in conn.execute(
        sa.select(campaigns).where(c.ends_on >= ended_from, c.ends_on <= ended_to,
                                   c.id.not_in(done)).order_by(c.workspace_id, c.id))]


def mark_summarised(conn: Connection, campaign_id: int, *, recipients: int,
                    now: datetime) -> None:
    stmt = dialect.insert(conn, campaign_summaries).values(
        campaign_id=campaign_id, sent_at=now, recipients=recipients)
    conn.execute(stmt.on_conflict_do_nothing(index_elements=[campaign_summaries.c.campaign_id]))


def summary_sent(conn: Connection, campaign_id: int) -> datetime | None:
    return conn.execute(sa.select(campaign_summaries.c.sent_at).where(
        campaign_summaries.c.campaign_id == campaign_id)).scalar()


@dataclass(frozen=True, slots=True)
class Recipient:
    email: str
    name: str
    language: str  # en | fr


def summary_recipients(conn: Connection, workspace_id: int) -> list[Recipient]:
    """The workspace's active admins and marketers."""
    u, m = users.c, memberships.c
    return [Recipient(r.email, r.name, "fr" if r.locale == "fr" else "en") for r in conn.execute(
        sa.select(u.email, u.name, u.locale).select_from(users.join(memberships,
                                                                   m.user_id == u.id))
        .where(m.workspace_id == workspace_id, m.role.in_(("admin", "marketer")),
               u.active.is_(True)).order_by(u.email))]

"""Tables of campaigns: the campaigns, their daily costs, short links and their clicks.

See webleads/campaigns/ and docs/campaigns.md.  Money is in integer cents of the
campaign's currency; ``utm_campaign`` is stored lower-case (matching is
case-insensitive).
"""

from __future__ import annotations

import sqlalchemy as sa

from webleads.db.schema import Id, UTCDateTime, metadata

campaigns = sa.Table(
    "campaigns", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("page_group", sa.String(100)),  # the product range in focus
    sa.Column("objective", sa.String(32), nullable=False),
    sa.Column("starts_on", sa.Date(), nullable=False),
    sa.Column("ends_on", sa.Date(), nullable=False),
    sa.Column("budget_cents", sa.BigInteger()),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("utm_campaign", sa.String(200), nullable=False),
    sa.Column("notes", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("workspace_id", "name"),
    sa.UniqueConstraint("workspace_id", "utm_campaign"),
)

# One amount per campaign and day: an import replaces the day's amount.
campaign_costs = sa.Table(
    "campaign_costs", metadata,
    sa.Column("campaign_id", Id, sa.ForeignKey("campaigns.id"), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("amount_cents", sa.BigInteger(), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

short_links = sa.Table(
    "short_links", metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("campaign_id", Id, sa.ForeignKey("campaigns.id")),
    sa.Column("target_url", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("clicks", sa.BigInteger(), nullable=False),
    sa.Index(None, "campaign_id"),
)

# Clicks per link and UTC day (atomic n = n + 1 upserts).
short_link_clicks = sa.Table(
    "short_link_clicks", metadata,
    sa.Column("code", sa.String(32), sa.ForeignKey("short_links.code"), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("clicks", sa.BigInteger(), nullable=False),
)

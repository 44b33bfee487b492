"""Tables of campaigns: the campaigns, their daily costs, short links and their clicks;
contacts' consent to tracked links and the clicks of those links, conversion
definitions, won deals, end-of-campaign summaries; and two indexes of ``sessions``.

See webleads/campaigns/ and docs/campaigns.md.  Money is in integer cents of the
campaign's currency; ``utm_campaign`` is stored lower-case (matching is
case-insensitive).
"""

from __future__ import annotations

import sqlalchemy as sa

from webleads.db.schema import Id, UTCDateTime, metadata, sessions

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

# -- contacts, tracked e-mail links, conversions, deals, summaries (migration 0012) ------

# Consent to tracked e-mail links, per contact: set by an import or in the dashboard,
# never by the tag (a page's identify() traits cannot grant it).
contact_consents = sa.Table(
    "contact_consents", metadata,
    sa.Column("contact_id", Id, sa.ForeignKey("contacts.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("consent", sa.Boolean(), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # import | dashboard
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

# One row per click of a tracked e-mail link (/r/TOKEN): the random one-time ``nonce``
# the landing page carries as ``wl_t``; ``claimed_at``: when a hit of that page turned
# it into the identification of the contact (once, within ``expires_at``).
tracked_clicks = sa.Table(
    "tracked_clicks", metadata,
    sa.Column("nonce", sa.String(32), primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("campaign_id", Id, sa.ForeignKey("campaigns.id"), nullable=False),
    sa.Column("contact_id", Id, sa.ForeignKey("contacts.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("clicked_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("claimed_at", UTCDateTime()),
    sa.Index(None, "campaign_id", "clicked_at"),
    sa.Index(None, "contact_id"),
)

# What counts as a conversion besides the built-in ones: kind event | url | form |
# stage | deal, and its value (event name, URL pattern, form name, stage; "*" for deals).
conversion_definitions = sa.Table(
    "conversion_definitions", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("value", sa.String(500), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("workspace_id", "name"),
)

# Won deals with their revenue.  ``ref`` makes imports idempotent (a CSV's own ref, or
# a digest of the line and its rank among equal lines); ``campaign_id``: the campaign
# the deal is credited to in full (otherwise its revenue is attributed by model).
deals = sa.Table(
    "deals", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="SET NULL")),
    sa.Column("contact_id", Id, sa.ForeignKey("contacts.id", ondelete="SET NULL")),
    sa.Column("campaign_id", Id, sa.ForeignKey("campaigns.id")),
    sa.Column("amount_cents", sa.BigInteger(), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # dashboard | import | crm
    sa.Column("ref", sa.String(200), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("workspace_id", "ref"),
    sa.Index(None, "workspace_id", "day"),
)

# The end-of-campaign summary was sent (or there was nobody to send it to).
campaign_summaries = sa.Table(
    "campaign_summaries", metadata,
    sa.Column("campaign_id", Id, sa.ForeignKey("campaigns.id"), primary_key=True),
    sa.Column("sent_at", UTCDateTime(), nullable=False),
    sa.Column("recipients", sa.Integer(), nullable=False),
)

# The campaign reports read the sessions that carry a utm_campaign or an ad click id
# (about a tenth of them): partial indexes of those sessions only, covering what the
# reports read (db/campaigns.py::candidate_sessions), so no table row is visited.
sa.Index("ix_sessions_utm_campaign", sessions.c.utm_campaign, sessions.c.started_at,
         sessions.c.account_id, sessions.c.contact_id, sessions.c.site_id,
         sqlite_where=sessions.c.utm_campaign.is_not(None),
         postgresql_where=sessions.c.utm_campaign.is_not(None))
sa.Index("ix_sessions_click_id_kind", sessions.c.click_id_kind, sessions.c.utm_campaign,
         sessions.c.started_at, sessions.c.account_id, sessions.c.contact_id,
         sessions.c.site_id, sqlite_where=sessions.c.click_id_kind.is_not(None),
         postgresql_where=sessions.c.click_id_kind.is_not(None))

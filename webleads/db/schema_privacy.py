"""Tables of the privacy features; see webleads/privacy/ and docs/privacy.md.

``site_retention`` holds a site's retention periods (a site without a row keeps the
defaults of ``webleads/privacy/retention.py``); ``daily_stats`` keeps the counts of hits
that are no longer stored (purged or erased), so that overview numbers survive: a day's
total is its ``daily_stats`` rows plus the hits still stored for that day.
``audit_log`` records administrative and privacy actions.
"""

from __future__ import annotations

import sqlalchemy as sa

from webleads.db.schema import Id, UTCDateTime, metadata

site_retention = sa.Table(
    "site_retention", metadata,
    sa.Column("site_id", Id, sa.ForeignKey("sites.id"), primary_key=True),
    sa.Column("hits_days", sa.Integer(), nullable=False),
    sa.Column("sessions_days", sa.Integer(), nullable=False),
    sa.Column("contacts_days", sa.Integer(), nullable=False),
)

# Anonymous counts per site, day (the site's time zone) and dimensions; '' stands for
# "none" in the dimensions (they are part of the primary key).
daily_stats = sa.Table(
    "daily_stats", metadata,
    sa.Column("site_id", Id, sa.ForeignKey("sites.id"), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("page_group", sa.String(100), primary_key=True),
    sa.Column("source_class", sa.String(16), primary_key=True),
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("network_category", sa.String(16), primary_key=True),
    sa.Column("hits", sa.BigInteger(), nullable=False),
    sa.Column("pageviews", sa.BigInteger(), nullable=False),
    sa.Column("visitors", sa.BigInteger(), nullable=False),  # approximate: see retention.py
    sa.Column("engaged_ms", sa.BigInteger(), nullable=False),
    # Sessions (visits) no longer stored, by the day they started: the overview's visits.
    sa.Column("sessions", sa.BigInteger(), nullable=False, server_default="0"),
)

# ``target`` never holds an erased e-mail address: subjects are named by a hash.  No
# foreign key on ``workspace_id``: the log outlives what it records.
audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(300), nullable=False),
    sa.Column("details", sa.JSON(), nullable=False),
    sa.Index(None, "at"),
    sa.Index(None, "workspace_id", "target", "at"),  # an account page's history
)

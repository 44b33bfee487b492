"""The one schema, shared by SQLite and PostgreSQL.

Alembic migrations in ``migrations/versions`` build exactly this; a test compares a
migrated database with this metadata on both engines.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC; always read back as aware UTC datetimes.

    SQLite keeps no time zone and returns naive values: they are UTC by construction.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # rowid on SQLite

workspaces = sa.Table(
    "workspaces", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

sites = sa.Table(
    "sites", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("domain", sa.String(253), nullable=False),
    sa.Column("origins", sa.JSON(), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("ignored_networks", sa.JSON(), nullable=False),
    sa.Column("page_groups", sa.JSON(), nullable=False),
    sa.Column("identity_mode", sa.String(16), nullable=False),
    sa.Column("respect_dnt", sa.Boolean(), nullable=False),
    sa.Column("store_raw_ip", sa.Boolean(), nullable=False),
    sa.Column("ip_mode", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # webleads/privacy/modes.py: audience | b2b, and wait | anonymous | ignore.
    sa.Column("privacy_mode", sa.String(16), nullable=False, server_default="b2b"),
    sa.Column("consent", sa.String(16), nullable=False, server_default="ignore"),
)

# Daily salts of cookieless visitor hashes: a new random salt each UTC day; the
# previous days' salts are deleted when it is created (db/salts.py).
salts = sa.Table(
    "salts", metadata,
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("salt", sa.LargeBinary(32), nullable=False),
)

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("org_key", sa.String(200), nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("domain", sa.String(253)),
    sa.Column("asn", sa.BigInteger()),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("country", sa.String(2)),
    # Identification: how sure, and which sources said what (networks/identify.py).
    sa.Column("confidence", sa.Float()),
    sa.Column("evidence", sa.JSON()),
    # From the workspace's overrides: customer, partner, competitor (NULL: none).
    sa.Column("role", sa.String(16)),
    sa.Column("in_target", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("visits", sa.BigInteger(), nullable=False),
    sa.Column("pageviews", sa.BigInteger(), nullable=False),
    sa.Column("engaged_ms", sa.BigInteger(), nullable=False),
    sa.Column("first_seen", UTCDateTime(), nullable=False),
    sa.Column("last_seen", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("workspace_id", "org_key"),
)

# A workspace's own knowledge of networks, first in precedence: a CIDR (or a whole
# ASN) -> organisation and role.  "office" excludes the traffic (the company's own
# staff), "isp" marks a consumer network, the others name an organisation.
# Corrections made from the product ("wrong company", "this is an ISP") land here.
network_overrides = sa.Table(
    "network_overrides", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("cidr", sa.String(49)),
    sa.Column("asn", sa.BigInteger()),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("organisation", sa.String(300)),
    sa.Column("domain", sa.String(253)),
    sa.Column("category", sa.String(16)),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.String(254), nullable=False),
    sa.CheckConstraint("(cidr IS NULL) <> (asn IS NULL)", name="cidr_or_asn"),
    sa.UniqueConstraint("workspace_id", "cidr"),
    sa.UniqueConstraint("workspace_id", "asn"),
)

contacts = sa.Table(
    "contacts", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("domain", sa.String(253), nullable=False),
    sa.Column("traits", sa.JSON()),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id")),
    sa.Column("first_seen", UTCDateTime(), nullable=False),
    sa.Column("last_seen", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("workspace_id", "email"),
    sa.Index(None, "account_id"),  # an account's contacts (the account page)
)

visitors = sa.Table(
    "visitors", metadata,
    sa.Column("site_id", Id, sa.ForeignKey("sites.id"), primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("first_seen", UTCDateTime(), nullable=False),
    sa.Column("last_seen", UTCDateTime(), nullable=False),
    sa.Column("session_id", Id),
    sa.Column("session_campaign", sa.String(300)),
    sa.Column("contact_id", Id, sa.ForeignKey("contacts.id")),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("site_id", Id, sa.ForeignKey("sites.id"), nullable=False),
    sa.Column("visitor_key", sa.String(64), nullable=False),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id")),
    sa.Column("contact_id", Id, sa.ForeignKey("contacts.id")),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("last_seen", UTCDateTime(), nullable=False),
    sa.Column("hits", sa.Integer(), nullable=False),
    sa.Column("pageviews", sa.Integer(), nullable=False),
    sa.Column("engaged_ms", sa.BigInteger(), nullable=False),
    sa.Column("entry_url", sa.Text(), nullable=False),
    sa.Column("referrer", sa.Text(), nullable=False),
    sa.Column("source_class", sa.String(16)),
    sa.Column("source_name", sa.String(253)),
    sa.Column("utm_source", sa.String(200)),
    sa.Column("utm_medium", sa.String(200)),
    sa.Column("utm_campaign", sa.String(200)),
    sa.Column("click_id_kind", sa.String(16)),
    sa.Column("country", sa.String(2)),
    sa.Column("device_type", sa.String(16)),
    sa.Column("browser", sa.String(64)),
    sa.Column("os", sa.String(64)),
    sa.Column("network_category", sa.String(16)),
    sa.Index(None, "site_id", "started_at"),
    sa.Index(None, "site_id", "visitor_key"),
    sa.Index(None, "account_id", "started_at", "source_class"),  # first touch: db/feed.py
)

hits = sa.Table(
    "hits", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("site_id", Id, sa.ForeignKey("sites.id"), nullable=False),
    sa.Column("session_id", Id, sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id")),
    sa.Column("contact_id", Id, sa.ForeignKey("contacts.id")),
    sa.Column("visitor_key", sa.String(64), nullable=False),
    sa.Column("ts", UTCDateTime(), nullable=False),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("referrer", sa.Text(), nullable=False),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("name", sa.String(200)),
    sa.Column("props", sa.JSON()),
    sa.Column("engaged_ms", sa.Integer(), nullable=False),
    sa.Column("ip", sa.String(45)),  # raw address: NULL unless the site stores raw IPs
    sa.Column("ip_anon", sa.String(64)),
    sa.Column("asn", sa.BigInteger()),
    sa.Column("as_org", sa.String(300)),
    sa.Column("org_name", sa.String(300)),
    sa.Column("network_category", sa.String(16)),
    sa.Column("network_confidence", sa.Float()),
    sa.Column("country", sa.String(2)),
    sa.Column("browser", sa.String(64)),
    sa.Column("browser_version", sa.String(32)),
    sa.Column("os", sa.String(64)),
    sa.Column("device_type", sa.String(16)),
    sa.Column("source_class", sa.String(16)),
    sa.Column("source_name", sa.String(253)),
    sa.Column("utm_source", sa.String(200)),
    sa.Column("utm_medium", sa.String(200)),
    sa.Column("utm_campaign", sa.String(200)),
    sa.Column("utm_term", sa.String(200)),
    sa.Column("utm_content", sa.String(200)),
    sa.Column("click_id_kind", sa.String(16)),
    sa.Column("click_id", sa.String(200)),
    sa.Column("page_group", sa.String(100)),
    sa.Index(None, "site_id", "ts"),
    sa.Index(None, "session_id"),
    sa.Index(None, "account_id", "ts"),
    # A contact's hits (a targeted rescore: scoring/rescore.py); identified hits only,
    # so that the anonymous majority costs the collect path nothing.
    sa.Index(None, "contact_id", sqlite_where=sa.text("contact_id IS NOT NULL"),
             postgresql_where=sa.text("contact_id IS NOT NULL")),
)

# Valid hits that were not stored, counted per site, day (site's time zone) and reason.
drops = sa.Table(
    "drops", metadata,
    sa.Column("site_id", Id, sa.ForeignKey("sites.id"), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("reason", sa.String(32), primary_key=True),
    sa.Column("count", sa.BigInteger(), nullable=False),
)

# Rejected requests (4xx), with the raw payload capped in size: nothing silently lost.
quarantine = sa.Table(
    "quarantine", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("endpoint", sa.String(32), nullable=False),
    sa.Column("status", sa.Integer(), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("field", sa.String(200)),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("site_key", sa.String(64)),
    sa.Column("content_type", sa.String(200)),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("payload", sa.LargeBinary(), nullable=False),
    sa.Index(None, "received_at"),
)


# Hits acknowledged but not yet sessionised and stored (WEBLEADS_PROCESSOR=separate):
# one row per writer batch, the enriched hits encoded by webleads/hit_queue.py.  The
# processor stores a row's hits and deletes the row in one transaction.
hit_queue = sa.Table(
    "hit_queue", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("enqueued_at", UTCDateTime(), nullable=False),
    sa.Column("hits", sa.Integer(), nullable=False),
    sa.Column("payload", sa.LargeBinary(), nullable=False),
)
# SQLite keeps the queue in a file of its own (db/hit_queue.py): the id of the last
# queued row stored is written here, with the hits, so each row is stored once.
hit_queue_marks = sa.Table(
    "hit_queue_marks", metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("last_id", sa.BigInteger(), nullable=False),
)


# French enrichment tables live in their own module, on the same MetaData.
from webleads.db import schema_campaigns as _schema_campaigns  # noqa: E402,F401
from webleads.db import schema_fr as _schema_fr  # noqa: E402,F401
from webleads.db import schema_lifecycle as _schema_lifecycle  # noqa: E402,F401
from webleads.db import schema_outbox as _schema_outbox  # noqa: E402,F401
from webleads.db import schema_privacy as _schema_privacy  # noqa: E402,F401
from webleads.db import schema_rollups as _schema_rollups  # noqa: E402,F401
from webleads.db import schema_scoring as _schema_scoring  # noqa: E402,F401
from webleads.db import schema_web as _schema_web  # noqa: E402,F401


"""Daily rollups of the overview: per site and day (in the site's time zone), counts
that a period's page adds up instead of grouping a million hits.

Design (``db/rollups.py`` builds a day, ``db/rollup_store.py`` stores, checks and reads,
``webleads/traffic.py`` decides when to build, ``db/overview.py`` composes the report):

- **Read side only.**  Nothing on the collect path writes here.  Rollups are built
  lazily when a page needs closed days (any day before today in the site's time zone)
  that have no row or a stale one; today is always computed live, the same way.
  Building reads in short read transactions and writes a few weeks of days per write
  transaction, so that the collect writer never waits long for SQLite's write lock.
- **What a day holds.**  Visits are the sessions *started* that day (from ``sessions``,
  which outlive their hits: 25 months against 13), with their source, medium,
  campaign, country, network, start hour and identification; page views, engaged time,
  page groups and pages (paths, without query string) come from the hits of the day.
  ``rollup_days`` has the day's totals and two distinct-count sketches (visitors,
  organisations: ``webleads/sketch.py``) that add up across days; ``rollup_hours`` the
  visits per local start hour (the hour x weekday heatmap); ``rollup_dims`` the visits
  or page views per dimension value (``kind``: source, medium, campaign, country,
  network, group, page).  New organisations are not rolled up: an account's first
  visit moves when an earlier hit arrives late, so they are counted live.
- **Late hits.**  ``rollup_sites.checked_id`` is a watermark on ``hits.id``: the hits
  up to it are reflected in the rollups.  Each read scans the hits above it (the few
  received since the last check, by primary key): a hit of a closed day, or of a
  session started on a closed day, that is newer than the day's build (``built_id``,
  the newest hit id when it was built) makes that day stale; it is rebuilt if the page
  needs it, else its rows are dropped.  A hit received shortly before a build
  (``LAG``) may have been uncommitted then (PostgreSQL with several writers) and counts
  as newer too; the watermark stops below the first hit received within ``LAG``.
- **Purge and erasure.**  Both fold the hits they delete into ``daily_stats`` before
  deleting them (``privacy/retention.py``, ``privacy/subjects.py``), and a day's true
  total is its stored hits plus its ``daily_stats`` rows.  A rollup remembers the
  ``daily_stats`` hits of its day when it was built (``stats_hits``); when they differ
  now, hits of the day were deleted and the day is rebuilt from what is left.  Readers
  add ``daily_stats`` (hits, page views, engaged time, page groups) on top of the
  rollups, so totals still add up after a purge; visits, visitors and organisations
  follow the sessions, which stay longer than hits.
- **Time zone.**  ``rollup_sites.timezone`` is the zone the rollups were built in; when
  the site's zone changes, its rollups are dropped and rebuilt.
- **Not covered.**  ``webleads networks reidentify`` rewrites the accounts of stored
  hits and sessions without deleting any: it should call
  ``rollup_store.forget(conn, site_id)`` (or closed days keep their former
  identification).

Rollups hold counts, page paths and hashed visitor keys and account ids (in the
sketches): nothing that the hits and sessions do not hold longer.
"""

from __future__ import annotations

import sqlalchemy as sa

from webleads.db.schema import Id, UTCDateTime, metadata

rollup_sites = sa.Table(
    "rollup_sites", metadata,
    sa.Column("site_id", Id, sa.ForeignKey("sites.id"), primary_key=True),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("checked_id", sa.BigInteger(), nullable=False),
)

rollup_days = sa.Table(
    "rollup_days", metadata,
    sa.Column("site_id", Id, sa.ForeignKey("sites.id"), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("built_at", UTCDateTime(), nullable=False),
    sa.Column("built_id", sa.BigInteger(), nullable=False),  # newest hit id at build
    sa.Column("stats_hits", sa.BigInteger(), nullable=False),  # daily_stats hits at build
    sa.Column("visits", sa.BigInteger(), nullable=False),
    sa.Column("identified_visits", sa.BigInteger(), nullable=False),
    sa.Column("hits", sa.BigInteger(), nullable=False),
    sa.Column("pageviews", sa.BigInteger(), nullable=False),
    sa.Column("engaged_ms", sa.BigInteger(), nullable=False),
    sa.Column("visitors", sa.LargeBinary(), nullable=False),  # sketch of visitor keys
    sa.Column("accounts", sa.LargeBinary(), nullable=False),  # sketch of account ids
)

rollup_hours = sa.Table(
    "rollup_hours", metadata,
    sa.Column("site_id", Id, sa.ForeignKey("sites.id"), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("hour", sa.SmallInteger(), primary_key=True),  # 0-23, local time
    sa.Column("visits", sa.BigInteger(), nullable=False),
)

rollup_dims = sa.Table(
    "rollup_dims", metadata,
    sa.Column("site_id", Id, sa.ForeignKey("sites.id"), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("value", sa.String(300), primary_key=True),
    sa.Column("visits", sa.BigInteger(), nullable=False),
    sa.Column("pageviews", sa.BigInteger(), nullable=False),
)

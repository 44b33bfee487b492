"""The hourly job of ``webleads serve`` that builds the Overview's rollups ahead of the
first visit (both engines)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.test_reidentify import T0, TRANSIT, store_batch, visits
from webleads import traffic
from webleads.db.schema_rollups import rollup_days
from webleads.sites import NewSite


def test_prebuild_builds_the_closed_days_once(engine: Engine, site: NewSite) -> None:
    store_batch(engine, visits(site.site, TRANSIT))
    now = T0 + timedelta(days=2)
    built = traffic.prebuild(engine, now)
    assert built == traffic.PREBUILD_DAYS  # from 182 days back to yesterday
    with engine.connect() as conn:
        days = dict(conn.execute(sa.select(rollup_days.c.day, rollup_days.c.visits)).all())
    assert days[T0.date()] == 3 and sum(days.values()) == 3
    assert traffic.prebuild(engine, now) == 0  # nothing new to build

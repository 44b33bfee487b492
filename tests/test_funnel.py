"""``db.funnel``: the identification funnel of a site, on a handmade set of hits and
drops with exact numbers, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webleads.db import store
from webleads.db.funnel import Funnel, funnel
from webleads.db.schema import accounts
from webleads.model import Client, Hit, HitType, Network, Site
from webleads.sites import NewSite, create_site

START = datetime(2026, 3, 2, tzinfo=UTC)
END = datetime(2026, 3, 3, 23, 59, 59, 999999, tzinfo=UTC)
ACME = Network(asn=64512, as_org="ACME-AS", org_name="Acme SA", category="enterprise",
               confidence=0.9)
UNI = Network(asn=64513, as_org="UNI-AS", org_name="Uni Example", category="education",
              confidence=0.9)
ISP = Network(asn=65000, as_org="ISP", category="isp", confidence=0.5)


def hit(site: Site, visitor: str, ts: datetime, network: Network | None, *,
        kind: HitType = "pageview", email: str | None = None) -> Hit:
    client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor_key=visitor,
                    network=network, ip_anon="198.51.100.0")
    return Hit(client=client, type=kind, ts=ts, received_at=ts, email=email)


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def test_funnel_counts_a_handmade_period(engine: Engine, site: NewSite) -> None:
    s = site.site
    other = create_site(engine, "Other", "other.example").site
    with engine.begin() as conn:
        store.store_hits(conn, [
            hit(s, "acme-1", at(9), ACME), hit(s, "acme-1", at(9.1), ACME),
            hit(s, "acme-2", at(30), ACME),
            hit(s, "uni-1", at(10), UNI), hit(s, "uni-1", at(10.1), UNI, kind="engagement"),
            hit(s, "isp-1", at(11), ISP), hit(s, "isp-1", at(11.1), ISP),
            # On an ISP, but her e-mail names her organisation: both hits get its account.
            hit(s, "jane", at(12), ISP),
            hit(s, "jane", at(12.1), ISP, kind="identify", email="jane@globex.example"),
            hit(s, "none-1", START, None),  # the first instant is in
            hit(s, "late", END, ACME),  # and so is the last one
            # Outside the period, or of another site.
            hit(s, "before", START - timedelta(microseconds=1), ACME),
            hit(s, "after", END + timedelta(microseconds=1), UNI),
            hit(other, "elsewhere", at(9), ACME),
        ])
        store.add_drops(conn, {
            (s.id, date(2026, 3, 2), "bot"): 3, (s.id, date(2026, 3, 3), "bot"): 1,
            (s.id, date(2026, 3, 2), "empty_user_agent"): 1,
            (s.id, date(2026, 3, 2), "headless_browser"): 2,
            (s.id, date(2026, 3, 3), "bot_network"): 1,
            (s.id, date(2026, 3, 2), "do_not_track"): 2,
            (s.id, date(2026, 3, 3), "ignored_network"): 3,
            (s.id, date(2026, 3, 1), "bot"): 100, (s.id, date(2026, 3, 4), "bot"): 50,
            (other.id, date(2026, 3, 2), "bot"): 7,
        })
        conn.execute(sa.update(accounts).where(accounts.c.org_key == "uni example")
                     .values(in_target=True))
        got = funnel(conn, site_id=s.id, start=START, end=END)
        empty = funnel(conn, site_id=s.id, start=at(240), end=at(241))
    assert got == Funnel(
        received=11 + 13, human=24 - 8, stored=11, business=6, identified=3,
        identified_hits=8, in_target=1,
        by_category={"education": 2, "enterprise": 4, "isp": 4, "unknown": 1},
        dropped={"bot": 4, "bot_network": 1, "do_not_track": 2, "empty_user_agent": 1,
                 "headless_browser": 2, "ignored_network": 3},
    )
    assert empty == Funnel(received=0, human=0, stored=0, business=0, identified=0,
                           identified_hits=0, in_target=0)

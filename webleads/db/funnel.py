"""The identification funnel of a site over a period (``webleads funnel``): of the hits
received, how many came from people, were stored, came from organisations' networks,
and were put on an account.

Two queries: the stored hits grouped by network category and account (on the index of
hits on ``(site_id, ts)``; the accounts are joined to the groups, not to each hit), and
the drops grouped by reason (on the primary key of drops).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db.schema import accounts, drops, hits
from webleads.model import ORGANISATION_CATEGORIES, DropReason

# Drops that were no person: what ``human`` leaves out of ``received``.
NOT_HUMAN: tuple[DropReason, ...] = ("bot", "empty_user_agent", "headless_browser",
                                     "bot_network")


@dataclass(frozen=True, slots=True)
class Funnel:
    received: int  # stored hits + every drop
    human: int  # received - drops of bots, empty user agents, headless browsers, bot networks
    stored: int
    business: int  # stored hits from enterprise, education or government networks
    identified: int  # distinct accounts among the stored hits
    identified_hits: int  # stored hits with an account
    in_target: int  # distinct accounts of the stored hits that are in target
    by_category: dict[str, int] = field(default_factory=dict)  # stored hits; NULL: "unknown"
    dropped: dict[str, int] = field(default_factory=dict)  # drops by reason


def funnel(conn: Connection, *, site_id: int, start: datetime, end: datetime) -> Funnel:
    """The funnel of hits with ``start <= ts <= end`` (both ends included) and of drops
    counted from ``start.date()`` to ``end.date()`` (both included).

    Drops are counted per day of the site's time zone: give ``start`` and ``end`` in it
    (``end`` as the last instant of the last day) so that both cover the same days."""
    h, a = hits.c, accounts.c
    # Group the hits first, then look up the few accounts (not one join per hit).
    counts = (sa.select(h.network_category, h.account_id, sa.func.count().label("n"))
              .where(h.site_id == site_id, h.ts >= start, h.ts <= end)
              .group_by(h.network_category, h.account_id).subquery())
    grouped = conn.execute(
        sa.select(counts.c.network_category, counts.c.account_id, a.in_target, counts.c.n)
        .select_from(counts.outerjoin(accounts, a.id == counts.c.account_id))
    ).all()
    dropped = {str(reason): int(n) for reason, n in conn.execute(
        sa.select(drops.c.reason, sa.func.sum(drops.c.count))
        .where(drops.c.site_id == site_id, drops.c.day >= start.date(),
               drops.c.day <= end.date())
        .group_by(drops.c.reason))}
    by_category: dict[str, int] = {}
    accounts_seen: set[int] = set()
    targets: set[int] = set()
    business = identified_hits = 0
    for category, account_id, in_target, n in grouped:
        name = category or "unknown"
        by_category[name] = by_category.get(name, 0) + int(n)
        business += int(n) if category in ORGANISATION_CATEGORIES else 0
        if account_id is not None:
            identified_hits += int(n)
            accounts_seen.add(int(account_id))
            if in_target:
                targets.add(int(account_id))
    stored = sum(by_category.values())
    received = stored + sum(dropped.values())
    return Funnel(
        received=received,
        human=received - sum(dropped.get(reason, 0) for reason in NOT_HUMAN),
        stored=stored, business=business, identified=len(accounts_seen),
        identified_hits=identified_hits, in_target=len(targets),
        by_category=dict(sorted(by_category.items())), dropped=dict(sorted(dropped.items())),
    )

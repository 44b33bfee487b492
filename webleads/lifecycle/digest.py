"""The daily digest: one e-mail per recipient (an owner, or a rule's address) with the
day's alerts of digest rules, instead of one message each.

``build_digests(engine, now)`` enqueues the digests of the day before ``now`` (UTC
date; each event's day is its date in its rule's time zone).  It is idempotent per
recipient and day (the outbox key ``digest:...:DAY``), so ``webleads digest send`` and
the background of ``serve`` may call it as often as they like: hourly is fine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from webleads.db import lifecycle as db
from webleads.outbox.queue import enqueue


def default_day(now: datetime) -> date:
    """The day a digest sent at ``now`` is about: yesterday (UTC)."""
    return (now - timedelta(days=1)).date()


def digest_key(recipient: str, owner_id: int | None, day: date) -> str:
    who = f"owner{owner_id}" if owner_id is not None else \
        hashlib.sha256(recipient.lower().encode()).hexdigest()[:24]
    return f"digest:{who}:{day.isoformat()}"


def items(events: Sequence[db.DigestEvent]) -> list[dict[str, Any]]:
    """One item per account (its latest event), most recent first."""
    latest: dict[int, db.DigestEvent] = {}
    for e in events:
        if e.account_id not in latest or e.at >= latest[e.account_id].at:
            latest[e.account_id] = e
    ordered = sorted(latest.values(), key=lambda e: (e.at, e.account_id), reverse=True)
    return [{**e.payload, "alert": e.kind} for e in ordered]


def build_digests(engine: Engine, now: datetime, *, day: date | None = None,
                  allow_private: bool = False) -> int:
    """Enqueue the digests of ``day`` (default: yesterday); the number of new ones."""
    day = day or default_day(now)
    made = 0
    with engine.begin() as conn:
        groups: dict[tuple[int, str], list[db.DigestEvent]] = {}
        for event in db.digest_day(conn, day):
            groups.setdefault((event.workspace_id, event.recipient.lower()), []).append(event)
        for (workspace_id, _), events in sorted(groups.items()):
            first = events[0]
            listed = items(events)
            new = enqueue(conn, workspace_id=workspace_id, channel="email",
                          destination=first.recipient, kind="digest",
                          payload={"count": len(listed), "day": day.isoformat(),
                                   "items": listed},
                          language="fr" if first.language == "fr" else "en",
                          idempotency_key=digest_key(first.recipient, first.owner_id, day),
                          now=now, allow_private=allow_private)
            made += new is not None
    return made

"""Conversion definitions and what a campaign converted.

A definition has a kind and a value:

- ``event``: a custom event of that name (``wl('event', 'demo_booked')``);
- ``url``: a page view whose address matches a pattern with ``*`` wildcards; a pattern
  that starts with ``/`` is matched against the path and query (``/thanks*``), any other
  against the whole address; case is ignored;
- ``form``: a marked form (``data-wl-form``) of that name, ``*`` for any;
- ``stage``: the account reaching a lifecycle stage (``mql``, ``sql``, ``opportunity``,
  ``customer``);
- ``deal``: a won deal (value ``*``).

For one campaign, ``event``, ``url`` and ``form`` conversions count the campaign's
sessions that converted (and their accounts); ``stage`` counts its accounts that
reached the stage within its dates after one of its sessions; ``deal`` counts the won
deals it influenced (reports.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Literal, get_args
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection

from webleads.campaigns.reports import ReportSet, converted
from webleads.db import campaign_reads as reads
from webleads.db import campaigns as db

Kind = Literal["event", "url", "form", "stage", "deal"]
KINDS: tuple[Kind, ...] = get_args(Kind)
STAGES = ("mql", "sql", "opportunity", "customer")
_NAME = re.compile(r"^[^\x00-\x1f]{1,100}$")


@dataclass(frozen=True, slots=True)
class Count:
    definition: db.Definition
    conversions: int  # sessions (event, url, form), accounts (stage) or deals
    accounts: int


def parse_kind(value: str) -> Kind:
    for kind in KINDS:
        if value.strip().lower() == kind:
            return kind
    raise ValueError(f"kind: {value!r} is not one of {', '.join(KINDS)}")


def validate(name: str, kind: str, value: str) -> tuple[str, Kind, str]:
    """Normalised (name, kind, value); ValueError names the bad field."""
    name = " ".join(name.split())
    if not _NAME.match(name):
        raise ValueError("name: give 1 to 100 characters")
    chosen = parse_kind(kind)
    value = value.strip()
    if chosen == "deal":
        return name, chosen, "*"
    if chosen == "stage":
        value = value.lower()
        if value not in STAGES:
            raise ValueError(f"value: a stage among {', '.join(STAGES)}")
        return name, chosen, value
    if chosen == "form" and not value:
        value = "*"
    if not value or len(value) > 500 or any(ord(ch) < 32 for ch in value):
        raise ValueError("value: give 1 to 500 characters")
    if chosen == "url" and not (value.startswith("/") or
                                value.lower().startswith(("http://", "https://", "*"))):
        raise ValueError("value: a path such as /thanks* or an address such as "
                         "https://example.com/thanks*")
    return name, chosen, value


def url_matches(pattern: str, url: str) -> bool:
    if pattern.startswith("/"):
        parts = urlsplit(url)
        text = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    else:
        text = url
    return fnmatchcase(text.lower(), pattern.lower())


@dataclass(frozen=True, slots=True)
class Activity:
    """What a campaign's sessions did: conversions per definition, and page views per
    product range (None: pages of no range)."""

    conversions: list[Count]
    focus: dict[str | None, int]


def campaign_activity(conn: Connection, rs: ReportSet, campaign_id: int,
                      definitions: list[db.Definition]) -> Activity:
    """One read of the campaign's hits (page views, events, forms) gives both."""
    report = rs.get(campaign_id)
    assert report is not None
    own = rs.sessions.get(campaign_id, [])
    account_of = {s.id: s.account_id for s in own}
    rows = reads.session_hits(conn, list(account_of), types=("pageview", "event", "form"))
    focus: dict[str | None, int] = {}
    for h in rows:
        if h.type == "pageview":
            focus[h.page_group] = focus.get(h.page_group, 0) + 1
    out = []
    for d in definitions:
        if d.kind in ("event", "form", "url"):
            if d.kind == "url":
                done = {h.session_id for h in rows
                        if h.type == "pageview" and url_matches(d.value, h.url)}
            else:
                done = {h.session_id for h in rows
                        if h.type == d.kind and (d.value == "*" or h.name == d.value)}
            accounts = {account_of[s] for s in done if account_of.get(s) is not None}
            out.append(Count(d, len(done), len(accounts)))
        elif d.kind == "stage":
            first_touch: dict[int, datetime] = {}
            for s in own:  # oldest first
                if s.account_id is not None:
                    first_touch.setdefault(s.account_id, s.started_at)
            changes = reads.stage_changes(conn, first_touch, stage=d.value)
            reached = converted(report.campaign, first_touch, changes)
            out.append(Count(d, len(reached), len(reached)))
        else:
            won = rs.influenced.get(campaign_id, set())
            with_account = {rs.deals[i].account_id for i in won if rs.deals[i].account_id}
            out.append(Count(d, len(won), len(with_account)))
    return Activity(out, focus)


def campaign_conversions(conn: Connection, rs: ReportSet, campaign_id: int,
                         definitions: list[db.Definition]) -> list[Count]:
    return campaign_activity(conn, rs, campaign_id, definitions).conversions


def range_focus(conn: Connection, rs: ReportSet, campaign_id: int, *,
                max_sessions: int | None = None) -> tuple[dict[str | None, int], bool]:
    """Page views of the campaign's sessions per product range, and whether they were
    counted on a sample: with ``max_sessions``, on that many sessions spread evenly over
    the campaign's (the share it gives is then an estimate)."""
    ids = [s.id for s in rs.sessions.get(campaign_id, [])]
    sampled = max_sessions is not None and len(ids) > max_sessions
    if sampled:
        assert max_sessions is not None
        step = len(ids) / max_sessions
        ids = [ids[int(i * step)] for i in range(max_sessions)]
    out: dict[str | None, int] = {}
    for h in reads.session_hits(conn, ids, types=("pageview",)):
        out[h.page_group] = out.get(h.page_group, 0) + 1
    return out, sampled

"""The link builder: UTM links following the naming convention, and short links.

Convention: ``utm_campaign`` is the campaign's key (lower-case), ``utm_source`` the
site or network that shows the link (``linkedin``, ``newsletter``), ``utm_medium`` the
kind of medium (``email``, ``cpc``, ``social``, ``referral``); all lower-case.
Short-link codes are 10 random base62 characters (59 bits, from ``secrets``):
they cannot be guessed or enumerated.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.campaigns.model import Campaign
from webleads.db import campaigns as db

ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 10
CODE = re.compile(r"^[A-Za-z0-9]{8,32}$")
SHORT_PREFIX = "/l/"
_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


@dataclass(frozen=True, slots=True)
class Link:
    url: str  # the full UTM link
    code: str  # the short link is SHORT_PREFIX + code


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def utm_link(url: str, campaign: Campaign, *, source: str, medium: str,
             content: str | None = None, term: str | None = None) -> str:
    """``url`` with the campaign's UTM parameters (existing utm_* values replaced)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"url {url!r}: give an absolute http(s) address")
    values = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign.utm_campaign,
              "utm_content": content, "utm_term": term}
    for key, value in values.items():
        if value is not None and (not value.strip() or len(value.strip()) > 200):
            raise ValueError(f"{key.removeprefix('utm_')}: give 1 to 200 characters")
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in _UTM]
    added = [(k, v.strip().lower()) for k, v in values.items() if v is not None]
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/",
                       urlencode(kept + added), parts.fragment))


def create_link(conn: Connection, campaign: Campaign, url: str, *, source: str, medium: str,
                content: str | None = None, term: str | None = None, now: datetime,
                code: Callable[[], str] = new_code) -> Link:
    """Build the UTM link and store a short link to it (a new code on a collision)."""
    target = utm_link(url, campaign, source=source, medium=medium, content=content, term=term)
    for _ in range(5):
        candidate = code()
        if not CODE.match(candidate):
            raise ValueError(f"short-link code {candidate!r} is not 8-32 base62 characters")
        try:
            with conn.begin_nested():
                db.insert_short_link(conn, candidate, campaign_id=campaign.id,
                                     target_url=target, now=now)
        except sa.exc.IntegrityError:
            continue
        return Link(target, candidate)
    raise RuntimeError("could not find a free short-link code")


def follow(conn: Connection, code: str, *, now: datetime) -> str | None:
    """Count a click of ``code``; its target, or None for a malformed or unknown code."""
    if not CODE.match(code):
        return None
    return db.count_click(conn, code, day=now.date())

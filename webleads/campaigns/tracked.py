"""Tracked e-mail links: a link per contact and campaign that identifies the contact when
clicked.

The link is ``{base}/r/{TOKEN}?u={landing page}``; TOKEN is signed (tokens.py), so it
names one contact and one campaign and cannot be forged or enumerated.  A click
(``follow``) redirects to the landing page, which must be on a site of the workspace
(never an open redirect), with the campaign's UTM values when the page had none, and,
when the token is valid and the contact consents, with ``wl_t=NONCE``: a random
one-time value stored with the click.  The first page view that carries it within
``CLAIM_WINDOW`` claims it (``claim``; see landing.py) and is identified as the
contact, which links the visitor's earlier sessions and attaches the account.  A
shared or bookmarked landing URL therefore identifies nobody else, and the token
itself never reaches the site.

An unknown, tampered or expired token still redirects, anonymously (no ``wl_t``), to
a landing page on one of the install's sites.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from sqlalchemy.engine import Connection

from webleads.campaigns import tokens
from webleads.campaigns.links import utm_link
from webleads.campaigns.model import Campaign
from webleads.db import campaigns as db
from webleads.db import contacts_import as contacts_db
from webleads.db.sites import load_sites
from webleads.model import Site
from webleads.sites import origin_allowed

PARAM = "wl_t"
PREFIX = "/r/"
NONCE = re.compile(r"^[A-Za-z0-9_-]{22}$")
CLAIM_WINDOW = timedelta(minutes=30)
AFTER_END = timedelta(days=90)  # a link works this long after its campaign's last day
MIN_VALIDITY = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class EmailLink:
    url: str  # what goes into the e-mail
    target: str  # the landing page with the campaign's UTM values
    expires: datetime


@dataclass(frozen=True, slots=True)
class Follow:
    location: str | None  # None: no landing page that may be redirected to
    verdict: tokens.Verdict
    identifying: bool  # the location carries a one-time wl_t


def default_expiry(campaign: Campaign, now: datetime) -> datetime:
    end = datetime.combine(campaign.ends_on, time(), UTC) + timedelta(days=1) + AFTER_END
    return max(end, now + MIN_VALIDITY)


def workspace_sites(conn: Connection, workspace_id: int | None) -> list[Site]:
    """The sites a link may land on: the workspace's, or every site (unknown token)."""
    return [s for s in load_sites(conn) if workspace_id is None or s.workspace_id == workspace_id]


def allowed_target(url: str, sites: list[Site]) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return False
    if any(ch in url for ch in "\r\n\t\\ ") or not parts.hostname:
        return False
    origin = f"{parts.scheme}://{parts.netloc}"
    return any(origin_allowed(site, origin) for site in sites)


def add_query(url: str, pairs: list[tuple[str, str]]) -> str:
    """``url`` with ``pairs`` appended to its query; the rest is kept as written."""
    if not pairs:
        return url
    parts = urlsplit(url)
    extra = urlencode(pairs)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, parts.fragment))


def strip_param(url: str) -> tuple[str, str | None]:
    """``url`` without its ``wl_t`` parameters, and the first one's value."""
    head, sep, rest = url.partition("?")
    if not sep:
        return url, None
    query, hash_sep, fragment = rest.partition("#")
    kept: list[str] = []
    found: str | None = None
    for piece in query.split("&"):
        key, _, value = piece.partition("=")
        if key == PARAM:
            found = value if found is None else found
        else:
            kept.append(piece)
    if found is None:
        return url, None
    out = head + ("?" + "&".join(kept) if any(kept) else "")
    return out + (hash_sep + fragment if hash_sep else ""), found


def with_campaign(url: str, campaign: Campaign) -> str:
    """The landing page with the campaign's UTM values, unless it names a campaign."""
    parts = urlsplit(url)
    keys = {p.partition("=")[0] for p in parts.query.split("&") if p}
    if "utm_campaign" in keys:
        return url
    extra = [("utm_source", "email"), ("utm_medium", "email"),
             ("utm_campaign", campaign.utm_campaign)]
    return add_query(url, [(k, v) for k, v in extra if k not in keys])


def build_email_link(conn: Connection, campaign: Campaign, email: str, url: str, *,
                     base: str, secret: str, now: datetime, source: str = "newsletter",
                     expires: datetime | None = None) -> EmailLink:
    """The tracked link of a contact for a campaign; ValueError names the bad field
    (``contact``, ``url`` or ``expires``)."""
    contact = contacts_db.contact_by_email(conn, campaign.workspace_id, email.strip().lower())
    if contact is None:
        raise ValueError(f"contact: no contact {email.strip()!r} in this workspace "
                         "(import it first)")
    return _link(conn, campaign, contact, url, base=base, secret=secret, now=now,
                 source=source, expires=expires)


def _link(conn: Connection, campaign: Campaign, contact: contacts_db.ContactRow, url: str, *,
          base: str, secret: str, now: datetime, source: str,
          expires: datetime | None) -> EmailLink:
    if contact.consent is not True:
        raise ValueError(f"contact: {contact.email} has not agreed to tracked links "
                         "(consent: yes in the contact import)")
    target = utm_link(url, campaign, source=source, medium="email")
    sites = workspace_sites(conn, campaign.workspace_id)
    if not allowed_target(target, sites):
        domains = ", ".join(sorted({s.domain for s in sites})) or "-"
        raise ValueError(f"url: {url.strip()!r} is not on a site of this workspace "
                         f"({domains})")
    until = expires or default_expiry(campaign, now)
    if until <= now:
        raise ValueError("expires: the link would already be expired")
    token = tokens.sign(contact.id, campaign.id, until, secret=secret)
    link = f"{base.rstrip('/')}{PREFIX}{token}?u={quote(target, safe='')}"
    return EmailLink(link, target, until)


def links_for_contacts(conn: Connection, campaign: Campaign, url: str, *, base: str,
                       secret: str, now: datetime, source: str = "newsletter",
                       expires: datetime | None = None
                       ) -> list[tuple[contacts_db.ContactRow, EmailLink]]:
    """The link of every contact of the workspace who consents (for a mail merge)."""
    out = []
    for contact in contacts_db.list_contacts(conn, campaign.workspace_id, consenting=True,
                                             limit=1_000_000):
        out.append((contact, _link(conn, campaign, contact, url, base=base, secret=secret,
                                   now=now, source=source, expires=expires)))
    return out


def follow(conn: Connection, token: str, target: str | None, *, secret: str, now: datetime,
           count: bool = True, nonce: str | None = None) -> Follow:
    """Where a click of ``/r/{token}?u={target}`` goes; with ``count``, a valid token of a
    consenting contact also stores the click and its one-time ``wl_t``."""
    verdict, found = tokens.check(token, secret=secret, now=now)
    campaign = db.campaign_by_id(conn, found.campaign_id) if found else None
    if campaign is None:
        verdict = "invalid"
    sites = workspace_sites(conn, campaign.workspace_id if campaign else None)
    location = target if target and allowed_target(target, sites) else None
    if location is None and campaign is not None and sites:
        location = f"https://{sites[0].domain}/"
    if location is None:
        return Follow(None, verdict, False)
    if campaign is None:
        return Follow(location, verdict, False)
    location = with_campaign(location, campaign)
    if verdict != "valid" or not count:
        return Follow(location, verdict, False)
    assert found is not None
    contact = contacts_db.contact_by_id(conn, found.contact_id)
    if contact is None or contact.workspace_id != campaign.workspace_id or \
            contact.consent is not True:
        return Follow(location, verdict, False)
    value = nonce or secrets.token_urlsafe(16)
    contacts_db.insert_click(conn, value, workspace_id=campaign.workspace_id,
                             campaign_id=campaign.id, contact_id=contact.id, now=now,
                             expires_at=now + CLAIM_WINDOW)
    return Follow(add_query(location, [(PARAM, value)]), verdict, True)


def claim(conn: Connection, nonce: str, *, workspace_id: int, now: datetime) -> str | None:
    """The e-mail of the contact a landing page's ``wl_t`` identifies (once), or None."""
    if not NONCE.match(nonce):
        return None
    found = contacts_db.claim_click(conn, nonce, workspace_id=workspace_id, now=now)
    return found.email if found else None

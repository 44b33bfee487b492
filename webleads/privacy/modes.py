"""A site's privacy mode and consent mode: what each allows, in one place.

Privacy modes (``sites.privacy_mode``):

- ``audience``: audience measurement within the CNIL's exemption from consent.  Every
  hit is in the *no-identification form* (below); the visitor identifier lives at most
  13 months (the tag's cookie is never extended; the cookieless salt changes daily);
  raw hits and sessions are kept at most ``AUDIENCE_MAX_DAYS`` (25 months).
- ``b2b``: organisations identified from their networks under legitimate interest; the
  raw IP is used in memory and stored only with ``store_raw_ip``; consumer ISP visitors
  stay anonymous (``Network.is_organisation``); contacts come only from the person's
  own action (a form, an identify call, a tracked link).

Consent modes (``sites.consent``), for hits that do not carry ``consent: true``:

- ``wait``: dropped (``no_consent``): the tag sends nothing before consent;
- ``anonymous``: kept in the no-identification form, without the tag's identifier;
- ``ignore``: consent is not asked for; only an explicit refusal (``consent: false``)
  moves the hit to the no-identification form.

The **no-identification form** (``Client.identify`` False): the IP is truncated before
any step uses it (IPv4 /24, IPv6 /48); the network gives a category and a country,
never an AS number, an AS name or an organisation; identify calls are dropped
(``no_identification``); forms lose their e-mail, hits their traits and ad click ids;
e-mail addresses are removed from URLs, referrers, titles, names, UTM values and
props; the visitor key starts with ``a-`` so that it never joins an identified visitor.
"""

from __future__ import annotations

import re
from typing import Literal

from sqlalchemy.engine import Connection

from webleads.model import ConsentMode, PrivacyMode, Scalar

AUDIENCE_MAX_DAYS = 760  # 25 months: the CNIL's limit for audience-measurement data
ANONYMOUS_PREFIX = "a-"  # visitor keys of the no-identification form
REDACTED = "[email]"

Verdict = Literal["full", "anonymous", "drop"]


class ModeConflict(ValueError):
    """A setting that the site's privacy mode does not allow; the message says why."""


def consent_verdict(mode: ConsentMode, consent: bool | None) -> Verdict:
    """What a hit may be, given the site's consent mode and the hit's consent flag."""
    if consent is True:
        return "full"
    if mode == "wait":
        return "drop"
    if mode == "anonymous" or consent is False:
        return "anonymous"
    return "full"


# -- retention ------------------------------------------------------------------------------

def retention_problem(mode: PrivacyMode, *, hits_days: int, sessions_days: int) -> str | None:
    """Why these periods do not fit the mode, or None."""
    if mode == "audience" and max(hits_days, sessions_days) > AUDIENCE_MAX_DAYS:
        return (f"audience mode keeps hits and sessions at most {AUDIENCE_MAX_DAYS} days "
                f"(25 months), not {max(hits_days, sessions_days)}")
    return None


def check_retention(conn: Connection, site_id: int, *, hits_days: int,
                    sessions_days: int) -> None:
    """Raise ``ModeConflict`` (a ``ValueError``) when a site's new retention does not fit
    its privacy mode (called by ``privacy.retention.set_retention``)."""
    from webleads.db.sites import privacy_mode_of

    problem = retention_problem(privacy_mode_of(conn, site_id), hits_days=hits_days,
                                sessions_days=sessions_days)
    if problem is not None:
        raise ModeConflict(problem)


def cap_retention(conn: Connection, site_id: int) -> dict[str, int] | None:
    """Lower a site's stored retention to the audience mode's limit; returns the new
    periods when they changed (a site without a row has the defaults, which fit)."""
    from webleads.db import privacy as db

    rows = db.site_rows(conn, site_id=site_id)
    if not rows or rows[0].hits_days is None:
        return None
    row = rows[0]
    hits_days = min(row.hits_days or AUDIENCE_MAX_DAYS, AUDIENCE_MAX_DAYS)
    sessions_days = min(row.sessions_days or AUDIENCE_MAX_DAYS, AUDIENCE_MAX_DAYS)
    if (hits_days, sessions_days) == (row.hits_days, row.sessions_days):
        return None
    contacts_days = int(row.contacts_days or 1)
    db.set_retention(conn, site_id, hits_days=hits_days, sessions_days=sessions_days,
                     contacts_days=contacts_days)
    return {"hits_days": hits_days, "sessions_days": sessions_days,
            "contacts_days": contacts_days}


# -- redaction ------------------------------------------------------------------------------

# An address, plain or percent-encoded (%40), as it appears in URLs, titles and bodies.
_EMAIL = re.compile(r"[\w.+'-]{1,64}(?:@|%40)[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+",
                    re.IGNORECASE)
_EMAIL_BYTES = re.compile(_EMAIL.pattern.encode(), re.IGNORECASE)
_IPV4_BYTES = re.compile(rb"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6_BYTES = re.compile(rb"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f.]{0,15}(?![\w:])")
# Ad click ids name one click of one person at the ad network: cross-referencing.
_CLICK_PARAM = re.compile(r"([?&](?:gclid|gbraid|wbraid|msclkid|li_fat_id|fbclid)=)[^&#]*",
                          re.IGNORECASE)


def _may_hold_email(text: str) -> bool:
    return "@" in text or "%40" in text


def redact_text(text: str) -> str:
    """The text without e-mail addresses (replaced by ``[email]``)."""
    if not text or not _may_hold_email(text):
        return text
    return _EMAIL.sub(REDACTED, text)


def redact_url(url: str) -> str:
    """A URL without e-mail addresses and without the values of ad click ids."""
    url = redact_text(url)
    low = url.lower()
    if "clid=" in low or "braid=" in low or "fat_id=" in low:
        url = _CLICK_PARAM.sub(r"\1", url)
    return url


def redact_props(props: dict[str, Scalar] | None) -> dict[str, Scalar] | None:
    if not props:
        return props
    if not any(isinstance(v, str) and _may_hold_email(v) for v in props.values()):
        return props
    return {k: redact_text(v) if isinstance(v, str) else v for k, v in props.items()}


def redact_payload(body: bytes) -> bytes:
    """A refused request body of an audience-mode site, as kept in quarantine: without
    e-mail addresses and IP addresses (a server-side body may hold ``ip``)."""
    body = _EMAIL_BYTES.sub(REDACTED.encode(), body)
    body = _IPV4_BYTES.sub(b"[ip]", body)
    return _IPV6_BYTES.sub(b"[ip]", body)

"""Value types shared by every layer: what a hit is before and after enrichment.

All of them are immutable.  Enrichment steps return a new value with
``msgspec.structs.replace``; nothing mutates a hit in place.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import msgspec

HitType = Literal["pageview", "engagement", "click", "download", "form", "event", "identify"]
HIT_TYPES: tuple[HitType, ...] = (
    "pageview", "engagement", "click", "download", "form", "event", "identify",
)

# Why a hit was not stored although its request was valid.  Closed vocabulary:
# counted per site, day and reason in the ``drops`` table and in /metrics.
DropReason = Literal[
    "bot",  # user agent of a declared crawler or automation tool
    "empty_user_agent",  # no user agent, or one too short to be a browser
    "headless_browser",  # headless markers (HeadlessChrome, PhantomJS, ...)
    "do_not_track",  # DNT: 1 or Sec-GPC: 1 while the site honours them
    "ignored_network",  # IP inside one of the site's ignored networks or office overrides
    "bot_network",  # IP inside a declared crawler's published range
    "opted_out",  # the visitor opted out on the site's opt-out page (GET /optout)
    "no_consent",  # consent mode "wait" and the hit does not carry the visitor's consent
    "no_identification",  # an identify call where identification is off (audience mode,
    # or no consent): it carries nothing else
]
DROP_REASONS: tuple[DropReason, ...] = (
    "bot", "empty_user_agent", "headless_browser", "do_not_track", "ignored_network",
    "bot_network", "opted_out", "no_consent", "no_identification",
)

# Network categories (filled by the identification resolver, see networks/).
NetworkCategory = Literal[
    "enterprise", "education", "government", "isp", "mobile", "hosting",
    "anonymizer", "bot", "reserved", "unknown",
]
ORGANISATION_CATEGORIES: frozenset[str] = frozenset({"enterprise", "education", "government"})

Scalar = str | int | float | bool | None  # values of event props and contact traits

SourceClass = Literal["search", "social", "email", "paid", "referral", "direct", "internal"]
IdentityMode = Literal["cookie", "cookieless"]
IpMode = Literal["truncate", "hash"]
# audience: CNIL-exempt audience measurement (no identification at all); b2b:
# organisations identified under legitimate interest.  See webleads/privacy/modes.py.
PrivacyMode = Literal["audience", "b2b"]
PRIVACY_MODES: tuple[PrivacyMode, ...] = ("audience", "b2b")
# How hits are treated before the visitor's consent (wl('consent', true)) is known:
# wait: not sent at all; anonymous: sent without identifier nor identification;
# ignore: consent is not asked for (legitimate interest).
ConsentMode = Literal["wait", "anonymous", "ignore"]
CONSENT_MODES: tuple[ConsentMode, ...] = ("wait", "anonymous", "ignore")


@dataclass(frozen=True, slots=True)
class Drop:
    """An expected outcome, not an error: the hit is valid but is not stored."""

    reason: DropReason


@dataclass(frozen=True, slots=True)
class PageGroupRule:
    """URL rule of a site: a path glob (``/pricing*``, ``/crm/**``) -> product range."""

    group: str
    pattern: str


@dataclass(frozen=True, slots=True)
class Site:
    """A tracked website and its per-site options, as the collect path needs them."""

    id: int
    workspace_id: int
    key: str
    name: str
    domain: str
    origins: tuple[str, ...] = ()
    timezone: str = "UTC"
    ignored_networks: tuple[str, ...] = ()
    page_groups: tuple[PageGroupRule, ...] = ()
    identity_mode: IdentityMode = "cookie"
    respect_dnt: bool = True
    store_raw_ip: bool = False
    ip_mode: IpMode = "truncate"
    secret_hash: str = ""
    privacy_mode: PrivacyMode = "b2b"
    consent: ConsentMode = "ignore"
    # Parsed form of ``ignored_networks``; built once when the site is loaded.
    ignored_nets: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(
        default=(), compare=False, repr=False
    )

    def __post_init__(self) -> None:
        nets = tuple(ipaddress.ip_network(c, strict=False) for c in self.ignored_networks)
        object.__setattr__(self, "ignored_nets", nets)


class Network(msgspec.Struct, frozen=True, gc=False):
    """What the resolver says about an IP address."""

    asn: int | None = None
    as_org: str | None = None
    org_name: str | None = None  # the identified organisation, when there is one
    org_domain: str | None = None
    category: NetworkCategory = "unknown"
    confidence: float = 0.0
    country: str | None = None
    evidence: tuple[str, ...] = ()
    # A workspace override's role: customer, partner, competitor, organisation, isp.
    role: str | None = None

    @property
    def is_organisation(self) -> bool:
        return self.category in ORGANISATION_CATEGORIES and bool(self.org_name)


class Client(msgspec.Struct, frozen=True, gc=False):
    """What one request says about its sender; shared by every hit of the request.

    Client-level steps (bots, networks, IP, device, visitor) run once per request.
    ``ip`` is the raw address, held in memory only: ``put_anonymised_ip`` clears it
    unless the site stores raw IPs.
    """

    site: Site
    ip: str | None
    user_agent: str
    dnt: bool = False
    visitor: str | None = None  # first-party id sent by the tag (cookie mode)
    consent: bool | None = None  # the hits' consent flag (wl('consent', ...)); None: unsaid
    opted_out: bool = False  # the request carries the site's opt-out cookie
    # False: the no-identification form (audience mode, or no consent): set by
    # put_privacy, which also truncates ``ip`` at once; nothing may identify the sender.
    identify: bool = True
    ip_anon: str | None = None
    network: Network | None = None
    country: str | None = None
    browser: str | None = None
    browser_version: str | None = None
    os: str | None = None
    device_type: str | None = None  # desktop, mobile, tablet, other
    visitor_key: str | None = None  # the stored visitor id


class Hit(msgspec.Struct, frozen=True, gc=False):
    """One validated event of one request, before and after hit-level enrichment."""

    client: Client
    type: HitType
    ts: datetime  # UTC, aware
    received_at: datetime  # UTC, aware
    url: str = ""
    referrer: str = ""
    title: str = ""
    name: str | None = None
    props: dict[str, Scalar] | None = None
    engaged_ms: int = 0
    email: str | None = None  # normalised (lower-case, trimmed)
    traits: dict[str, Scalar] | None = None
    # put_source
    source_class: SourceClass | None = None
    source_name: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    click_id_kind: str | None = None  # gclid, msclkid, li_fat_id, fbclid
    click_id: str | None = None
    # put_page_group
    page_group: str | None = None

    @property
    def campaign_key(self) -> str | None:
        """What makes a new campaign: a new one starts a new session."""
        if self.utm_campaign or self.utm_source:
            return f"{self.utm_source or ''}/{self.utm_medium or ''}/{self.utm_campaign or ''}"
        if self.click_id:
            return f"{self.click_id_kind}:{self.click_id}"
        return None

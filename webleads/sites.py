"""Sites: creation with validated options, the tag snippet, and the in-memory book
the collect path reads (refreshed from the database, never queried per request)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import threading
import time
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine

from webleads.db import sites as q
from webleads.db.engine import read_only
from webleads.model import (
    CONSENT_MODES,
    PRIVACY_MODES,
    ConsentMode,
    IdentityMode,
    IpMode,
    PageGroupRule,
    PrivacyMode,
    Site,
)

DEFAULT_WORKSPACE = "default"
# Options whose changes are recorded in the audit log (privacy actions).
PRIVACY_OPTIONS = ("privacy_mode", "consent", "identity_mode", "respect_dnt", "store_raw_ip",
                   "ip_mode")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
_ORIGIN = re.compile(r"^https?://[^/?#\s]+$")
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # public keys are wl_ + URL-safe base64


class SiteError(ValueError):
    """An option of a site is invalid; the message names the option."""


@dataclass(frozen=True, slots=True)
class NewSite:
    site: Site
    secret: str  # shown once; only its hash is stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_secret(site: Site, secret: str) -> bool:
    return hmac.compare_digest(site.secret_hash, hash_secret(secret))


def create_site(
    engine: Engine, name: str, domain: str, *, origins: Sequence[str] = (),
    timezone: str = "UTC", ignored_networks: Sequence[str] = (),
    page_groups: Sequence[PageGroupRule] = (), identity_mode: IdentityMode = "cookie",
    respect_dnt: bool = True, store_raw_ip: bool = False, ip_mode: IpMode = "truncate",
    privacy_mode: PrivacyMode = "b2b", consent: ConsentMode = "ignore",
    workspace: str = DEFAULT_WORKSPACE, now: datetime | None = None,
) -> NewSite:
    values = _column_values(
        name=name, domain=domain, origins=origins, timezone=timezone,
        ignored_networks=ignored_networks, page_groups=page_groups,
        identity_mode=identity_mode, respect_dnt=respect_dnt, store_raw_ip=store_raw_ip,
        ip_mode=ip_mode, privacy_mode=privacy_mode, consent=consent,
    )
    _check_combination(values)
    now = now or datetime.now(UTC)
    key = "wl_" + secrets.token_urlsafe(12)
    secret = "wls_" + secrets.token_urlsafe(24)
    with engine.begin() as conn:
        workspace_id = q.ensure_workspace(conn, workspace, now=now)
        q.insert_site(conn, workspace_id=workspace_id, key=key,
                      secret_hash=hash_secret(secret), created_at=now, **values)
        site = q.site_by_key(conn, key)
    assert site is not None
    return NewSite(site, secret)


def update_site(engine: Engine, key: str, *, by: str = "cli", now: datetime | None = None,
                **changes: Any) -> Site:
    """Change options of an existing site (same names as ``create_site``); options
    not given keep their value.  The collect path sees the change within 10 seconds.

    Moving to the audience mode turns raw IP storage off and lowers the site's retention
    to 25 months at most (``privacy/modes.py``).  Changes of privacy options are
    recorded in the audit log under ``by``."""
    from webleads.privacy.audit import record_audit
    from webleads.privacy.modes import cap_retention

    values = _column_values(**changes)
    if not values:
        raise SiteError("nothing to change: give at least one option")
    with engine.begin() as conn:
        site = q.site_by_key(conn, key)
        if site is None:
            raise SiteError(f"site: no site has the key {key!r}")
        current = {name: getattr(site, name) for name in PRIVACY_OPTIONS}
        if values.get("privacy_mode") == "audience" and "store_raw_ip" not in values:
            values["store_raw_ip"] = False
        _check_combination({**current, **values})
        q.update_site(conn, site.id, **values)
        details: dict[str, Any] = {name: values[name] for name in PRIVACY_OPTIONS
                                   if name in values and values[name] != current[name]}
        if values.get("privacy_mode", site.privacy_mode) == "audience":
            capped = cap_retention(conn, site.id)
            if capped is not None:
                details["retention"] = capped
        if details:
            record_audit(conn, workspace_id=site.workspace_id, actor=by,
                         action="site.privacy", target=f"site:{key}", details=details,
                         now=now or datetime.now(UTC))
        updated = q.site_by_key(conn, key)
    assert updated is not None
    return updated


def _check_combination(values: dict[str, Any]) -> None:
    """Options that contradict each other (``values``: column values)."""
    if values.get("privacy_mode") == "audience" and values.get("store_raw_ip"):
        raise SiteError("store-ip: the audience mode never stores raw IP addresses")


def _column_values(
    *, name: str | None = None, domain: str | None = None,
    origins: Sequence[str] | None = None, timezone: str | None = None,
    ignored_networks: Sequence[str] | None = None,
    page_groups: Sequence[PageGroupRule] | None = None, identity_mode: str | None = None,
    respect_dnt: bool | None = None, store_raw_ip: bool | None = None,
    ip_mode: str | None = None, privacy_mode: str | None = None, consent: str | None = None,
) -> dict[str, Any]:
    """The validated column values of the options given (None: not given).

    Every message names the option, as the command line spells it.
    """
    values: dict[str, Any] = {}
    if name is not None:
        name = name.strip()
        if not name or len(name) > 200:
            raise SiteError("name: 1 to 200 characters")
        values["name"] = name
    if domain is not None:
        domain = domain.strip().lower().rstrip(".")
        if domain.startswith(("http://", "https://")):
            domain = _hostname(domain) or ""
        if not _DOMAIN.match(domain) and not _is_ip(domain):
            raise SiteError(f"domain: {domain!r} is not a host name (example.com)")
        values["domain"] = domain
    if origins is not None:
        cleaned = [o.strip().rstrip("/").lower() for o in origins]  # as browsers send them
        for origin in cleaned:
            if not _ORIGIN.match(origin):
                raise SiteError(f"origin: {origin!r} is not scheme://host[:port]")
        values["origins"] = cleaned
    if timezone is not None:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise SiteError(f"timezone: {timezone!r} is not a known time zone") from exc
        values["timezone"] = timezone
    if ignored_networks is not None:
        for cidr in ignored_networks:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise SiteError(f"ignore: {cidr!r} is not a CIDR (192.0.2.0/24)") from exc
        values["ignored_networks"] = list(ignored_networks)
    if page_groups is not None:
        for rule in page_groups:
            if not rule.group or not rule.pattern.startswith("/"):
                raise SiteError(f"page group: {rule.group}={rule.pattern} needs a name and "
                                "a path starting with /")
        values["page_groups"] = [{"group": r.group, "pattern": r.pattern} for r in page_groups]
    if identity_mode is not None:
        if identity_mode not in ("cookie", "cookieless"):
            raise SiteError(f"identity mode: {identity_mode!r} is not cookie or cookieless")
        values["identity_mode"] = identity_mode
    if ip_mode is not None:
        if ip_mode not in ("truncate", "hash"):
            raise SiteError(f"ip-mode: {ip_mode!r} is not truncate or hash")
        values["ip_mode"] = ip_mode
    if privacy_mode is not None:
        if privacy_mode not in PRIVACY_MODES:
            raise SiteError(f"privacy-mode: {privacy_mode!r} is not audience or b2b")
        values["privacy_mode"] = privacy_mode
    if consent is not None:
        if consent not in CONSENT_MODES:
            raise SiteError(f"consent: {consent!r} is not wait, anonymous or ignore")
        values["consent"] = consent
    if respect_dnt is not None:
        values["respect_dnt"] = bool(respect_dnt)
    if store_raw_ip is not None:
        values["store_raw_ip"] = bool(store_raw_ip)
    return values


def _hostname(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:  # "http://[::1": no host at all
        return None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def snippet(site: Site, base_url: str) -> str:
    """The HTML to paste in every page of the site."""
    base = base_url.rstrip("/")
    attrs = f' data-site="{site.key}"'
    if site.identity_mode == "cookieless":
        attrs += " data-cookieless"
    if site.respect_dnt:
        attrs += " data-respect-dnt"
    if site.consent != "ignore":
        attrs += f' data-consent="{site.consent}"'
    tag = f'<script defer src="{base}/wl.js"{attrs}></script>'
    if site.consent == "wait":  # a pixel cannot wait for consent: its hits would be dropped
        return tag
    return (
        f'{tag}\n'
        f'<noscript><img src="{base}/p.gif?site={site.key}" alt="" '
        'referrerpolicy="no-referrer-when-downgrade" width="1" height="1"></noscript>'
    )


def origin_allowed(site: Site, origin: str) -> bool:
    """Is a browser page at ``origin`` (scheme://host[:port]) allowed to send hits?

    The site's domain and its sub-domains, on any scheme and port, and the extra
    origins given with ``--origin``.  Never raises: an unparsable origin is refused.
    """
    return _origin_verdict(site.domain, site.origins, origin)


@lru_cache(maxsize=8192)  # pages of a site send the same Origin again and again
def _origin_verdict(domain: str, origins: tuple[str, ...], origin: str) -> bool:
    origin = origin.lower().rstrip("/")
    if origin in origins:
        return True
    host = _hostname(origin)
    if not host:
        return False
    return host == domain or host.endswith("." + domain)


class SiteBook:
    """Sites by public key, in memory, reloaded every ``ttl`` seconds (settings changes
    reach the collect path within that time).  A key not in memory is looked up once
    in the database (an indexed read), so a site created a moment ago works at once;
    a key found nowhere is remembered for ``miss_ttl`` seconds, so a flood of made-up
    keys costs one read per key, not one per request."""

    MISSES_MAX = 10_000

    def __init__(self, engine: Engine, *, ttl: float = 10.0, miss_ttl: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._ttl = ttl
        self._miss_ttl = miss_ttl
        self._clock = clock
        self._misses: dict[str, float] = {}
        self._sites: dict[str, Site] = {}
        self._loaded = float("-inf")
        self._lock = threading.Lock()

    def reload(self) -> None:
        with read_only(self._engine) as conn, conn.begin():
            loaded = {s.key: s for s in q.load_sites(conn)}
        self._sites = loaded
        self._loaded = self._clock()

    def get(self, key: str) -> Site | None:
        if self._clock() - self._loaded > self._ttl:
            with self._lock:
                if self._clock() - self._loaded > self._ttl:
                    self.reload()
        site = self._sites.get(key)
        if site is None:
            if not _KEY.match(key):  # not a key this module makes (NUL, spaces...): no read
                return None
            now = self._clock()
            if now < self._misses.get(key, float("-inf")):
                return None
            with read_only(self._engine) as conn, conn.begin():
                site = q.site_by_key(conn, key)
            if site is not None:
                self._sites = {**self._sites, key: site}
            else:
                if len(self._misses) >= self.MISSES_MAX:
                    self._misses = {k: t for k, t in self._misses.items() if t > now}
                    if len(self._misses) >= self.MISSES_MAX:
                        self._misses.clear()
                self._misses[key] = now + self._miss_ttl
        return site

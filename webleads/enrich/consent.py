"""Steps that honour the visitor's privacy signals, the site's privacy and consent
modes (webleads/privacy/modes.py) and the site's exclusions."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from msgspec.structs import replace

from webleads.enrich.anonymise import truncate_ip
from webleads.model import Client, Drop, Hit
from webleads.networks.resolver import ip_value
from webleads.privacy.modes import (
    consent_verdict,
    redact_props,
    redact_text,
    redact_url,
)


def drop_opted_out(client: Client) -> Client | Drop:
    """The request carries the site's opt-out cookie (set by GET /optout)."""
    if client.opted_out:
        return Drop("opted_out")
    return client


def drop_do_not_track(client: Client) -> Client | Drop:
    """DNT: 1 or Sec-GPC: 1 while the site honours them: nothing is stored."""
    if client.dnt and client.site.respect_dnt:
        return Drop("do_not_track")
    return client


def drop_no_consent(client: Client) -> Client | Drop:
    """Consent mode ``wait`` and the hits do not carry ``consent: true``."""
    site = client.site
    if site.consent == "wait" and consent_verdict("wait", client.consent) == "drop":
        return Drop("no_consent")
    return client


def put_privacy(client: Client) -> Client:
    """The no-identification form, where the site's privacy mode or the visitor's
    consent says so: ``identify`` off, the IP truncated before any other step sees it,
    and, without consent, the tag's visitor id ignored (a daily hash instead)."""
    site = client.site
    consent = client.consent
    # consent_verdict(site.consent, consent) == "full", inlined (run for every request);
    # "wait" without consent never gets here (drop_no_consent)
    full = consent is True or (consent is None and site.consent == "ignore")
    if full and site.privacy_mode == "b2b":  # the common case
        return client
    ip = truncate_ip(client.ip) if client.ip is not None else None
    visitor = client.visitor if full else None
    return replace(client, identify=False, ip=ip, visitor=visitor)


def drop_ignored_network(client: Client) -> Client | Drop:
    """The site's own offices (ignored CIDRs) are not visitors."""
    site = client.site
    if not site.ignored_nets or client.ip is None:
        return client
    parsed = ip_value(client.ip)
    if parsed is None:
        return client
    version, value = parsed
    for v, first, last in _bounds(site.ignored_networks):
        if v == version and first <= value <= last:
            return Drop("ignored_network")
    return client


@lru_cache(maxsize=1024)
def _bounds(cidrs: tuple[str, ...]) -> tuple[tuple[int, int, int], ...]:
    """A site's ignored networks (``Site.ignored_nets`` is made from the same texts) as
    integer bounds, so that the check made per request needs no ``ipaddress`` object."""
    nets = (ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)
    return tuple((n.version, int(n.network_address), int(n.broadcast_address)) for n in nets)


def drop_identity(hit: Hit) -> Hit | Drop:
    """In the no-identification form, nothing that names a person or an ad click is
    kept: identify calls are dropped; form e-mails, traits and click ids removed;
    e-mail addresses removed from texts, and click id values from URLs."""
    if hit.client.identify:
        return hit
    if hit.type == "identify":
        return Drop("no_identification")
    return replace(
        hit, email=None, traits=None, click_id=None,
        url=redact_url(hit.url), referrer=redact_url(hit.referrer),
        title=redact_text(hit.title), name=redact_text(hit.name) if hit.name else hit.name,
        props=redact_props(hit.props),
        utm_source=_redact(hit.utm_source), utm_medium=_redact(hit.utm_medium),
        utm_campaign=_redact(hit.utm_campaign), utm_term=_redact(hit.utm_term),
        utm_content=_redact(hit.utm_content),
    )


def _redact(value: str | None) -> str | None:
    return redact_text(value) if value else value

"""The site form of the settings pages: posted fields -> the options of
``webleads.sites.create_site`` / ``update_site``, with one translated message per field
in error; and the messages of :class:`~webleads.sites.SiteError` mapped to their field.

Only parsing happens here (lines of a text area, check boxes, rows of page-group
rules); whether an option is valid stays the business of ``webleads.sites``, whose
errors name the option they are about.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from webleads.model import CONSENT_MODES, PRIVACY_MODES, PageGroupRule, Site
from webleads.sites import SiteError
from webleads.web.i18n import Translator

MAX_FIELD = 10_000  # characters of one field
MAX_LINES = 200  # origins, networks
MAX_RULES = 100  # page-group rules
GROUP_MAX = 100  # the hits.page_group column
PATTERN_MAX = 500
BLANK_RULES = 3  # empty rows offered under the rules of a site
IDENTITY_MODES = ("cookie", "cookieless")
IP_MODES = ("truncate", "hash")
_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class SiteForm:
    """What the form holds: ``options`` for ``create_site``, ``values`` to show it again,
    ``errors`` field -> message."""

    options: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def values_of(site: Site | None) -> dict[str, Any]:
    """The form's values for an existing site, or the defaults of a new one."""
    if site is None:
        return {"name": "", "domain": "", "origins": "", "timezone": "Europe/Paris",
                "identity_mode": "cookie", "respect_dnt": True, "store_raw_ip": False,
                "ip_mode": "truncate", "ignored_networks": "",
                "privacy_mode": "b2b", "consent": "ignore",
                "rules": [("", "")] * BLANK_RULES}
    return {"name": site.name, "domain": site.domain, "origins": "\n".join(site.origins),
            "timezone": site.timezone, "identity_mode": site.identity_mode,
            "respect_dnt": site.respect_dnt, "store_raw_ip": site.store_raw_ip,
            "ip_mode": site.ip_mode, "ignored_networks": "\n".join(site.ignored_networks),
            "privacy_mode": site.privacy_mode, "consent": site.consent,
            "rules": [(r.pattern, r.group) for r in site.page_groups]
            + [("", "")] * BLANK_RULES}


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def parse(form: FormData, t: Translator) -> SiteForm:
    out = SiteForm()
    errors = out.errors
    texts = {name: _text(form, name) for name in (
        "name", "domain", "origins", "timezone", "identity_mode", "ip_mode",
        "ignored_networks", "privacy_mode", "consent")}
    for name, text in texts.items():
        if len(text) > MAX_FIELD:
            errors[name] = t("This field is too long.")
            texts[name] = text[:MAX_FIELD]
        elif _BAD.search(text):
            errors[name] = t("This field holds control characters: type it again.")
    patterns = [p if isinstance(p, str) else "" for p in form.getlist("rule_pattern")]
    groups = [g if isinstance(g, str) else "" for g in form.getlist("rule_group")]
    rules = [(p.strip(), g.strip()) for p, g in zip(patterns, groups, strict=False)
             ][:MAX_RULES + BLANK_RULES]
    out.values = {
        "name": texts["name"], "domain": texts["domain"], "origins": texts["origins"],
        "timezone": texts["timezone"].strip(),
        "identity_mode": texts["identity_mode"], "ip_mode": texts["ip_mode"],
        "privacy_mode": texts["privacy_mode"], "consent": texts["consent"],
        "respect_dnt": form.get("respect_dnt") == "on",
        "store_raw_ip": form.get("store_raw_ip") == "on",
        "ignored_networks": texts["ignored_networks"],
        "rules": [r for r in rules if r != ("", "")] + [("", "")] * BLANK_RULES,
    }
    options: dict[str, Any] = {
        "name": texts["name"], "domain": texts["domain"], "timezone": out.values["timezone"],
        "respect_dnt": out.values["respect_dnt"], "store_raw_ip": out.values["store_raw_ip"],
    }
    if texts["identity_mode"] not in IDENTITY_MODES:
        errors.setdefault("identity_mode", t("Choose cookie or cookieless."))
    options["identity_mode"] = texts["identity_mode"]
    if texts["ip_mode"] not in IP_MODES:
        errors.setdefault("ip_mode", t("Choose truncated or hashed."))
    options["ip_mode"] = texts["ip_mode"]
    # Not sent (an older form): the site keeps its value, a new site the default.
    if texts["privacy_mode"]:
        if texts["privacy_mode"] not in PRIVACY_MODES:
            errors.setdefault("privacy_mode", t("Choose audience or B2B."))
        options["privacy_mode"] = texts["privacy_mode"]
    if texts["consent"]:
        if texts["consent"] not in CONSENT_MODES:
            errors.setdefault("consent", t("Choose how hits before consent are treated."))
        options["consent"] = texts["consent"]
    origins = _lines(texts["origins"])
    if len(origins) > MAX_LINES:
        errors.setdefault("origins", t("At most %(n)s lines.", n=MAX_LINES))
    options["origins"] = origins
    networks = _lines(texts["ignored_networks"])
    if len(networks) > MAX_LINES:
        errors.setdefault("ignored_networks", t("At most %(n)s lines.", n=MAX_LINES))
    for line in networks:
        try:
            ipaddress.ip_network(line, strict=False)
        except ValueError:
            errors.setdefault("ignored_networks", t(
                "“%(value)s” is not a network: write an address or a CIDR, like "
                "192.0.2.0/24 or 2001:db8::/48.", value=line[:100]))
    options["ignored_networks"] = networks
    page_groups = []
    for pattern, group in rules:
        if not pattern and not group:
            continue
        if not pattern.startswith("/") or not group:
            errors.setdefault("page_groups", t(
                "Each rule needs a path starting with / and a product range "
                "(“%(pattern)s” → “%(group)s”).", pattern=pattern[:100], group=group[:100]))
        elif len(group) > GROUP_MAX or len(pattern) > PATTERN_MAX or _BAD.search(
                pattern + group):
            errors.setdefault("page_groups", t(
                "A product range has at most %(group)s characters and a path at most "
                "%(pattern)s.", group=GROUP_MAX, pattern=PATTERN_MAX))
        page_groups.append(PageGroupRule(group, pattern))
    if len(page_groups) > MAX_RULES:
        errors.setdefault("page_groups", t("At most %(n)s rules.", n=MAX_RULES))
    options["page_groups"] = page_groups
    out.options = options
    return out


def site_error(exc: SiteError, t: Translator) -> tuple[str, str]:
    """The form field a ``SiteError`` is about, and a message for people."""
    text = str(exc)
    prefixes = (
        ("name:", "name", t("Give the site a name (1 to 200 characters).")),
        ("domain:", "domain", t("This is not a host name: write it like example.com, "
                                "without https:// or a path.")),
        ("origin:", "origins", t("Write each origin like https://shop.example.com (a "
                                 "scheme and a host, an optional port, no path).")),
        ("timezone:", "timezone", t("Unknown time zone: choose one from the list, like "
                                    "Europe/Paris.")),
        ("ignore:", "ignored_networks", t("Write each network as an address or a CIDR, "
                                          "like 192.0.2.0/24.")),
        ("page group:", "page_groups", t("Each rule needs a path starting with / and a "
                                         "product range.")),
        ("identity mode:", "identity_mode", t("Choose cookie or cookieless.")),
        ("ip-mode:", "ip_mode", t("Choose truncated or hashed.")),
    )
    for prefix, name, message in prefixes:
        if text.startswith(prefix):
            return name, message
    return "name", text

"""The account page's vocabularies in words of the reader's language: categories,
roles, stages, sources, identification evidence (which source said what).

Evidence lines are written by the identifier, the overrides and the e-mail rule
(``networks/identifier.py``, ``networks/overrides.py``, ``identify.py``) as short
technical strings; each known form becomes one translated sentence, an unknown one is
shown as it is.
"""

from __future__ import annotations

import re

from markupsafe import Markup

from webleads.web.i18n import Translator


def category(t: Translator, value: str | None) -> str:
    labels = {
        "enterprise": t("company"), "education": t("education and research"),
        "government": t("public body"), "isp": t("Internet provider"),
        "mobile": t("mobile network"), "hosting": t("hosting or cloud"),
        "anonymizer": t("VPN or anonymiser"), "bot": t("bot"),
        "reserved": t("private or reserved address"), "unknown": t("unknown"),
    }
    return str(labels.get(value or "unknown", value or ""))


def role(t: Translator, value: str | None) -> str:
    labels = {
        "customer": t("customer"), "partner": t("partner"), "competitor": t("competitor"),
        "isp": t("Internet provider"), "office": t("our office"),
        "organisation": t("organisation"),
    }
    return str(labels.get(value or "", value or ""))


def stage(t: Translator, value: str | None) -> str:
    labels = {
        "anonymous": t("anonymous"), "engaged": t("engaged"), "mql": t("MQL"),
        "sql": t("SQL"), "opportunity": t("opportunity"), "customer": t("customer"),
        "disqualified": t("disqualified"), "lost": t("lost"),
    }
    return str(labels.get(value or "anonymous", value or ""))


_AUTO = re.compile(r"^score (?P<score>-?[\d.]+) >= (?P<limit>-?[\d.]+)$")


def stage_reason(t: Translator, reason: str) -> str:
    """Why a stage changed: the score's own reason in words, a person's as written."""
    found = _AUTO.match(reason)
    if found:
        return str(t("the score reached %(score)s (threshold %(limit)s)",
                     score=t.number(float(found["score"]), 1),
                     limit=t.number(float(found["limit"]))))
    return reason


def source(t: Translator, value: str | None) -> str:
    labels = {
        "search": t("search"), "social": t("social network"), "email": t("e-mail"),
        "paid": t("paid campaign"), "referral": t("link from a site"), "direct": t("direct"),
        "internal": t("internal"),
    }
    return str(labels.get(value or "direct", value or ""))


def confidence(t: Translator, value: float | None) -> str:
    if value is None:
        return str(t("unknown"))
    if value >= 0.9:
        return str(t("high (%(percent)s)", percent=t.percent(value)))
    if value >= 0.6:
        return str(t("medium (%(percent)s)", percent=t.percent(value)))
    return str(t("low (%(percent)s)", percent=t.percent(value)))


# -- evidence -----------------------------------------------------------------------------

_CURATED = re.compile(r"^curated: AS(?P<asn>\d+) (?P<name>.+) \((?P<cat>\w+)\)$")
_HEURISTIC = re.compile(r"^heuristic: (?P<reason>.+) \((?P<cat>\w+)\)$")
_OVERRIDE = re.compile(r"^override: (?P<target>\S+) (?P<role>\w+)(?: (?P<name>.+))?$")
_EMAIL = re.compile(r"^e-mail domain: (?P<domain>\S+)$")
_REGISTRY = re.compile(r"^(?P<src>[\w.-]+): assigned to (?P<name>.+) \((?P<reason>.+)\)$")
_ASN = re.compile(r"^(?P<src>[\w.-]+): AS(?P<asn>\d+)(?: (?P<name>.+))?$")
_RANGES = re.compile(r"^(?P<src>[\w.-]+): (?P<provider>.+) \((?P<kind>\w+)\)$")
_CONTAINS = re.compile(r"^name contains '(?P<word>.+)'$")
_SIZE = re.compile(r"^(?P<size>small|large) network \((?P<n>\d+) /24\)")


def _source(t: Translator, key: str) -> str:
    """A data source by its key: the shipped files by name, imports by format."""
    names = {"asn": t("the shipped ASN snapshot"), "ranges": t("the shipped published ranges"),
             "asn-file": t("your ASN database"), "asn-mmdb": t("your ASN database"),
             "country": t("the shipped country data")}
    return str(names.get(key, key))


def _reason(t: Translator, reason: str) -> str:
    found = _CONTAINS.match(reason)
    if found:
        return str(t("its name contains “%(word)s”", word=found["word"]))
    found = _SIZE.match(reason)
    if found and found["size"] == "small":
        return str(t("a small network (%(n)s blocks of 256 addresses) with a company name",
                     n=t.number(int(found["n"]))))
    if found:
        return str(t("a large network (%(n)s blocks of 256 addresses) whose name says "
                     "nothing", n=t.number(int(found["n"]))))
    return reason


def evidence(t: Translator, line: str) -> Markup:
    """One evidence line as a sentence: which source said what."""
    if m := _OVERRIDE.match(line):
        if m["name"]:
            return t("Your workspace's correction: network %(network)s is %(role)s "
                     "“%(name)s”.", network=m["target"], role=role(t, m["role"]),
                     name=m["name"])
        return t("Your workspace's correction: network %(network)s is %(role)s.",
                 network=m["target"], role=role(t, m["role"]))
    if m := _CURATED.match(line):
        return t("The project's reviewed table of networks: AS%(asn)s is %(name)s "
                 "(%(category)s).", asn=m["asn"], name=m["name"], category=category(t, m["cat"]))
    if m := _HEURISTIC.match(line):
        return t("A guess from the network's name and size (weak): %(reason)s, so "
                 "%(category)s.", reason=_reason(t, m["reason"]), category=category(t, m["cat"]))
    if m := _EMAIL.match(line):
        return t("A contact's e-mail address is on the domain %(domain)s: the e-mail "
                 "names the organisation, whatever the network.", domain=m["domain"])
    if m := _REGISTRY.match(line):
        return t("Registry data (%(source)s): the address block is assigned to %(name)s "
                 "(%(reason)s).", source=_source(t, m["src"]), name=m["name"].strip("'\""),
                 reason=_reason(t, m["reason"]))
    if m := _ASN.match(line):
        if m["name"]:
            return t("Network data (%(source)s): the address is in AS%(asn)s, registered as "
                     "“%(name)s”.", source=_source(t, m["src"]), asn=m["asn"], name=m["name"])
        return t("Network data (%(source)s): the address is in AS%(asn)s.",
                 source=_source(t, m["src"]),
                 asn=m["asn"])
    if m := _RANGES.match(line):
        return t("Published address ranges (%(source)s): %(provider)s, %(kind)s.",
                 source=_source(t, m["src"]), provider=m["provider"], kind=category(t, m["kind"]))
    if line == "no source knows this address":
        return t("No data source knows this address.")
    if line.startswith("reserved:"):
        return t("A private, local or reserved address.")
    if line in ("ranges", "asn-mmdb"):
        return t("Network data (%(source)s).", source=_source(t, line))
    return Markup.escape(line)

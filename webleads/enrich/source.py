"""``put_source``: where a hit came from (class, name, UTM tags, ad click id).

A hit step.  It reads the page URL's query string and the referrer, and fills
``source_class``, ``source_name``, ``utm_*``, ``click_id_kind`` and ``click_id``.

Fields read from the page URL's query string (first occurrence of a key wins;
keys are matched case-insensitively; values are decoded, trimmed and cut to 200
characters; ``utm_source`` and ``utm_medium`` are lower-cased, the other tags
keep their case; an empty value counts as absent):

* ``utm_source``, ``utm_medium``, ``utm_campaign``, ``utm_term``, ``utm_content``;
* the first click id present, in this order: ``gclid``, ``gbraid``, ``wbraid``
  (Google Ads), ``msclkid`` (Microsoft Ads), ``li_fat_id`` (LinkedIn Ads),
  ``fbclid`` (Meta).

The class is decided by the first rule that applies:

1. an ad click id (every kind but ``fbclid``) -> ``paid``;
2. a recognised ``utm_medium`` -> its class: ``cpc``, ``ppc``, ``cpm``,
   ``display``, ``paid*``... -> ``paid``; ``email``, ``newsletter``... ->
   ``email``; ``social``... -> ``social``; ``organic``/``seo`` -> ``search``;
   ``referral``, ``affiliate``, ``partner`` -> ``referral``; ``none`` -> ``direct``;
3. an external referrer -> the class of its host: webmail -> ``email``, search
   engine -> ``search``, social network -> ``social``, anything else ->
   ``referral``;
4. an ``fbclid`` -> ``social`` (Meta adds it to every outbound link, organic
   posts included, so it does not mean paid: a deliberate departure from "any
   click id is paid");
5. any other ``utm_*`` tag (unknown medium, or a source/campaign without medium)
   -> ``referral``: someone placed a tagged link somewhere, it was not typed in;
6. a referrer on the site itself -> ``internal`` (navigation inside the site,
   not a new source); "the site itself" is the page URL's host or the site's
   domain, compared without a leading ``www.``;
7. otherwise -> ``direct``.

Campaign tags beat an internal referrer on purpose (rules 1-5 before 6): a
tagged internal link is the site owner's explicit choice.

``source_name`` is ``utm_source`` when present, otherwise the name the click id,
the referrer host table or the webmail rule gives (``google``, ``bing``,
``linkedin``, ``gmail``...), otherwise the referrer host without ``www.``;
None for ``direct`` and ``internal``.

Referrers count only with an ``http``, ``https`` or ``android-app`` scheme
(Android apps send ``android-app://<package>``; the table knows the common
ones).  Malformed input (garbage, bad IPv6 brackets, huge strings, hosts longer
than DNS allows) never raises: what cannot be parsed is treated as absent.  Only
the first 8192 characters of the URL and referrer are read.  The host table
lookup is cached per factory (hosts repeat far more than URLs do).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

import msgspec

from webleads.model import Drop, Hit, SourceClass

__all__ = ["make_put_source"]

MAX_URL_CHARS = 8192
MAX_VALUE_CHARS = 200
MAX_HOST_CHARS = 253

_UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# Click id kind -> the network it names; in priority order.
_CLICK_IDS: dict[str, str] = {
    "gclid": "google", "gbraid": "google", "wbraid": "google",
    "msclkid": "bing", "li_fat_id": "linkedin", "fbclid": "facebook",
}
_WANTED = frozenset(_UTM_KEYS) | frozenset(_CLICK_IDS)
_REFERRER_SCHEMES = frozenset({"http", "https", "android-app"})

_MEDIUMS: dict[str, SourceClass] = {
    **dict.fromkeys(
        ("cpc", "ppc", "cpm", "cpv", "cpa", "cpp", "display", "banner", "retargeting",
         "remarketing", "sea", "ads", "ad", "sponsored"), "paid"),
    **dict.fromkeys(
        ("email", "e-mail", "e_mail", "mail", "newsletter", "emailing", "e-mailing",
         "mailing"), "email"),
    **dict.fromkeys(
        ("social", "social-network", "social_network", "social-media", "social_media",
         "sm", "organic_social", "organic-social"), "social"),
    **dict.fromkeys(("organic", "organic_search", "organic-search", "seo"), "search"),
    **dict.fromkeys(
        ("referral", "referrer", "affiliate", "affiliates", "partner", "partners", "link"),
        "referral"),
    **dict.fromkeys(("none", "(none)", "direct"), "direct"),
}

# Host (or a parent domain of it, label by label) -> class and name.
_HOSTS: dict[str, tuple[SourceClass, str]] = {
    **dict.fromkeys(("mail.google.com", "com.google.android.gm"), ("email", "gmail")),
    **dict.fromkeys(
        ("outlook.live.com", "outlook.office.com", "outlook.office365.com",
         "outlook.cloud.microsoft", "com.microsoft.office.outlook"), ("email", "outlook")),
    **dict.fromkeys(("mail.yahoo.com", "mail.yahoo.co.jp"), ("email", "yahoo mail")),
    **dict.fromkeys(("mail.proton.me", "mail.protonmail.com"), ("email", "proton mail")),
    "mail.aol.com": ("email", "aol mail"),
    **dict.fromkeys(("mail.zoho.com", "mail.zoho.eu"), ("email", "zoho mail")),
    "e.mail.ru": ("email", "mail.ru"),
    **dict.fromkeys(("mail.yandex.ru", "mail.yandex.com"), ("email", "yandex mail")),
    "com.google.android.googlequicksearchbox": ("search", "google"),
    "bing.com": ("search", "bing"),
    "duckduckgo.com": ("search", "duckduckgo"),
    "qwant.com": ("search", "qwant"),
    "ecosia.org": ("search", "ecosia"),
    **dict.fromkeys(("yahoo.com", "yahoo.co.jp"), ("search", "yahoo")),
    "ya.ru": ("search", "yandex"),
    "baidu.com": ("search", "baidu"),
    **dict.fromkeys(("startpage.com", "startpage.nl"), ("search", "startpage")),
    "search.brave.com": ("search", "brave"),
    "search.naver.com": ("search", "naver"),
    "seznam.cz": ("search", "seznam"),
    "search.aol.com": ("search", "aol"),
    "ask.com": ("search", "ask"),
    "kagi.com": ("search", "kagi"),
    "mojeek.com": ("search", "mojeek"),
    "swisscows.com": ("search", "swisscows"),
    "search.lilo.org": ("search", "lilo"),
    **dict.fromkeys(("metager.org", "metager.de"), ("search", "metager")),
    "sogou.com": ("search", "sogou"),
    **dict.fromkeys(("linkedin.com", "lnkd.in", "com.linkedin.android"), ("social", "linkedin")),
    **dict.fromkeys(
        ("facebook.com", "fb.com", "fb.me", "messenger.com", "com.facebook.katana",
         "com.facebook.orca"), ("social", "facebook")),
    **dict.fromkeys(("t.co", "twitter.com", "x.com", "com.twitter.android"), ("social", "twitter")),
    **dict.fromkeys(("instagram.com", "com.instagram.android"), ("social", "instagram")),
    **dict.fromkeys(("youtube.com", "youtu.be", "com.google.android.youtube"),
                    ("social", "youtube")),
    **dict.fromkeys(("reddit.com", "com.reddit.frontpage"), ("social", "reddit")),
    "xing.com": ("social", "xing"),
    "viadeo.com": ("social", "viadeo"),
    "pin.it": ("social", "pinterest"),
    "tiktok.com": ("social", "tiktok"),
    "threads.net": ("social", "threads"),
    "bsky.app": ("social", "bluesky"),
    "news.ycombinator.com": ("social", "hacker news"),
    "quora.com": ("social", "quora"),
    "medium.com": ("social", "medium"),
    "tumblr.com": ("social", "tumblr"),
    "vk.com": ("social", "vk"),
    **dict.fromkeys(("whatsapp.com", "wa.me"), ("social", "whatsapp")),
    **dict.fromkeys(("t.me", "telegram.org"), ("social", "telegram")),
}

# Brands present under many country domains (google.fr, google.co.uk, google.com.br).
_BRANDS: tuple[tuple[re.Pattern[str], SourceClass, str], ...] = (
    (re.compile(r"(?:(?:m|images|news|scholar)\.)?google\.(?:com?\.)?[a-z]{2,3}"),
     "search", "google"),
    (re.compile(r"yandex\.(?:com?\.)?[a-z]{2,3}"), "search", "yandex"),
    (re.compile(r"(?:[a-z]{2}\.)?pinterest\.(?:com?\.)?[a-z]{2,3}"), "social", "pinterest"),
)
# First labels of webmail hosts (mail.example.com, webmail.example.net...).
_WEBMAIL_LABELS = frozenset({"mail", "webmail", "email", "messagerie"})


def _normalise_host(host: str | None) -> str | None:
    """Lower-case (done by urlsplit), no trailing dot, no leading ``www.``.

    A host longer than DNS allows (253 characters) is garbage: None.
    """
    if not host or len(host) > MAX_HOST_CHARS:
        return None
    host = host.rstrip(".").removeprefix("www.")
    return host or None


def _split(url: str, schemes: frozenset[str] | None = None) -> tuple[str | None, str]:
    """Return (normalised host, query string) of ``url``; (None, "") if unparsable."""
    if not url:
        return None, ""
    try:
        parts = urlsplit(url[:MAX_URL_CHARS].strip())
        host = parts.hostname
    except ValueError:
        return None, ""
    if schemes is not None and parts.scheme.lower() not in schemes:
        host = None
    return _normalise_host(host), parts.query


_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def _query_fields(query: str) -> dict[str, str]:
    """The UTM tags and click ids of a query string, decoded, trimmed and capped."""
    found: dict[str, str] = {}
    if "=" not in query:
        return found
    try:
        pairs = parse_qsl(query)
    except ValueError:
        return found
    for key, value in pairs:
        name = key.strip().lower()
        if name in _WANTED and name not in found:
            # Decoded values may hold control characters (%00): never storable as text.
            value = _CONTROL.sub("", value).strip()[:MAX_VALUE_CHARS].strip()
            if value:
                found[name] = value
    return found


def _classify_host(host: str) -> tuple[SourceClass, str]:
    """Class and name of an external referrer host (normalised)."""
    suffix = host
    while True:
        known = _HOSTS.get(suffix)
        if known is not None:
            return known
        dot = suffix.find(".")
        if dot < 0:
            break
        suffix = suffix[dot + 1:]
    for pattern, source_class, name in _BRANDS:
        if pattern.fullmatch(host):
            return source_class, name
    labels = host.split(".")
    if len(labels) >= 3 and labels[0] in _WEBMAIL_LABELS:
        return "email", host
    return "referral", host


SourceFields = tuple[SourceClass, "str | None", "str | None", "str | None", "str | None",
                     "str | None", "str | None", "str | None", "str | None"]


def make_put_source(cache_size: int = 4096) -> Callable[[Hit], Hit | Drop]:
    """Build the ``put_source`` hit step.

    The verdict for a (page URL, referrer, site domain) triple is cached: pages and
    referrers repeat, and parsing them costs several microseconds per hit.
    """
    classify_host = lru_cache(maxsize=cache_size)(_classify_host)

    @lru_cache(maxsize=cache_size)
    def source_of(url: str, referrer_url: str, domain: str) -> SourceFields:
        page_host, query = _split(url)
        referrer_host, _ = _split(referrer_url, _REFERRER_SCHEMES)
        fields = _query_fields(query)
        utm_source = fields.get("utm_source", "").lower()[:MAX_VALUE_CHARS] or None
        utm_medium = fields.get("utm_medium", "").lower()[:MAX_VALUE_CHARS] or None
        click_kind = next((kind for kind in _CLICK_IDS if kind in fields), None)

        referrer: tuple[SourceClass, str] | None = None
        internal = False
        if referrer_host is not None:
            site_host = _normalise_host(domain.lower())
            internal = referrer_host in (page_host, site_host)
            if not internal:
                referrer = classify_host(referrer_host)

        source_class: SourceClass
        name: str | None
        medium_class = _MEDIUMS.get(utm_medium or "") or (
            "paid" if utm_medium and utm_medium.startswith("paid") else None
        )
        if click_kind is not None and click_kind != "fbclid":
            source_class, name = "paid", utm_source or _CLICK_IDS[click_kind]
        elif medium_class is not None:
            source_class = medium_class
            name = utm_source or (referrer[1] if referrer else None)
        elif referrer is not None:
            source_class, name = referrer[0], utm_source or referrer[1]
        elif click_kind == "fbclid":
            source_class, name = "social", utm_source or "facebook"
        elif any(key in fields for key in _UTM_KEYS):
            source_class, name = "referral", utm_source
        elif internal:
            source_class, name = "internal", None
        else:
            source_class, name = "direct", None

        return (source_class, name, utm_source, utm_medium, fields.get("utm_campaign"),
                fields.get("utm_term"), fields.get("utm_content"), click_kind,
                fields.get(click_kind) if click_kind else None)

    def put_source(hit: Hit) -> Hit | Drop:
        """Fill source class and name, UTM tags and click id of the hit."""
        (source_class, name, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
         click_kind, click_id) = source_of(hit.url, hit.referrer, hit.client.site.domain)
        return msgspec.structs.replace(
            hit,
            source_class=source_class,
            source_name=name,
            utm_source=utm_source,
            utm_medium=utm_medium,
            utm_campaign=utm_campaign,
            utm_term=utm_term,
            utm_content=utm_content,
            click_id_kind=click_kind,
            click_id=click_id,
        )

    return put_source

"""``put_page_group``: which product range a page belongs to, from the site's rules.

A hit step.  Each site has an ordered tuple of ``PageGroupRule(group, pattern)``;
the first rule whose pattern matches the page's path gives ``Hit.page_group``,
and no match gives None.  Scoring and the dashboard use the group to tell what a
visiting company is interested in ("CRM", "Pricing"...).

Pattern language (a path glob):

* ``*`` matches any run of characters inside one path segment (never ``/``):
  ``/pricing*`` matches ``/pricing`` and ``/pricing-teams``, not ``/pricing/faq``;
  ``/blog/*`` matches ``/blog/launch`` but not ``/blog`` nor ``/blog/a/b``;
* ``**`` matches across segments: ``/docs/**`` matches ``/docs`` itself and
  everything below it; ``/crm/**/setup`` matches ``/crm/setup`` and
  ``/crm/eu/v2/setup`` (a ``/**/`` may stand for zero segments); any other
  ``**`` is "any characters" (``/cases**`` matches ``/cases/a/b``);
* anything else is literal (``?``, ``.``, ``[`` included): a pattern without a
  wildcard matches that exact path;
* trailing slashes are ignored on both sides (``/about/`` == ``/about``), a
  missing leading ``/`` is added, and a blank pattern never matches;
* a hit without URL (or with one that cannot be parsed) gets no group;
* matching is case-insensitive and sees the path only: scheme, host, query and
  fragment are ignored; the path is percent-decoded first (so ``/café`` matches
  ``/caf%C3%A9``), and so is the pattern.

Each distinct rule tuple is compiled once (``lru_cache`` keyed by the tuple) into
one regex, an ordered alternation with one capturing group per rule: regex
alternation tries alternatives left to right, which is exactly "first rule
wins", and one regex call is faster than one per rule.  Only the first 2048
characters of the URL are looked at, which also bounds the cost of patterns
with several ``**``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import unquote, urlsplit

import msgspec

from webleads.model import Drop, Hit, PageGroupRule

__all__ = ["make_put_page_group"]

MAX_URL_CHARS = 2048

# Wildcard tokens, longest first: "/**/" may stand for zero segments, a final
# "/**" also matches the bare prefix.
_TOKENS = re.compile(r"(/\*\*/|/\*\*$|\*\*|\*)")
_TRANSLATIONS = {"/**/": "/(?:.*/)?", "/**": "(?:/.*)?", "**": ".*", "*": "[^/]*"}

# The compiled rules of one site: an alternation (None when no rule is usable)
# and the group of each capturing group, in rule order.
Matcher = tuple[re.Pattern[str] | None, tuple[str, ...]]


def _normalise_path(path: str) -> str:
    """Percent-decoded, without trailing slash, with a leading one (root is ``/``)."""
    path = unquote(path).rstrip("/")
    return path if path.startswith("/") else "/" + path


def _glob_to_regex(pattern: str) -> str:
    """Translate one path glob (see the module docstring) into a regex body."""
    parts = []
    for token in _TOKENS.split(_normalise_path(pattern.strip())):
        parts.append(_TRANSLATIONS.get(token) or re.escape(token))
    return "".join(parts)


def _compile(rules: tuple[PageGroupRule, ...]) -> Matcher:
    """Compile a site's rules, in order, into one case-insensitive alternation."""
    usable = [rule for rule in rules if rule.pattern.strip()]
    if not usable:
        return None, ()
    body = "|".join(f"({_glob_to_regex(rule.pattern)})" for rule in usable)
    return re.compile(body, re.IGNORECASE), tuple(rule.group for rule in usable)


def _path(url: str) -> str | None:
    """The normalised path of a page URL; None when there is none or it is unparsable."""
    if not url.strip():
        return None
    try:
        return _normalise_path(urlsplit(url[:MAX_URL_CHARS].strip()).path)
    except ValueError:
        return None


def make_put_page_group(cache_size: int = 1024) -> Callable[[Hit], Hit | Drop]:
    """Build the ``put_page_group`` hit step, with a cache of compiled rule sets.

    ``cache_size`` bounds how many distinct rule tuples (about one per site) stay
    compiled.
    """
    compiled = lru_cache(maxsize=cache_size)(_compile)

    @lru_cache(maxsize=8192)
    def group_of(rules: tuple[PageGroupRule, ...], url: str) -> str | None:
        matcher, groups = compiled(rules)
        path = _path(url)
        if matcher is not None and path is not None:
            match = matcher.fullmatch(path)
            if match is not None and match.lastindex is not None:
                return groups[match.lastindex - 1]
        return None

    def put_page_group(hit: Hit) -> Hit | Drop:
        """Set ``page_group`` from the first of the site's rules matching the path."""
        rules = hit.client.site.page_groups
        group = group_of(rules, hit.url) if rules else None
        if group == hit.page_group:
            return hit
        return msgspec.structs.replace(hit, page_group=group)

    return put_page_group

"""Last-resort guesses from an AS name and size, for ASNs the curated table lacks.

Keyword rules come first (an AS called "... University" is education), then one
structural rule: a small network (at most 64 IPv4 /24 blocks) whose name says nothing
about telecoms or hosting is probably a company running its own network.  Everything
here is a guess, and its confidence says so (0.35-0.6, below any curated fact).
"""

from __future__ import annotations

import re
from functools import lru_cache

from anyascii import anyascii

from webleads.model import NetworkCategory

# (category, confidence, pattern) in order: the first match wins.
_PATTERNS: tuple[tuple[NetworkCategory, float, str], ...] = (
        ("education", 0.6,
         r"\b(univ\w*|universi\w*|college|school|ecole|hochschule|fachhochschule|academ\w*|"
         r"campus|research|recherche|educat\w*|enseignement|schule|politecnico|polytechn\w*|"
         r"institute of technology|lycee|gymnasium|nren)\b"),
        ("government", 0.55,
         r"\b(ministr\w*|minister\w*|government|gouvernement|gouv|bundes\w*|federal|parliament|"
         r"parlement|senat|senate|prefecture|mairie|ville de|city of|county of|county council|"
         r"municipal\w*|conseil (departemental|regional|general)|state of|police|gendarmerie|"
         r"armee|army|navy|air force|department of|landesamt|stadt|kanton|canton de|comune di|"
         r"ayuntamiento|gemeente|provincie)\b"),
        ("anonymizer", 0.5, r"\b(vpn|proxy|proxies|tor|anonym\w*)\b"),
        ("hosting", 0.5,
         r"\b(hosting|hoster|host|cloud|server|servers|datacent\w*|data cent\w*|colo|"
         r"colocation|vps|dedicated|cdn|web services|compute)\b"),
        ("mobile", 0.5, r"\b(mobile|mobil|wireless|cellular|gsm|lte)\b"),
        ("isp", 0.45,
         r"\b(tele[ck]om\w*|telecomunica\w*|telefonica|broadband|cable|kabel|fibre|fiber|fibra|"
         r"glasfaser|dsl|internet service\w*|isp|communications|telco|wifi|wisp|internet)\b"),
)
RULES: tuple[tuple[NetworkCategory, float, re.Pattern[str]], ...] = tuple(
    (category, confidence, re.compile(pattern)) for category, confidence, pattern in _PATTERNS
)

SMALL_NETWORK_BLOCKS = 64  # IPv4 /24 blocks: 16,384 addresses


@lru_cache(maxsize=65536)
def classify(as_org: str, blocks: int) -> tuple[NetworkCategory, float, str]:
    """``(category, confidence, reason)`` for an AS name and its IPv4 size in /24 blocks."""
    name = anyascii(as_org).lower()
    for category, confidence, pattern in RULES:
        found = pattern.search(name)
        if found:
            return category, confidence, f"name contains {found.group(0)!r}"
    if 0 < blocks <= SMALL_NETWORK_BLOCKS:
        confidence = 0.55 if blocks <= 16 else 0.5
        return "enterprise", confidence, f"small network ({blocks} /24) with a company name"
    return "unknown", 0.2, f"large network ({blocks} /24) with no telling name"

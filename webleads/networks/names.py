"""Organisation names: one key for the same company whatever the source spelled.

``org_key("Société Générale S.A.") == org_key("SOCIETE GENERALE") == "societe generale"``:
transliterated to ASCII (``anyascii``), legal forms removed (``cleanco``, which knows
the forms of most countries: SA, SAS, GmbH, AG, Ltd, Inc, S.p.A., B.V. ...), case and
punctuation folded.  ``display_name`` makes an AS registry name readable
("AIRBUS DEFENCE AND SPACE GMBH" -> "Airbus Defence And Space GmbH").
"""

from __future__ import annotations

import re
from functools import lru_cache

from anyascii import anyascii
from cleanco import basename

_NOT_WORD = re.compile(r"[^a-z0-9]+")
# Words that say nothing about which company it is, removed after the legal form.
_FILLER = frozenset({"the", "group", "groupe", "gruppe", "grupo", "gruppo", "holding"})
# Legal forms and acronyms kept in capitals by display_name.
_UPPER = frozenset({
    "sa", "sas", "sasu", "sarl", "se", "ag", "nv", "bv", "plc", "llc", "spa", "gie", "edf",
    "bnp", "it", "ibm", "sncf", "ratp", "cnrs", "inria", "ovh", "usa", "uk", "eu",
})
# Short words that are not acronyms ("SAP", "LCL", "AXA" stay in capitals).
_SMALL_WORDS = frozenset({
    "and", "the", "of", "for", "de", "la", "le", "les", "des", "du", "et", "en", "und",
    "der", "die", "das", "von", "van", "den", "del", "di", "y", "e", "a", "au", "aux",
})
_MIXED = {"gmbh": "GmbH", "kgaa": "KGaA", "ltd": "Ltd", "inc": "Inc"}


@lru_cache(maxsize=65536)
def org_key(name: str) -> str:
    """The comparison key of an organisation name ("" when nothing is left)."""
    # Apostrophes join (L'Oréal = LOREAL); other punctuation separates words.
    ascii_name = anyascii(name).replace("'", "").strip()
    base = basename(ascii_name) or ascii_name
    words = [w for w in _NOT_WORD.split(base.lower()) if w]
    kept = [w for w in words if w not in _FILLER] or words
    return " ".join(kept)[:200]


@lru_cache(maxsize=65536)
def display_name(name: str) -> str:
    """A registry name made readable; names already in mixed case are kept as they are."""
    name = " ".join(name.split())
    if not name or not name.isupper():
        return name
    words = []
    for word in name.split(" "):
        bare = word.lower().strip(".,()")
        if bare in _MIXED:
            words.append(word.lower().replace(bare, _MIXED[bare]))
        elif bare in _UPPER or (len(bare) <= 3 and bare not in _SMALL_WORDS):
            words.append(word)
        else:
            words.append(word.capitalize())
    return " ".join(words)

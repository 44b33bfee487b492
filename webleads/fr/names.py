"""Company names and domains in a comparable form.

``name_key("Société Générale S.A.") == name_key("SOCIETE GENERALE") == "societe generale"``:
case and accents folded, punctuation gone, dotted acronyms joined ("S.A.S." -> "sas"),
apostrophes joined ("L'ORÉAL" -> "loreal"), and legal forms ("SA", "SAS", "société
anonyme", "GmbH" ...) and the word "groupe" removed from either end of the name.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Legal forms and group words removed at either end of a name.  Multi-word forms are
# written as they look after folding (accents and punctuation gone).
LEGAL_FORMS: tuple[str, ...] = (
    # French
    "sa", "sas", "sasu", "sarl", "sarlu", "eurl", "se", "sca", "scs", "snc", "gie", "sci",
    "scop", "scp", "scea", "earl", "gaec", "selarl", "selas", "selafa", "selca",
    "sa a directoire", "sa a conseil d administration",
    "societe anonyme", "societe par actions simplifiee",
    "societe par actions simplifiee unipersonnelle",
    "societe a responsabilite limitee", "entreprise unipersonnelle a responsabilite limitee",
    "societe en nom collectif", "societe en commandite par actions",
    "societe en commandite simple", "societe civile immobiliere", "societe europeenne",
    "groupement d interet economique", "societe cooperative",
    # Elsewhere (names of networks and web sites are often in English)
    "inc", "incorporated", "ltd", "limited", "llc", "llp", "plc", "corp", "corporation",
    "co", "company", "gmbh", "ag", "bv", "nv", "spa", "srl", "ab", "sprl", "bvba",
    # Group words
    "groupe", "group", "holding", "the",
)

_FORMS = sorted((tuple(form.split()) for form in LEGAL_FORMS), key=len, reverse=True)
_DOTTED = re.compile(r"\b(?:[a-z]\.){2,}(?=\W|$)")
_APOSTROPHES = re.compile(r"['’`´]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")

# Second-level suffixes under which the registrable label is one level further left.
_SECOND_LEVEL = frozenset({
    "co.uk", "org.uk", "ac.uk", "gov.uk", "com.fr", "asso.fr", "gouv.fr", "nom.fr",
    "tm.fr", "presse.fr", "com.au", "co.jp", "com.br", "co.nz", "co.za", "com.es", "com.be",
})
_GENERIC_LABELS = frozenset({"www", "mail", "webmail", "web", "fr", "en", "home", "m"})


def fold(text: str) -> str:
    """Lower case ASCII: accents removed, œ/æ spelled out."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """The normalised form of a company name (empty when nothing is left)."""
    text = fold(name).replace("&", " et ")
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)
    text = _APOSTROPHES.sub("", text)
    words = _NOT_WORD.sub(" ", text).split()
    stripped = _strip_forms(words)
    return " ".join(stripped or words)


def _strip_forms(words: list[str]) -> list[str]:
    changed = True
    while words and changed:
        changed = False
        for form in _FORMS:
            n = len(form)
            if len(words) > n and tuple(words[-n:]) == form:
                words = words[:-n]
                changed = True
                break
            if len(words) > n and tuple(words[:n]) == form:
                words = words[n:]
                changed = True
                break
    return words


def compact(key: str) -> str:
    """A name key without its spaces: compared with domain labels."""
    return key.replace(" ", "")


def first_token(key: str) -> str:
    return key.split(" ", 1)[0][:100]


def domain_label(domain: str | None) -> str | None:
    """The registrable label of a domain: ``www.societegenerale.fr`` -> ``societegenerale``,
    ``groupe-renault.co.uk`` -> ``groupe renault`` (hyphens become spaces)."""
    if not domain:
        return None
    host = domain.strip().lower().rstrip(".")
    if "://" in host:
        host = host.split("://", 1)[1]
    host = host.split("/", 1)[0].split(":", 1)[0]
    labels = [part for part in host.split(".") if part]
    if len(labels) < 2:
        return None
    if ".".join(labels[-2:]) in _SECOND_LEVEL and len(labels) >= 3:
        label = labels[-3]
    else:
        label = labels[-2]
    if label in _GENERIC_LABELS:
        return None
    return name_key(label.replace("-", " ").replace("_", " ")) or None

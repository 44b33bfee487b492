"""Labels of activity codes (NAF rév. 2, NAF 2025) and of INSEE headcount bands.

Sources and licences: ``data/README.md``.  A code whose label is not shipped is shown
alone: labels are never made up.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, cast

from webleads.i18n import language

DATA = Path(__file__).with_name("data")

Level = Literal["section", "division", "group", "class", "subclass"]

NAF_REV2 = "NAFRev2"
NAF_2025 = "NAF2025"
# Values of nomenclatureActivitePrincipaleUniteLegale in the SIRENE stock.
NOMENCLATURES = frozenset({NAF_REV2, NAF_2025, "NAFRev1", "NAF1993", "NAP"})
SUBCLASS = re.compile(r"^\d\d\.\d\d[A-Z]$")

# INSEE's headcount bands (tranche d'effectif salarié), smallest first.  NN: the unit
# employs nobody (or did not say); 00: it employed people during the year, none at its end.
HEADCOUNT_BANDS: dict[str, tuple[int, int | None]] = {
    "NN": (0, 0), "00": (0, 0), "01": (1, 2), "02": (3, 5), "03": (6, 9), "11": (10, 19),
    "12": (20, 49), "21": (50, 99), "22": (100, 199), "31": (200, 249), "32": (250, 499),
    "41": (500, 999), "42": (1000, 1999), "51": (2000, 4999), "52": (5000, 9999),
    "53": (10000, None),
}
BAND_ORDER: dict[str, int] = {code: i for i, code in enumerate(HEADCOUNT_BANDS)}
CATEGORIES = frozenset({"PME", "ETI", "GE"})


@dataclass(frozen=True, slots=True)
class NafEntry:
    code: str
    level: Level
    parent: str
    label_fr: str | None
    label_en: str | None


@lru_cache(maxsize=2)
def table(version: str) -> dict[str, NafEntry]:
    """Every shipped code of ``version`` (NAFRev2, NAF2025); empty for the others."""
    if version == NAF_REV2:
        return _read("naf_rev2.csv", french=True)
    if version == NAF_2025:
        return _read("nace_rev2_1_en.csv", french=False)
    return {}


def _read(name: str, *, french: bool) -> dict[str, NafEntry]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return {row["code"]: NafEntry(
            row["code"], cast(Level, row["level"]), row["parent"],
            (row["label_fr"] or None) if french else None, row["label_en"] or None,
        ) for row in csv.DictReader(f)}


def label(code: str | None, version: str | None = NAF_REV2, lang: str = "fr") -> str | None:
    """The label of exactly ``code`` in ``lang`` (fr, en, or a locale such as fr_FR.UTF-8);
    French when no English label is shipped; None when the code has no shipped label."""
    if not code or not version:
        return None
    entry = table(version).get(code)
    if entry is None:
        return None
    if language(lang) == "en":
        return entry.label_en or entry.label_fr
    return entry.label_fr


def class_label(code: str | None, version: str | None, lang: str = "fr") -> str | None:
    """The label of the class (``62.01``) that contains a sous-classe (``62.01Z``)."""
    if not code or not SUBCLASS.match(code):
        return None
    return label(code[:5], version, lang)


def section(code: str | None, version: str | None = NAF_REV2) -> str | None:
    """The section letter of a code, when its division is known."""
    if not code or not version:
        return None
    entry = table(version).get(code[:2])
    if entry is None or entry.level != "division":
        return None
    return entry.parent or None


def describe(code: str | None, version: str | None, lang: str = "fr") -> str:
    """What to show for an activity code: ``62.01Z Programmation informatique``, the code
    alone when its label is not shipped, or (NAF 2025 in English) the code and the
    label of its NACE class, named as such."""
    if not code:
        return ""
    exact = label(code, version, lang)
    if exact:
        return f"{code} {exact}"
    wider = class_label(code, version, lang)
    if wider:
        word = "classe" if language(lang) == "fr" else "class"
        return f"{code} ({word} {code[:5]}: {wider})"
    return code


def band_at_least(band: str | None, minimum: str) -> bool:
    """Whether a headcount band is ``minimum`` or larger; an unknown band is not."""
    if band is None or band not in BAND_ORDER:
        return False
    return BAND_ORDER[band] >= BAND_ORDER[minimum]


def band_rank(band: str | None) -> int:
    """Order of a band for tie-breaks: unknown first, then NN, 00, 01 ... 53."""
    return -1 if band is None else BAND_ORDER.get(band, -1)


def band_text(band: str | None, lang: str = "fr") -> str:
    """``12`` -> ``20–49``; ``NN`` -> ``0 (non-employer)`` / ``0 (non employeur)``."""
    if band is None or band not in HEADCOUNT_BANDS:
        return band or ""
    lang = language(lang)
    low, high = HEADCOUNT_BANDS[band]
    if band == "NN":
        return "0 (non employeur)" if lang == "fr" else "0 (non-employer)"
    if high is None:
        return f"{low:,}+".replace(",", "\u202f" if lang == "fr" else ",")
    if low == high:
        return str(low)
    sep = "\u202f" if lang == "fr" else ","
    return f"{low:,}–{high:,}".replace(",", sep)

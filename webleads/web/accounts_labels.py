"""What the accounts feed shows for stored codes, in the reader's language: stages,
sources, categories, roles (in the words of the account page, ``account_words``), heat,
sectors (NAF labels) and sizes.  Shared by the page and its exports."""

from __future__ import annotations

from webleads.db.feed import NO_ROLE
from webleads.fr import naf
from webleads.web import account_words as words
from webleads.web.accounts_query import SIZES, sections
from webleads.web.i18n import Translator


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# Stages, sources, categories and roles in the account page's words (one vocabulary).
def stage(t: Translator, code: str | None) -> str:
    return _cap(words.stage(t, code))


def source(t: Translator, code: str | None) -> str:
    return _cap(words.source(t, code)) if code else ""


def category(t: Translator, code: str | None) -> str:
    return _cap(words.category(t, code))


def role(t: Translator, code: str | None) -> str:
    if code == NO_ROLE:
        return str(t("None (prospects)"))
    return _cap(words.role(t, code))


def heat(t: Translator, code: str) -> str:
    names = {"hot": t("hot"), "warm": t("warm"), "cold": t("cold")}
    return _cap(str(names.get(code, code)))


def sector(t: Translator, code: str | None, version: str | None) -> str:
    """The activity's label in the reader's language (the code when none is shipped)."""
    if not code:
        return ""
    return naf.label(code, version or naf.NAF_REV2, t.lang) or naf.describe(
        code, version or naf.NAF_REV2, t.lang)


def section(t: Translator, letter: str) -> str:
    found = naf.label(letter, naf.NAF_REV2, t.lang) or letter
    return f"{letter} · {found.capitalize()}"


def section_choices(t: Translator) -> list[tuple[str, str]]:
    return [(letter, section(t, letter)) for letter in sections()]


def size(t: Translator, band: str | None) -> str:
    return naf.band_text(band, t.lang) if band else ""


def size_choices(t: Translator) -> list[tuple[str, str]]:
    out = []
    for key in SIZES:
        if key == "0":
            label = str(t("No employees"))
        elif key.endswith("+"):
            label = str(t("%(n)s or more", n=t.number(int(key[:-1]))))
        else:
            low, high = key.split("-")
            label = f"{t.number(int(low))}–{t.number(int(high))}"
        out.append((key, label))
    return out

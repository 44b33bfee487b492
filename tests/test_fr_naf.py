"""NAF labels shipped with the package, headcount bands, and the messages of ``webleads fr``."""

from __future__ import annotations

from collections import Counter

import pytest

from webleads.fr import naf
from webleads.fr.messages import MESSAGES, t
from webleads.fr.stockfile import ErrorReason


def test_naf_rev2_has_every_level_of_the_nomenclature() -> None:
    levels = Counter(e.level for e in naf.table(naf.NAF_REV2).values())
    assert levels == {"section": 21, "division": 88, "group": 272, "class": 615,
                      "subclass": 732}
    assert all(e.label_fr for e in naf.table(naf.NAF_REV2).values())


def test_naf_rev2_parents_exist() -> None:
    table = naf.table(naf.NAF_REV2)
    for entry in table.values():
        if entry.level == "section":
            assert entry.parent == ""
        else:
            assert table[entry.parent].level != entry.level


def test_english_labels_only_where_the_scope_is_the_same() -> None:
    table = naf.table(naf.NAF_REV2)
    for entry in table.values():
        if entry.level != "subclass" or entry.code.endswith("Z"):
            assert entry.label_en, entry.code
        else:  # a sous-classe that splits a NACE class has no English label of its own
            assert entry.label_en is None, entry.code


def test_nace_rev2_1_levels_for_naf_2025() -> None:
    table = naf.table(naf.NAF_2025)
    levels = Counter(e.level for e in table.values())
    assert levels == {"section": 22, "division": 87, "group": 287, "class": 651}
    assert all(e.label_fr is None and e.label_en for e in table.values())


@pytest.mark.parametrize(("code", "version", "lang", "text"), [
    ("62.01Z", "NAFRev2", "fr", "Programmation informatique"),
    ("62.01Z", "NAFRev2", "en", "Computer programming activities"),
    ("62.02A", "NAFRev2", "fr", "Conseil en systèmes et logiciels informatiques"),
    ("62.02A", "NAFRev2", "en", "Conseil en systèmes et logiciels informatiques"),
    ("J", "NAFRev2", "fr", "INFORMATION ET COMMUNICATION"),
    ("62", "NAFRev2", "en", "Computer programming, consultancy and related activities"),
    ("62.10A", "NAF2025", "fr", None),
    ("62.10A", "NAF2025", "en", None),
    ("62.10", "NAF2025", "en", "Computer programming activities"),
    ("72.2Z", "NAFRev1", "fr", None),
    ("99.99Z", "NAFRev2", "fr", None),
    (None, "NAFRev2", "fr", None),
])
def test_label(code: str | None, version: str, lang: str, text: str | None) -> None:
    assert naf.label(code, version, lang) == text


def test_describe_never_invents_a_label() -> None:
    assert naf.describe("62.01Z", "NAFRev2", "fr") == "62.01Z Programmation informatique"
    assert naf.describe("62.10A", "NAF2025", "fr") == "62.10A"
    assert naf.describe("62.10A", "NAF2025", "en") == (
        "62.10A (class 62.10: Computer programming activities)")
    assert naf.describe("72.2Z", "NAFRev1", "en") == "72.2Z"
    assert naf.describe(None, None) == ""


def test_section_of_a_code() -> None:
    assert naf.section("62.01Z") == "J"
    assert naf.section("64.19Z") == "K"
    assert naf.section("62.10A", naf.NAF_2025) == "K"  # NACE 2.1 moved computing to K
    assert naf.section("00.00Z") is None


def test_headcount_bands() -> None:
    assert list(naf.HEADCOUNT_BANDS) == ["NN", "00", "01", "02", "03", "11", "12", "21",
                                         "22", "31", "32", "41", "42", "51", "52", "53"]
    assert naf.band_at_least("11", "11") and naf.band_at_least("53", "11")
    assert not naf.band_at_least("03", "11")
    assert not naf.band_at_least("NN", "00") and not naf.band_at_least(None, "NN")
    assert naf.band_rank(None) < naf.band_rank("NN") < naf.band_rank("53")
    assert naf.band_text("12", "en") == "20–49"
    assert naf.band_text("42", "en") == "1,000–1,999"
    assert naf.band_text("53", "fr") == "10\u202f000+"
    assert naf.band_text("NN", "fr") == "0 (non employeur)"
    assert naf.band_text("00", "en") == "0"


def test_messages_have_the_same_keys_in_both_languages() -> None:
    assert set(MESSAGES["en"]) == set(MESSAGES["fr"])
    for key in MESSAGES["en"]:
        for lang in ("en", "fr"):
            assert MESSAGES[lang][key].strip(), (lang, key)


def test_every_line_error_reason_has_a_message() -> None:
    import typing

    for reason in typing.get_args(ErrorReason):
        assert t("fr_FR.UTF-8", f"reason_{reason}") != t("en", f"reason_{reason}")


def test_messages_follow_the_locale() -> None:
    assert t("fr_FR.UTF-8", "state_ceased") == "cessée"
    assert t("C.UTF-8", "state_ceased") == "ceased"

"""The project's curated data files stay well-formed and cover what identification needs.

Reads ``webleads/networks/data/curated_asns.csv`` and ``freemail_domains.txt`` as
shipped; a bad edit (a typo in a category, a duplicated ASN, a company domain slipped
into the free-mail list) fails here.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "webleads" / "networks" / "data"
HEADER = ["asn", "category", "brand", "domain", "country", "source"]
CATEGORIES = frozenset({
    "enterprise", "education", "government", "isp", "mobile", "hosting", "anonymizer", "bot",
})
ACCESS = frozenset({"isp", "mobile"})
COUNTRIES = ("FR", "BE", "CH", "LU", "DE", "GB", "ES", "IT", "NL", "US")
DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@cache
def _table() -> tuple[list[str], tuple[dict[str, str], ...]]:
    with open(DATA / "curated_asns.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = tuple(reader)
        return list(reader.fieldnames or []), rows


def _rows() -> tuple[dict[str, str], ...]:
    return _table()[1]


@cache
def _freemail_lines() -> tuple[str, ...]:
    text = (DATA / "freemail_domains.txt").read_text(encoding="utf-8")
    return tuple(
        line.strip() for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


def _where(row: dict[str, str]) -> str:
    return f"AS{row['asn']} ({row['brand']})"


# --- curated_asns.csv --------------------------------------------------------------


def test_header_is_exact() -> None:
    assert _table()[0] == HEADER


def test_table_is_not_trivially_small() -> None:
    assert len(_rows()) >= 250


def test_every_row_has_all_columns() -> None:
    bad = [row for row in _rows() if None in row or any(v is None for v in row.values())]
    assert not bad, f"rows with a wrong number of fields: {bad[:5]}"


def test_every_asn_is_a_positive_integer_written_plainly() -> None:
    bad = [row["asn"] for row in _rows()
           if not re.fullmatch(r"[1-9][0-9]*", row["asn"]) or int(row["asn"]) > 4294967295]
    assert not bad, f"invalid ASNs: {bad}"


def test_asns_are_unique() -> None:
    counts = Counter(row["asn"] for row in _rows())
    assert not [asn for asn, n in counts.items() if n > 1]


def test_category_is_from_the_closed_vocabulary() -> None:
    bad = [_where(row) for row in _rows() if row["category"] not in CATEGORIES]
    assert not bad, f"unknown categories: {bad}"


def test_country_is_two_upper_case_letters_or_empty() -> None:
    bad = [_where(row) for row in _rows() if not re.fullmatch(r"([A-Z]{2})?", row["country"])]
    assert not bad, f"bad country codes: {bad}"


def test_domain_looks_like_a_domain_or_is_empty() -> None:
    bad = [f"{_where(row)}: {row['domain']!r}" for row in _rows()
           if row["domain"] and not DOMAIN.match(row["domain"])]
    assert not bad, f"bad domains: {bad}"


def test_brand_is_present_and_trimmed() -> None:
    bad = [row["asn"] for row in _rows()
           if not row["brand"].strip() or row["brand"] != row["brand"].strip()]
    assert not bad, f"empty or untrimmed brands: {bad}"


def test_every_row_records_its_review() -> None:
    bad = [_where(row) for row in _rows() if not row["source"].startswith("snapshot-name: ")]
    assert not bad, f"rows without a review note: {bad}"


def test_rows_are_sorted_by_country_category_asn() -> None:
    keys = [(row["country"], row["category"], int(row["asn"])) for row in _rows()]
    assert keys == sorted(keys)


@pytest.mark.parametrize("country", COUNTRIES)
def test_each_country_has_access_networks(country: str) -> None:
    access = [row for row in _rows()
              if row["country"] == country and row["category"] in ACCESS]
    assert len(access) >= 2, f"{country}: fewer than 2 isp/mobile rows"


@pytest.mark.parametrize(("asn", "category"), [
    (16509, "hosting"),   # AWS
    (15169, "hosting"),   # Google
    (8075, "hosting"),    # Microsoft
    (16276, "hosting"),   # OVH
    (24940, "hosting"),   # Hetzner
    (12876, "hosting"),   # Scaleway / Online
    (2200, "education"),  # RENATER
    (3215, "isp"),        # Orange: its ASN never names a business customer
    (3299, "enterprise"),  # Société Générale
])
def test_key_networks_have_their_category(asn: int, category: str) -> None:
    by_asn = {int(row["asn"]): row for row in _rows()}
    assert asn in by_asn, f"AS{asn} missing"
    assert by_asn[asn]["category"] == category


@pytest.mark.parametrize("brand", [
    "Société Générale", "BNP Paribas", "Airbus", "Renault", "Crédit Agricole", "EDF",
])
def test_large_french_groups_are_enterprise_rows(brand: str) -> None:
    rows = [row for row in _rows() if row["brand"] == brand and row["category"] == "enterprise"]
    assert rows, f"no enterprise row for {brand}"
    assert all(row["domain"] for row in rows), f"{brand}: domain missing"


def test_organisation_rows_carry_a_domain() -> None:
    bad = [_where(row) for row in _rows()
           if row["category"] == "enterprise" and not row["domain"]]
    assert not bad, f"enterprise rows without a domain: {bad}"


# --- freemail_domains.txt ----------------------------------------------------------


def test_freemail_has_a_header_comment() -> None:
    text = (DATA / "freemail_domains.txt").read_text(encoding="utf-8")
    assert text.startswith("#")


def test_freemail_size_is_plausible() -> None:
    assert 150 <= len(_freemail_lines()) <= 400


def test_freemail_has_no_duplicates() -> None:
    counts = Counter(_freemail_lines())
    assert not [d for d, n in counts.items() if n > 1]


def test_freemail_is_lowercase_real_domains() -> None:
    bad = [d for d in _freemail_lines() if d != d.lower() or not DOMAIN.match(d)]
    assert not bad, f"not lowercase domains (wildcards are not allowed): {bad}"


@pytest.mark.parametrize("domain", ["gmail.com", "orange.fr", "outlook.com", "t-online.de"])
def test_freemail_contains_the_obvious(domain: str) -> None:
    assert domain in _freemail_lines()


def test_freemail_never_lists_a_company_domain() -> None:
    company = {row["domain"] for row in _rows()
               if row["category"] == "enterprise" and row["domain"]}
    assert not company & set(_freemail_lines())

"""Company names and domains in a comparable form (webleads/fr/names.py)."""

from __future__ import annotations

import pytest

from webleads.fr.names import compact, domain_label, first_token, fold, name_key


@pytest.mark.parametrize(("name", "key"), [
    ("SOCIETE GENERALE", "societe generale"),
    ("Société Générale S.A.", "societe generale"),
    ("Société Générale SA", "societe generale"),
    ("société générale, société anonyme", "societe generale"),
    ("L'ORÉAL", "loreal"),
    ("L’Oréal SA", "loreal"),
    ("Acme Solutions S.A.S.", "acme solutions"),
    ("SAS ACME SOLUTIONS", "acme solutions"),
    ("ACME SOLUTIONS SASU", "acme solutions"),
    ("Dupont & Fils SARL", "dupont et fils"),
    ("GROUPE RENAULT", "renault"),
    ("Renault Group", "renault"),
    ("AIRBUS SE", "airbus"),
    ("Michelin SCA", "michelin"),
    ("CRÉDIT AGRICOLE S.A.", "credit agricole"),
    ("Microsoft France", "microsoft france"),
    ("ACME GmbH", "acme"),
    ("Amazon.com, Inc.", "amazon com"),
    ("Cœur de Pâtes EURL", "coeur de pates"),
    ("GIE AXA", "axa"),
    ("Société par actions simplifiée Dupont", "dupont"),
    ("  trop   d'espaces  ", "trop despaces"),
])
def test_name_key(name: str, key: str) -> None:
    assert name_key(name) == key


@pytest.mark.parametrize("name", ["SA", "Groupe", "S.A.S.", "SE"])
def test_a_name_that_is_only_a_legal_form_keeps_its_words(name: str) -> None:
    assert name_key(name) == fold(name).replace(".", "").strip()


def test_nothing_left_gives_an_empty_key() -> None:
    assert name_key("—") == ""
    assert first_token("") == ""


def test_compact_and_first_token() -> None:
    assert compact("societe generale") == "societegenerale"
    assert first_token("societe generale") == "societe"


@pytest.mark.parametrize(("domain", "label"), [
    ("societegenerale.fr", "societegenerale"),
    ("www.societegenerale.com", "societegenerale"),
    ("https://www.credit-agricole.fr/particulier", "credit agricole"),
    ("mail.acme.co.uk", "acme"),
    ("acme.com.fr", "acme"),
    ("SNCF.FR.", "sncf"),
    ("localhost", None),
    ("", None),
    (None, None),
    ("www.fr", None),
])
def test_domain_label(domain: str | None, label: str | None) -> None:
    assert domain_label(domain) == label

"""IP identification: the shipped snapshot on real addresses, then each rule of the
identifier's precedence on tiny MMDB layers, organisation names and overrides.

The addresses of the table test are real: each is inside a prefix that the ASN
snapshot (RouteViews + DB-IP) shows announced by the ASN written next to it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from webleads.model import Network, NetworkCategory
from webleads.networks.compile import write_mmdb
from webleads.networks.identifier import Identifier, Layer
from webleads.networks.names import display_name, org_key
from webleads.networks.overrides import Override, OverrideBook, OverrideSet
from webleads.networks.sources import CuratedAsn, record_import

ORGANISATION = ("enterprise", "education", "government")
CURATED_MIN = 0.9  # the lowest confidence the identifier gives a curated or published fact


@pytest.fixture(scope="module")
def shipped() -> Identifier:
    return Identifier.default()


# -- the table of issue 3, on the shipped data ------------------------------------------------

@dataclass(frozen=True)
class Case:
    ip: str
    asn: int | None
    category: NetworkCategory
    name: str | None = None  # org_key(org_name) must contain it; None: no organisation
    evidence: str = ""  # an evidence line starting with this


def case(ip: str, asn: int | None, category: NetworkCategory, name: str | None = None,
         evidence: str = "", *, xfail: str = "") -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(Case(ip, asn, category, name, evidence), id=f"{category}-{ip}",
                        marks=marks)


def curated(ip: str, asn: int, category: NetworkCategory, name: str | None = None) -> Any:
    return case(ip, asn, category, name, f"curated: AS{asn} ")


TABLE = [
    # Enterprises of the issue: the curated table names them.
    curated("194.119.0.10", 3299, "enterprise", "societe generale"),
    curated("162.246.246.10", 3295, "enterprise", "societe generale"),
    curated("155.140.10.10", 20617, "enterprise", "bnp paribas"),
    curated("79.170.56.10", 25215, "enterprise", "bnp paribas"),
    curated("2a04:a84::1", 25215, "enterprise", "bnp paribas"),
    curated("140.94.10.1", 206720, "enterprise", "airbus"),
    curated("2a00:6fc0::1", 206720, "enterprise", "airbus"),
    curated("46.31.160.10", 50758, "enterprise", "airbus"),
    curated("138.21.100.1", 8528, "enterprise", "renault"),
    curated("2a00:7ec0::1", 8528, "enterprise", "renault"),
    curated("134.227.1.1", 9159, "enterprise", "credit agricole"),
    curated("145.248.1.1", 21137, "enterprise", "credit agricole"),
    curated("130.98.1.1", 209502, "enterprise", "edf"),
    curated("163.62.72.1", 1301, "enterprise", "edf"),
    # Access networks: never an organisation.
    curated("90.1.1.1", 3215, "isp"),
    curated("2a01:cb00::1", 5511, "isp"),
    curated("46.218.1.1", 15557, "isp"),
    curated("2a02:8400::1", 15557, "isp"),
    curated("78.192.1.1", 12322, "isp"),
    curated("2a01:e00::1", 12322, "isp"),
    curated("37.160.1.1", 51207, "mobile"),  # ranges.mmdb also (wrongly) says Scaleway here
    curated("2a0d:e480::1", 51207, "mobile"),
    curated("31.32.1.1", 5410, "isp"),
    curated("2001:860::1", 5410, "isp"),
    curated("80.128.1.1", 3320, "isp"),
    curated("2003::1", 3320, "isp"),
    curated("73.1.1.1", 7922, "isp"),
    curated("2601::1", 7922, "isp"),
    # Hosting: curated and published ranges agree.
    curated("51.38.1.1", 16276, "hosting"),
    curated("213.186.33.1", 16276, "hosting"),
    curated("2001:41d0::1", 16276, "hosting"),
    curated("51.15.1.1", 12876, "hosting"),
    curated("2001:bc8::1", 12876, "hosting"),
    curated("52.47.1.1", 16509, "hosting"),
    curated("2a05:d018::1", 16509, "hosting"),
    curated("20.50.1.1", 8075, "hosting"),
    curated("2603:1020::1", 8075, "hosting"),
    curated("34.76.1.1", 396982, "hosting"),
    curated("2600:1900::1", 396982, "hosting"),
    curated("5.9.1.1", 24940, "hosting"),
    curated("2a01:4f8::1", 24940, "hosting"),
    # Research and education networks.
    curated("128.93.1.1", 2200, "education", "renater"),
    curated("193.48.1.1", 2200, "education", "renater"),
    curated("2001:660::1", 2200, "education", "renater"),
    curated("87.77.1.1", 680, "education", "dfn"),
    curated("2001:638::1", 680, "education", "dfn"),
    curated("128.86.1.1", 786, "education", "jisc"),
    curated("2001:630::1", 786, "education", "jisc"),
    # Published ranges about this very address beat the ASN's curated row.
    case("66.249.66.1", 15169, "bot", evidence="ranges: Googlebot (bot)"),
    case("185.220.101.1", 60729, "anonymizer", evidence="ranges: Tor (anonymizer)"),
    # Outside the public Internet (192.0.2.0/24 is also wrongly listed by a shipped feed).
    *(case(ip, None, "reserved", evidence="reserved: ") for ip in (
        "10.0.0.1", "192.168.1.1", "127.0.0.1", "100.64.0.1", "169.254.1.1", "192.0.2.1",
        "198.51.100.1", "203.0.113.1", "::1", "fe80::1", "fc00::1", "2001:db8::1",
        "172.16.0.1", "0.0.0.0", "::ffff:10.0.0.1", "224.0.0.1", "ff02::1", "2002::1",
        "3fff::1",
    )),
]


@pytest.mark.parametrize("expected", TABLE)
def test_shipped_data_identifies_known_networks(shipped: Identifier, expected: Case) -> None:
    found = shipped.lookup(expected.ip)
    assert found is not None
    assert (found.asn, found.category) == (expected.asn, expected.category), found.evidence
    if expected.name is None:
        assert found.org_name is None and not found.is_organisation
    else:
        assert found.org_name is not None and expected.name in org_key(found.org_name)
        assert found.is_organisation
    assert found.evidence and all(found.evidence)
    assert any(line.startswith(expected.evidence) for line in found.evidence), found.evidence
    assert CURATED_MIN <= found.confidence <= 1.0


@pytest.mark.parametrize("value", [
    "", "not-an-ip", "999.1.1.1", "1.2.3.4.5", " 1.2.3.4", "10.0.0.1/8", ":::",
    "2001:db8::g", "::ffff:999.1.1.1", "1" * 100, "\x00", "1.2.3.4\x00",
    # inet_aton short and hexadecimal forms, which the MMDB reader alone would accept:
    "1.2.3", "127.1", "0x7f.0.0.1", "194.119.10",
])
def test_lookup_of_garbage_is_none(shipped: Identifier, value: str) -> None:
    assert shipped.lookup(value) is None


def test_ipv4_mapped_address_is_identified_as_its_ipv4(shipped: Identifier) -> None:
    assert shipped.lookup("::ffff:194.119.0.10") == shipped.lookup("194.119.0.10")


# -- precedence, on layers built for the test ------------------------------------------------

Record = dict[str, Any]


def layer(tmp_path: Path, name: str, networks: dict[str, Record]) -> Layer:
    path = tmp_path / f"{name}.mmdb"
    rows = []
    for cidr, record in networks.items():
        net = ipaddress.ip_network(cidr)
        rows.append((int(net.network_address), int(net.broadcast_address), net.version, record))
    write_mmdb(path, rows, database_type=f"test-{name}", description=name)
    return Layer.open(name, path)


def curated_row(asn: int, category: NetworkCategory, brand: str,
                domain: str | None = None) -> dict[int, CuratedAsn]:
    return {asn: CuratedAsn(asn=asn, category=category, brand=brand, domain=domain,
                            country=None)}


def found(identifier: Identifier, ip: str) -> Network:
    network = identifier.lookup(ip)
    assert network is not None
    return network


ACME_AS = {"11.0.0.0/16": {"asn": 64501, "org": "ACME INDUSTRIES SA", "blocks": 256}}


@pytest.mark.parametrize("kind", ["bot", "anonymizer"])
def test_published_bot_or_anonymizer_range_beats_the_curated_asn(tmp_path: Path,
                                                                 kind: str) -> None:
    ident = Identifier(
        ranges=[layer(tmp_path, "ranges", {"11.0.1.0/24": {"kind": kind, "provider": "P"}})],
        asn=[layer(tmp_path, "asn", ACME_AS)],
        curated=curated_row(64501, "enterprise", "Acme", "acme.example"),
    )
    inside = found(ident, "11.0.1.7")
    assert (inside.category, inside.asn, inside.org_name, inside.confidence) == (
        kind, 64501, None, 0.95)
    assert inside.evidence[0] == f"ranges: P ({kind})"
    outside = found(ident, "11.0.2.7")
    assert (outside.category, outside.org_name, outside.org_domain) == (
        "enterprise", "Acme", "acme.example")


@pytest.mark.parametrize(("category", "org_name", "confidence"), [
    ("isp", None, 0.9),
    ("enterprise", "Acme", 0.95),
])
def test_curated_asn_beats_a_published_hosting_range(
        tmp_path: Path, category: NetworkCategory, org_name: str | None,
        confidence: float) -> None:
    ident = Identifier(
        ranges=[layer(tmp_path, "ranges", {"11.0.1.0/24": {"kind": "hosting",
                                                           "provider": "Cloud"}})],
        asn=[layer(tmp_path, "asn", ACME_AS)],
        curated=curated_row(64501, category, "Acme"),
    )
    network = found(ident, "11.0.1.7")
    assert (network.category, network.org_name, network.confidence) == (
        category, org_name, confidence)
    assert network.evidence == ("ranges: Cloud (hosting)", "asn: AS64501 ACME INDUSTRIES SA",
                                f"curated: AS64501 Acme ({category})")


def test_published_hosting_range_beats_the_heuristics(tmp_path: Path) -> None:
    ident = Identifier(
        ranges=[layer(tmp_path, "ranges", {"11.0.1.0/24": {"kind": "hosting",
                                                           "provider": "Cloud"}})],
        asn=[layer(tmp_path, "asn", {"11.0.0.0/16": {
            "asn": 64502, "org": "EXAMPLE UNIVERSITY", "blocks": 256}})],
    )
    inside = found(ident, "11.0.1.7")
    assert (inside.category, inside.org_name, inside.confidence) == ("hosting", None, 0.95)
    outside = found(ident, "11.0.2.7")
    assert (outside.category, outside.org_name) == ("education", "Example University")
    assert outside.confidence < CURATED_MIN


def test_registry_assignment_comes_first(tmp_path: Path) -> None:
    ident = Identifier(
        registry=[layer(tmp_path, "registry", {
            "11.0.1.0/24": {"org": "DUPONT MECANIQUE SARL", "country": "BE"},
            "11.0.2.0/24": {"org": "UNIVERSITE DE TESTVILLE"},
            "11.0.3.0/24": {"org": "EXAMPLE TELECOM"},
        })],
        ranges=[layer(tmp_path, "ranges", {"11.0.0.0/16": {"kind": "bot", "provider": "P"}})],
        asn=[layer(tmp_path, "asn", ACME_AS)],
        country=[layer(tmp_path, "country", {"11.0.0.0/8": {"country": "FR"}})],
        curated=curated_row(64501, "isp", "Big ISP"),
    )
    company = found(ident, "11.0.1.7")
    assert (company.category, company.org_name, company.asn, company.country) == (
        "enterprise", "Dupont Mecanique SARL", 64501, "BE")
    assert company.evidence[0].startswith("registry: assigned to 'DUPONT MECANIQUE SARL'")
    assert 0.7 <= company.confidence < CURATED_MIN
    school = found(ident, "11.0.2.7")
    assert (school.category, school.org_name, school.country) == (
        "education", "Universite De Testville", "FR")
    telecom = found(ident, "11.0.3.7")
    assert (telecom.category, telecom.org_name) == ("isp", None)
    assert found(ident, "11.0.4.7").category == "bot"  # no assignment there


def test_first_layer_comes_before_the_next(tmp_path: Path) -> None:
    imported = layer(tmp_path, "import", {"11.0.1.0/24": {"asn": 64510, "org": "New Owner"}})
    snapshot = layer(tmp_path, "shipped", {"11.0.0.0/16": {"asn": 64511, "org": "Old Owner"}})
    ident = Identifier(asn=[imported, snapshot])
    assert found(ident, "11.0.1.7").asn == 64510
    assert found(ident, "11.0.1.7").evidence[0] == "import: AS64510 New Owner"
    assert found(ident, "11.0.2.7").asn == 64511  # the import does not cover it


def test_default_puts_the_users_imports_before_the_shipped_snapshot(tmp_path: Path) -> None:
    folder = tmp_path / "networks"
    folder.mkdir()
    layer(folder, "asn-test", {"194.119.0.0/24": {"asn": 64512, "org": "Imported Corp"}})
    record_import(tmp_path, key="asn-test", layer="asn", file="asn-test.mmdb",
                  name="test import", ranges=1)
    ident = Identifier.default(tmp_path)
    mine = found(ident, "194.119.0.10")
    assert (mine.asn, mine.evidence[0]) == (64512, "asn-test: AS64512 Imported Corp")
    assert found(ident, "138.21.100.1").asn == 8528  # shipped snapshot underneath


def test_reserved_comes_before_any_data(tmp_path: Path) -> None:
    wrong = {cidr: {"asn": 64513, "org": "EXAMPLE HOSTING", "kind": "hosting",
                    "provider": "Feed", "country": "US"}
             for cidr in ("192.0.2.0/24", "10.0.0.0/8", "2001:db8::/32", "fc00::/7")}
    ident = Identifier(
        registry=[layer(tmp_path, "registry", wrong)],
        ranges=[layer(tmp_path, "ranges", wrong)],
        asn=[layer(tmp_path, "asn", wrong)],
        country=[layer(tmp_path, "country", wrong)],
        curated=curated_row(64513, "hosting", "Example"),
    )
    assert ident.registry[0].reader.get("192.0.2.1")  # the data does cover it
    for ip in ("192.0.2.1", "10.1.2.3", "2001:db8::1", "fd12::1"):
        network = found(ident, ip)
        assert (network.category, network.asn, network.country, network.confidence) == (
            "reserved", None, None, 1.0)
        assert network.evidence[0].startswith("reserved: ")


def test_no_source_knows_the_address(tmp_path: Path) -> None:
    ident = Identifier(country=[layer(tmp_path, "country", {"11.0.0.0/8": {"country": "FR"}})])
    network = found(ident, "11.0.1.7")
    assert (network.category, network.asn, network.country, network.confidence) == (
        "unknown", None, "FR", 0.0)
    assert network.evidence == ("no source knows this address",)


HEURISTICS = [
    # (AS name, IPv4 /24 blocks, category, confidence, org_name)
    ("UNIVERSITE DE TESTVILLE", 300, "education", 0.6, "Universite De Testville"),
    ("Technische Hochschule Beispiel", 40, "education", 0.6, "Technische Hochschule Beispiel"),
    ("MINISTERE DE LA CULTURE", 10, "government", 0.55, "Ministere De La Culture"),
    ("Example Hosting Ltd", 10, "hosting", 0.5, None),
    ("EXAMPLE MOBILE SA", 500, "mobile", 0.5, None),
    ("Example Telecom GmbH", 500, "isp", 0.45, None),
    ("ACME INDUSTRIES SA", 8, "enterprise", 0.55, "Acme Industries SA"),
    ("ACME INDUSTRIES SA", 40, "enterprise", 0.5, "Acme Industries SA"),
    ("BIGNET", 5000, "unknown", 0.2, None),
    ("BIGNET", 0, "unknown", 0.2, None),  # no IPv4 at all: size unknown
]


@pytest.mark.parametrize(("as_org", "blocks", "category", "confidence", "org_name"),
                         HEURISTICS)
def test_heuristics_guess_below_curated_confidence(
        tmp_path: Path, as_org: str, blocks: int, category: NetworkCategory,
        confidence: float, org_name: str | None) -> None:
    ident = Identifier(asn=[layer(tmp_path, "asn", {
        "11.0.0.0/16": {"asn": 64520, "org": as_org, "blocks": blocks}})])
    network = found(ident, "11.0.1.7")
    assert (network.category, network.confidence, network.org_name) == (
        category, confidence, org_name)
    assert network.confidence < CURATED_MIN
    assert network.evidence[-1].startswith("heuristic: ")


# -- names ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("a", "b"), [
    ("Société Générale S.A.", "SOCIETE GENERALE"),
    ("Groupe Renault", "Renault SAS"),
    ("Nestlé S.A.", "NESTLE SA"),
    ("Siemens AG", "SIEMENS"),
    ("The Coca-Cola Company", "Coca-Cola"),
])
def test_org_key_folds_spelling_legal_form_and_filler(a: str, b: str) -> None:
    assert org_key(a) == org_key(b) != ""


@pytest.mark.parametrize(("a", "b"), [
    ("Airbus SAS", "Airbus Defence and Space GmbH"),
    ("Renault SAS", "Renault Trucks SAS"),
    ("Crédit Agricole", "Crédit Mutuel"),
])
def test_org_key_keeps_different_companies_apart(a: str, b: str) -> None:
    assert org_key(a) != org_key(b)


def test_org_key_values() -> None:
    assert org_key("Société Générale S.A.") == "societe generale"
    assert org_key("Groupe Renault") == "renault"
    assert org_key("Group") == "group"  # filler only: kept rather than emptied
    assert org_key("") == ""


@pytest.mark.parametrize(("raw", "shown"), [
    ("AIRBUS DEFENCE AND SPACE GMBH", "Airbus Defence And Space GmbH"),
    ("BNP PARIBAS S.A.", "BNP Paribas S.A."),
    ("RENAULT SAS", "Renault SAS"),
    ("IBM FRANCE SAS", "IBM France SAS"),
    ("ACME (UK) LTD", "Acme (UK) Ltd"),
    ("DEUTSCHE TELEKOM KGAA", "Deutsche Telekom KGaA"),
    ("  ACME   CORP ", "Acme Corp"),
    ("Société Générale", "Société Générale"),  # already mixed case: kept
    ("OVH SAS", "OVH SAS"),
    ("", ""),
])
def test_display_name(raw: str, shown: str) -> None:
    assert display_name(raw) == shown


# -- overrides -----------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "message"), [
    ({"role": "boss", "cidr": "11.0.0.0/8"}, "role: 'boss'"),
    ({"role": "isp", "cidr": "11.0.0.0/8", "category": "reserved"}, "category: 'reserved'"),
    ({"role": "isp", "cidr": "11.0.0.0/8", "asn": 64500}, "exactly one of a CIDR or an ASN"),
    ({"role": "isp"}, "exactly one of a CIDR or an ASN"),
    ({"role": "customer", "asn": 64500}, "needs an organisation name or a domain"),
    ({"role": "competitor", "cidr": "11.0.0.0/8"}, "needs an organisation name or a domain"),
    ({"role": "partner", "cidr": "11.0.0.0/8", "organisation": ""},
     "needs an organisation name or a domain"),
    ({"role": "office", "cidr": "11.0.0.0/33"}, "is not a network"),
    ({"role": "office", "asn": 0}, "asn: 0 is out of range"),
    ({"role": "office", "asn": 2**32}, "is out of range"),
])
def test_override_validation(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        Override(workspace_id=1, **fields)


@pytest.mark.parametrize("fields", [
    {"role": "organisation", "asn": 64500},  # a category fix: keeps the identified name
    {"role": "organisation", "asn": 64500, "category": "education"},
    {"role": "customer", "asn": 64500, "domain": "acme.example"},
    {"role": "office", "cidr": "2a00:1::/32"},
    {"role": "isp", "asn": 2**32 - 1},
])
def test_valid_overrides(fields: dict[str, Any]) -> None:
    assert Override(workspace_id=1, **fields).role == fields["role"]


def test_override_reports_every_problem_at_once() -> None:
    with pytest.raises(ValueError) as info:
        Override(workspace_id=1, role="boss", category="nope")
    assert str(info.value).count(";") == 2  # both/none, role, category


def test_override_normalises_its_cidr() -> None:
    assert Override(1, "office", cidr="11.1.2.3/8").cidr == "11.0.0.0/8"
    assert Override(1, "office", cidr="2a00:1:2::5/32").target == "2a00:1::/32"
    assert Override(1, "isp", asn=64500).target == "AS64500"


WIDE = Override(1, "partner", cidr="11.0.0.0/8", organisation="Wide")
NARROW = Override(1, "customer", cidr="11.1.0.0/16", organisation="Narrow")
NARROWEST = Override(1, "competitor", cidr="11.1.2.0/24", organisation="Narrowest")
BY_ASN = Override(1, "organisation", asn=64500, organisation="By ASN")
V6 = Override(1, "customer", cidr="2a00:1::/32", organisation="Six")


@pytest.mark.parametrize(("ip", "asn", "expected"), [
    ("11.1.2.3", 64500, NARROWEST),
    ("11.1.3.3", 64500, NARROW),
    ("11.2.0.1", 64500, WIDE),
    ("12.0.0.1", 64500, BY_ASN),
    ("12.0.0.1", 64501, None),
    ("12.0.0.1", None, None),
    (None, 64500, BY_ASN),
    ("not-an-ip", 64500, BY_ASN),
    ("::ffff:11.1.2.3", None, NARROWEST),
    ("::ffff:b01:203", None, NARROWEST),
    ("2a00:1:ffff::1", None, V6),
    ("2a00:2::1", 64500, BY_ASN),
    ("::11.1.2.3", None, None),  # IPv4-compatible is not IPv4-mapped
])
def test_override_matching(ip: str | None, asn: int | None,
                           expected: Override | None) -> None:
    overrides = OverrideSet([BY_ASN, WIDE, NARROWEST, V6, NARROW])
    assert overrides.match(ip, asn) is expected


def test_empty_override_set_is_false() -> None:
    assert not OverrideSet([])
    assert OverrideSet([BY_ASN])


def test_override_book_keeps_workspaces_apart() -> None:
    mine = Override(1, "office", cidr="11.0.0.0/8")
    theirs = Override(2, "customer", cidr="11.1.0.0/16", organisation="Theirs")
    book = OverrideBook.of([mine, theirs])
    first = book.for_workspace(1)
    second = book.for_workspace(2)
    assert first is not None and second is not None
    assert first.match("11.1.2.3", None) is mine  # the narrower CIDR is another workspace's
    assert second.match("11.1.2.3", None) is theirs
    assert second.match("11.2.0.1", None) is None
    assert book.for_workspace(3) is None


ORANGE = Network(asn=3215, as_org="Orange S.A.", category="isp", confidence=0.9, country="FR",
                 evidence=("asn: AS3215 Orange S.A.",))
SCHOOL = Network(asn=2200, as_org="Renater", org_name="RENATER", org_domain="renater.fr",
                 category="education", confidence=0.95, country="FR", evidence=("curated",))


def test_office_override_drops_the_visitor() -> None:
    assert Override(1, "office", cidr="11.0.0.0/8").apply(ORANGE) is None
    assert Override(1, "office", asn=3215).apply(None) is None


def test_isp_override_makes_the_visitor_anonymous() -> None:
    network = Override(1, "isp", asn=2200).apply(SCHOOL)
    assert network == Network(asn=2200, as_org="Renater", category="isp", confidence=1.0,
                              country="FR", evidence=("override: AS2200 isp", "curated"),
                              role="isp")


def test_customer_override_names_the_organisation() -> None:
    network = Override(1, "customer", cidr="90.1.0.0/16", organisation="Dupont SA",
                       domain="dupont.example").apply(ORANGE)
    assert network is not None
    assert (network.org_name, network.org_domain, network.category, network.role) == (
        "Dupont SA", "dupont.example", "enterprise", "customer")
    assert (network.asn, network.country, network.confidence) == (3215, "FR", 1.0)
    assert network.evidence == ("override: 90.1.0.0/16 customer Dupont SA",) + ORANGE.evidence
    assert network.is_organisation


def test_organisation_override_keeps_an_organisation_category_and_takes_a_given_one() -> None:
    renamed = Override(1, "organisation", asn=2200, organisation="Université X").apply(SCHOOL)
    assert renamed is not None
    assert (renamed.org_name, renamed.org_domain, renamed.category) == (
        "Université X", None, "education")  # the old domain belonged to the old name
    by_domain = Override(1, "partner", asn=2200, domain="x.example").apply(SCHOOL)
    assert by_domain is not None
    assert (by_domain.org_name, by_domain.org_domain) == ("x.example", "x.example")
    ministry = Override(1, "organisation", asn=2200, organisation="Ministère",
                        category="government").apply(SCHOOL)
    assert ministry is not None and ministry.category == "government"


@pytest.mark.parametrize(("base", "org_name"), [
    (SCHOOL, "RENATER"),  # the identified organisation
    (ORANGE, "Orange S.A."),  # else the AS name, made readable
    (Network(asn=64500, as_org="ACME INDUSTRIES SA"), "Acme Industries SA"),
    (Network(asn=64500), "AS64500"),  # else the AS number
    (None, "11.0.0.0/8"),  # else the override's own target
])
def test_unnamed_organisation_override_changes_only_the_category(
        base: Network | None, org_name: str) -> None:
    fix = Override(1, "organisation", cidr="11.0.0.0/8", category="government")
    network = fix.apply(base)
    assert network is not None
    assert (network.org_name, network.category, network.role, network.confidence) == (
        org_name, "government", "organisation", 1.0)
    assert network.org_domain == (base.org_domain if base else None)
    assert network.evidence[0] == "override: 11.0.0.0/8 organisation"


def test_override_applies_to_an_unknown_address() -> None:
    network = Override(1, "customer", cidr="11.0.0.0/8", organisation="Acme").apply(None)
    assert network is not None
    assert (network.org_name, network.category, network.asn, network.role) == (
        "Acme", "enterprise", None, "customer")
    assert network.evidence == ("override: 11.0.0.0/8 customer Acme",)

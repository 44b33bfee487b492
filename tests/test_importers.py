"""The readers behind ``webleads import networks``: one fixture per format, exact records.

Fixtures live in ``tests/fixtures/networks`` (made up, documentation addresses); MMDB files
are written at test time with ``mmdb_writer``.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from webleads.networks.importers import (
    CATEGORIES,
    FORMATS,
    ImportFormatError,
    RangeRecord,
    RegistryTermsNotAcknowledged,
    count_lines,
    read_networks,
)

FIXTURES = Path(__file__).parent / "fixtures" / "networks"


def net(cidr: str, **fields: Any) -> RangeRecord:
    """The record of a CIDR, or of a "first - last" range."""
    if " - " in cidr:
        first, last = (ipaddress.ip_address(a) for a in cidr.split(" - "))
        return RangeRecord(int(first), int(last), first.version, **fields)
    network = ipaddress.ip_network(cidr)
    return RangeRecord(int(network.network_address), int(network.broadcast_address),
                       network.version, **fields)


AWS = {"provider": "Amazon AWS", "kind": "hosting"}
AZURE = {"provider": "Microsoft Azure", "kind": "hosting"}
ORACLE = {"provider": "Oracle Cloud", "kind": "hosting"}
CLOUDFLARE = {"provider": "Cloudflare", "kind": "cdn"}
TOR: dict[str, Any] = {"provider": "Tor", "kind": "anonymizer"}

GOOD: list[tuple[str, str, dict[str, Any], list[RangeRecord]]] = [
    ("dbip-asn.csv", "dbip-asn-csv", {}, [
        net("192.0.2.0/24", asn=64500, as_org="Example Networks, Inc."),
        net("198.51.100.0/25", asn=64501, as_org="Example Transit"),
        net("2001:db8::/32", asn=64502),
    ]),
    ("dbip-asn-num.csv", "dbip-asn-csv", {}, [  # AS 0 skipped
        net("192.0.2.0/24", asn=64500, as_org="Example Networks, Inc."),
        net("2001:db8::/32", asn=64502, as_org="Example IPv6"),
    ]),
    ("iptoasn.tsv", "iptoasn-tsv", {}, [  # AS 0 "Not routed" skipped
        net("192.0.2.0/24", asn=64500, as_org="EXAMPLE-NET Example Networks", country="FR"),
        net("203.0.113.0/24", asn=64501, as_org='EXAMPLE-TRANSIT "quoted" name'),
        net("2001:db8::/112", asn=64502, as_org="EXAMPLE6", country="DE"),
    ]),
    ("ip2location-asn.csv", "ip2location-asn-csv", {}, [
        net("192.0.2.0/24", asn=64500, as_org="Example Networks"),
        net("198.51.100.0/25", asn=64501, as_org="Example Transit"),
    ]),
    ("ip2location-asn-v6.csv", "ip2location-asn-csv", {}, [  # ::ffff:192.0.2.0/120 -> IPv4
        net("192.0.2.0/24", asn=64500, as_org="Example Networks"),
        net("2001:db8::/48", asn=64502),
    ]),
    ("ipinfo-lite.csv", "ipinfo-lite-csv", {}, [  # no asn: skipped
        net("192.0.2.0/24", asn=64500, as_org="Example Networks", country="FR",
            as_domain="example.net"),
        net("2001:db8::/32", asn=64502, as_org="Example IPv6, GmbH", country="DE",
            as_domain="example.org"),
        net("203.0.113.7/32", asn=64503, as_org="Example Hosting", country="NL"),
    ]),
    ("aws-ip-ranges.json", "aws-json", {}, [  # EC2 replaces the AMAZON duplicate
        net("192.0.2.0/24", service="EC2", **AWS),
        net("198.51.100.0/25", service="AMAZON", **AWS),
        net("2001:db8::/48", service="S3", **AWS),
    ]),
    ("aws-ip-ranges.json", "aws-json", {"provider": "AWS GovCloud"}, [
        net("192.0.2.0/24", service="EC2", provider="AWS GovCloud", kind="hosting"),
        net("198.51.100.0/25", service="AMAZON", provider="AWS GovCloud", kind="hosting"),
        net("2001:db8::/48", service="S3", provider="AWS GovCloud", kind="hosting"),
    ]),
    ("google-cloud.json", "google-json", {}, [
        net("192.0.2.0/24", provider="Google Cloud", kind="hosting", service="europe-west9"),
        net("2001:db8:1::/48", provider="Google Cloud", kind="hosting", service="us-central1"),
    ]),
    ("google-goog.json", "google-json", {}, [
        net("198.51.100.0/24", provider="Google", kind="hosting"),
        net("2001:db8::/32", provider="Google", kind="hosting"),
    ]),
    ("googlebot.json", "google-json", {}, [  # a crawler list, from the file name
        net("2001:db8:2::/64", provider="Googlebot", kind="bot"),
        net("203.0.113.32/27", provider="Googlebot", kind="bot"),
    ]),
    ("google-goog.json", "google-json", {"provider": "GoogleOther crawler"}, [
        net("198.51.100.0/24", provider="GoogleOther crawler", kind="bot"),
        net("2001:db8::/32", provider="GoogleOther crawler", kind="bot"),
    ]),
    ("azure-service-tags.json", "azure-json", {}, [  # a service tag beats AzureCloud*
        net("192.0.2.0/24", service="AzureFrontDoor.Frontend", **AZURE),
        net("2001:db8::/48", service="AzureCloud", **AZURE),
        net("198.51.100.0/25", service="AzureFrontDoor.Frontend", **AZURE),
    ]),
    ("oracle-public-ip-ranges.json", "oracle-json", {}, [
        net("192.0.2.0/24", service="OCI", **ORACLE),
        net("198.51.100.0/25", service="OBJECT_STORAGE,OSN", **ORACLE),
        net("2001:db8:3::/48", **ORACLE),
    ]),
    ("cloudflare-api.json", "cloudflare", {}, [
        net("192.0.2.0/24", **CLOUDFLARE),
        net("198.51.100.0/25", **CLOUDFLARE),
        net("2001:db8:4::/48", **CLOUDFLARE),
    ]),
    ("cloudflare-ips-v4", "cloudflare", {}, [
        net("192.0.2.0/24", **CLOUDFLARE),
        net("198.51.100.0/25", **CLOUDFLARE),
    ]),
    ("cloudflare-ips-v6", "cloudflare", {}, [net("2001:db8:4::/48", **CLOUDFLARE)]),
    ("tor-exits.txt", "cidr-list", TOR, [
        net("192.0.2.10/32", **TOR),
        net("198.51.100.7/32", **TOR),
        net("2001:db8:5::1/128", **TOR),
        net("203.0.113.0/28", **TOR),
    ]),
    ("overrides.csv", "overrides-csv", {}, [
        net("192.0.2.0/26", org_name="Acme Industries", org_domain="acme.example",
            role="customer", category="enterprise"),
        RangeRecord(0, 0, 0, asn=64510, org_name="Globex", org_domain="globex.example",
                    role="competitor"),
        net("198.51.100.16/28", org_name="Our Paris office", role="office"),
        net("2001:db8:6::/48", category="education"),
    ]),
    ("ripe-sample.db", "rpsl", {"acknowledge_registry_terms": True}, [
        net("192.0.2.0/24", org_name="Example Industries SA", country="FR",
            service="ASSIGNED PA"),
        net("2001:db8:7::/48", org_name="Example research lab", country="DE",
            service="ASSIGNED"),
        net("198.51.100.0/25", org_name="NO-DESCR-NET", country="NL"),
    ]),
]


@pytest.mark.parametrize(("fixture", "fmt", "options", "expected"), GOOD,
                         ids=[f"{case[0]}-{i}" for i, case in enumerate(GOOD)])
def test_reads_fixture(
    fixture: str, fmt: str, options: dict[str, Any], expected: list[RangeRecord]
) -> None:
    assert list(read_networks(FIXTURES / fixture, fmt, **options)) == expected


@pytest.mark.parametrize(("filename", "provider"), [
    ("special-crawlers.json", "Google special crawlers"),
    ("user-triggered-fetchers-google.json", "Google user-triggered fetchers"),
    ("common-crawlers.json", "Google crawlers"),
])
def test_google_crawler_lists_are_named_from_the_file(
    tmp_path: Path, filename: str, provider: str
) -> None:
    path = tmp_path / filename
    path.write_bytes((FIXTURES / "googlebot.json").read_bytes())
    assert {(r.provider, r.kind) for r in read_networks(path, "google-json")} == {(provider, "bot")}


def test_every_format_has_a_fixture() -> None:
    assert {case[1] for case in GOOD} | {"mmdb"} == set(FORMATS)
    assert set(FORMATS.values()) == {"asn", "ranges", "overrides", "registry"}


BAD: list[tuple[str, str, dict[str, Any], int, str | None, str]] = [
    ("bad-dbip-asn.csv", "dbip-asn-csv", {}, 3, "last_ip", "'203.0.113.256' is not an IP"),
    ("bad-iptoasn.tsv", "iptoasn-tsv", {}, 2, "AS_number", "'AS-64501' is not an AS number"),
    ("bad-ip2location-asn.csv", "ip2location-asn-csv", {}, 2, "ip_to", "ip_to is before ip_from"),
    ("bad-ipinfo-lite.csv", "ipinfo-lite-csv", {}, 3, "country_code", "'FRA' is not an ISO"),
    ("bad-aws-ip-ranges.json", "aws-json", {}, 12, "prefixes[1].ip_prefix",
     "the prefix length is not 0 to 32"),
    ("bad-google.json", "google-json", {}, 0, "prefixes[1]", "one of ipv4Prefix or ipv6Prefix"),
    ("bad-google-syntax.json", "google-json", {}, 7, None, "not valid JSON"),
    ("bad-azure-service-tags.json", "azure-json", {}, 14,
     "values[0].properties.addressPrefixes[1]", "'198.51.100.0/24x'"),
    ("bad-oracle-public-ip-ranges.json", "oracle-json", {}, 0, "regions[0].cidrs[1].tags",
     "expected a list, found a string"),
    ("bad-cloudflare-api.json", "cloudflare", {}, 0, "success", "Authentication error"),
    ("bad-cloudflare-ips-v4", "cloudflare", {}, 4, "cidr", "the prefix length is not 0 to 32"),
    ("bad-tor-exits.txt", "cidr-list", TOR, 5, "cidr",
     "has host bits set (the network is 203.0.113.0/28)"),
    ("bad-overrides.csv", "overrides-csv", {}, 3, "role", "'client' is not one of customer"),
    ("bad-ripe-sample.db", "rpsl", {"acknowledge_registry_terms": True}, 10, "country",
     "'FRA' is not an ISO 3166 alpha-2"),
]


@pytest.mark.parametrize(("fixture", "fmt", "options", "line", "field", "message"), BAD,
                         ids=[case[0] for case in BAD])
def test_malformed_fixture_names_line_and_field(
    fixture: str, fmt: str, options: dict[str, Any], line: int, field: str | None, message: str
) -> None:
    with pytest.raises(ImportFormatError) as caught:
        list(read_networks(FIXTURES / fixture, fmt, **options))
    error = caught.value
    assert (error.path, error.line, error.field) == (str(FIXTURES / fixture), line, field)
    assert message in error.message


def test_every_format_has_a_malformed_fixture() -> None:
    assert {case[1] for case in BAD} | {"mmdb"} == set(FORMATS)


INLINE: list[tuple[str, str, int, str | None, str]] = [
    ("dbip-asn-csv", "192.0.2.0,192.0.2.255,64500\n", 1, None, "expected 4 columns"),
    ("dbip-asn-csv", "192.0.2.9,192.0.2.0,64500,X\n", 1, "last_ip", "last_ip is before first_ip"),
    ("dbip-asn-csv", "192.0.2.0,2001:db8::,64500,X\n", 1, "last_ip", "is IPv6, first_ip is IPv4"),
    ("dbip-asn-csv", "192.0.2.0,192.0.2.255,-1,X\n", 1, "asn", "'-1' is not an AS number"),
    ("dbip-asn-csv", "192.0.2.0,192.0.2.255,4294967296,X\n", 1, "asn", "is not an AS number"),
    ("dbip-asn-csv", "192.0.2.0,192.0.2.255,4294967295,X\n1,2,x,X\n", 2, "asn", "'x'"),
    ("dbip-asn-csv", "3221225984,192.0.2.255,64500,X\n", 1, "last_ip", "as an integer"),
    ("dbip-asn-csv", "192.0.2.0,192.0.2.255,64500,\"Open\n", 1, None, "bad CSV"),
    ("dbip-asn-csv", "192.0.2.01,192.0.2.255,64500,X\n", 1, "first_ip", "not an IP address"),
    ("iptoasn-tsv", "192.0.2.0\t192.0.2.255\t64500\tF1\tX\n", 1, "country_code", "'F1'"),
    ("iptoasn-tsv", "192.0.2.0 192.0.2.255 64500 FR X\n", 1, None, "expected 5 columns"),
    ("ip2location-asn-csv", '"281470681743360","281474976710656","x","64500","X"\n', 1,
     "ip_to", "::ffff:0:0/96"),
    ("ip2location-asn-csv", '"192.0.2.0","192.0.2.255","x","64500","X"\n', 1, "ip_from",
     "as an integer"),
    ("ipinfo-lite-csv", "192.0.2.0/24,France,FR,EU,EU,AS1,X,x.example\n", 1, None,
     "expected the header network,country"),
    ("ipinfo-lite-csv", "network,asn,as_domain\n192.0.2.0/24,AS1,http://x.example/\n", 2,
     "as_domain", "is not a domain name"),
    ("ipinfo-lite-csv", "network,asn\n192.0.2.0/24,AS1,X\n", 2, None, "expected 2 columns"),
    ("overrides-csv", "cidr,asn,organisation\n192.0.2.0/24,64500,Acme\n", 2, "asn", "not both"),
    ("overrides-csv", "cidr,asn,organisation\n,,Acme\n", 2, "cidr", "give a cidr or an asn"),
    ("overrides-csv", "cidr,category\n192.0.2.0/24,company\n", 2, "category",
     "'company' is not one of enterprise"),
    ("overrides-csv", "cidr,organisation,comment\n", 1, "comment", "unknown column"),
    ("overrides-csv", "organisation,role\nAcme,customer\n", 1, None, "a cidr or an asn column"),
    ("overrides-csv", "cidr,note\n192.0.2.0/24,ours\n", 2, None, "nothing to override"),
    ("overrides-csv", "cidr,organisation\n192.0.2.0/33,Acme\n", 2, "cidr", "prefix length"),
    ("rpsl", "inetnum: 192.0.2.9 - 192.0.2.0\n", 1, "inetnum", "inetnum is before inetnum"),
    ("rpsl", "inetnum: 2001:db8::/32\n", 1, "inetnum", "is not an IPv4 prefix"),
    ("rpsl", "   continued\n", 1, None, "a continuation line starts no object"),
    ("rpsl", "inetnum: 192.0.2.0/24\nnetname EXAMPLE\n", 2, None, "expected 'attribute: value'"),
    ("aws-json", "[]", 0, None, "expected an object, found a list"),
    ("aws-json", '{"ipv6_prefixes": []}', 0, "prefixes", "missing"),
    ("aws-json", '{"prefixes": [{"ip_prefix": "2001:db8::/32"}]}', 1, "prefixes[0].ip_prefix",
     "is not an IPv4 prefix"),
    ("azure-json", '{"values": [{"name": "X"}]}', 0, "values[0].properties", "missing"),
    ("oracle-json", '{"regions": [{"cidrs": [{"cidr": 5}]}]}', 0, "regions[0].cidrs[0].cidr",
     "expected a CIDR string, found a number"),
    ("cloudflare", '{"result": {}, "success": true}', 0, "result", "expected ipv4_cidrs"),
]


@pytest.mark.parametrize(("fmt", "content", "line", "field", "message"), INLINE)
def test_validation(
    tmp_path: Path, fmt: str, content: str, line: int, field: str | None, message: str
) -> None:
    path = tmp_path / "data"
    path.write_text(content, encoding="utf-8")
    options: dict[str, Any] = {"acknowledge_registry_terms": True} if fmt == "rpsl" else {}
    with pytest.raises(ImportFormatError) as caught:
        list(read_networks(path, fmt, **options))
    assert (caught.value.line, caught.value.field) == (line, field)
    assert message in caught.value.message


@pytest.mark.parametrize(("fmt", "content", "line"), [
    ("dbip-asn-csv", b"192.0.2.0,192.0.2.255,64500,A\n198.51.100.0,198.51.100.9,1,B\xe9\n", 2),
    ("iptoasn-tsv", b"192.0.2.0\t192.0.2.255\t64500\tFR\t\xff\n", 1),
    ("cidr-list", b"192.0.2.0/24\n\n# \xe9t\xe9\n", 3),
    ("aws-json", b'{"prefixes": [\n{"ip_prefix": "192.0.2.0/24", "service": "\xe9"}]}', 2),
])
def test_non_utf8_names_the_line(tmp_path: Path, fmt: str, content: bytes, line: int) -> None:
    path = tmp_path / "data"
    path.write_bytes(content)
    options: dict[str, Any] = TOR if fmt == "cidr-list" else {}
    with pytest.raises(ImportFormatError, match="not UTF-8") as caught:
        list(read_networks(path, fmt, **options))
    assert caught.value.line == line


def test_rpsl_reads_latin1_lines(tmp_path: Path) -> None:
    path = tmp_path / "ripe.db.inetnum"
    path.write_bytes("inetnum: 192.0.2.0 - 192.0.2.255\ndescr: Société Exemple\n"
                     "country: FR\n".encode("latin-1"))
    records = list(read_networks(path, "rpsl", acknowledge_registry_terms=True))
    assert records == [net("192.0.2.0/24", org_name="Société Exemple", country="FR")]


def test_ranges_written_first_last(tmp_path: Path) -> None:
    path = tmp_path / "ipinfo_lite.csv"
    path.write_text("network,asn\n192.0.2.10-192.0.2.20,AS64500\n", encoding="utf-8")
    expected = net("192.0.2.10 - 192.0.2.20", asn=64500)
    assert list(read_networks(path, "ipinfo-lite-csv")) == [expected]
    path.write_text("2001:db8::1 - 2001:db8::ff\n", encoding="utf-8")
    expected = net("2001:db8::1 - 2001:db8::ff", **TOR)
    assert list(read_networks(path, "cidr-list", **TOR)) == [expected]


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "overrides.csv"
    path.write_bytes(b"\xef\xbb\xbfcidr,organisation\r\n192.0.2.0/24,Acme\r\n")
    assert list(read_networks(path, "overrides-csv")) == [net("192.0.2.0/24", org_name="Acme")]


@pytest.mark.parametrize(("fmt", "content"), [
    ("dbip-asn-csv", ""),
    ("iptoasn-tsv", "198.51.100.0\t198.51.100.255\t0\tNone\tNot routed\n"),
    ("ipinfo-lite-csv", ""),
    ("ipinfo-lite-csv", "network,asn\n192.0.2.0/24,\n"),
    ("aws-json", ""),
    ("aws-json", '{"prefixes": []}'),
    ("cloudflare", "\n"),
    ("cidr-list", "# nothing yet\n"),
    ("overrides-csv", "cidr,organisation\n"),
    ("rpsl", "% no objects\n"),
])
def test_no_ranges_is_an_error(tmp_path: Path, fmt: str, content: str) -> None:
    path = tmp_path / "data"
    path.write_text(content, encoding="utf-8")
    options: dict[str, Any] = {"acknowledge_registry_terms": True} if fmt == "rpsl" else {}
    if fmt == "cidr-list":
        options = TOR
    with pytest.raises(ImportFormatError, match="no ranges") as caught:
        list(read_networks(path, fmt, **options))
    assert caught.value.line == 0


def test_records_stream_before_a_bad_line() -> None:
    records = read_networks(FIXTURES / "bad-dbip-asn.csv", "dbip-asn-csv")
    assert next(records).asn == 64500
    assert next(records).asn == 64501
    with pytest.raises(ImportFormatError):
        next(records)


def test_rpsl_needs_the_terms_acknowledged() -> None:
    with pytest.raises(RegistryTermsNotAcknowledged) as caught:
        read_networks(FIXTURES / "ripe-sample.db", "rpsl")  # raised before any reading
    assert isinstance(caught.value, ValueError)
    assert "marketing" in str(caught.value)
    assert "--i-have-the-right" in str(caught.value)


@pytest.mark.parametrize(("fmt", "options", "message"), [
    ("csv", {}, "unknown format 'csv'"),
    ("cidr-list", {"provider": "Tor"}, "needs a provider name and a kind"),
    ("cidr-list", {"kind": "bot"}, "needs a provider name and a kind"),
    ("cidr-list", {"provider": "Tor", "kind": "proxy"}, "unknown kind 'proxy'"),
    ("cidr-list", {"provider": " ", "kind": "bot"}, "the provider name is empty"),
    ("dbip-asn-csv", {"provider": "X"}, "apply to published ranges, not to 'dbip-asn-csv'"),
])
def test_bad_arguments(fmt: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_networks(FIXTURES / "tor-exits.txt", fmt, **options)


def test_error_text() -> None:
    assert str(ImportFormatError("a.csv", 3, "asn", "bad")) == "a.csv:3: asn: bad"
    assert str(ImportFormatError("a.csv", 0, None, "no ranges")) == "a.csv:0: no ranges"


@pytest.mark.parametrize(("content", "expected"), [
    (b"", 0), (b"a\n", 1), (b"a\nb", 2), (b"a\nb\n\n", 3), (b"x\n" * 300_000, 300_000),
])
def test_count_lines(tmp_path: Path, content: bytes, expected: int) -> None:
    path = tmp_path / "data"
    path.write_bytes(content)
    assert count_lines(path) == expected


def test_overrides_vocabulary_is_the_network_categories() -> None:
    assert "enterprise" in CATEGORIES and "unknown" in CATEGORIES and len(CATEGORIES) == 10


# --- MMDB, written at test time ------------------------------------------------------------


def write_mmdb(path: Path, version: int, networks: dict[str, dict[str, Any]]) -> Path:
    writer = MMDBWriter(ip_version=version, ipv4_compatible=version == 6,
                        database_type="Test-ASN")
    for cidr, record in networks.items():
        writer.insert_network(IPSet([cidr]), record)
    writer.to_db_file(str(path))
    return path


def test_mmdb_geolite2_layout(tmp_path: Path) -> None:
    path = write_mmdb(tmp_path / "asn.mmdb", 6, {
        "192.0.2.0/24": {"autonomous_system_number": 64500,
                         "autonomous_system_organization": "Example Networks"},
        "::ffff:198.51.100.0/120": {"autonomous_system_number": 64501},
        "2001:db8::/32": {"autonomous_system_number": 64502,
                          "autonomous_system_organization": "Example IPv6"},
        "203.0.113.0/24": {"autonomous_system_number": 0},
    })
    assert sorted(read_networks(path, "mmdb"), key=lambda r: (r.version, r.first)) == [
        net("192.0.2.0/24", asn=64500, as_org="Example Networks"),
        net("198.51.100.0/24", asn=64501),
        net("2001:db8::/32", asn=64502, as_org="Example IPv6"),
    ]


def test_mmdb_ipinfo_layout(tmp_path: Path) -> None:
    path = write_mmdb(tmp_path / "ipinfo_lite.mmdb", 4, {
        "192.0.2.0/25": {"asn": "AS64500", "as_name": "Example Networks",
                         "as_domain": "example.net", "country_code": "FR", "country": "France"},
        "198.51.100.0/24": {"asn": "", "country_code": "US", "country": "United States"},
    })
    assert list(read_networks(path, "mmdb")) == [
        net("192.0.2.0/25", asn=64500, as_org="Example Networks", as_domain="example.net",
            country="FR"),
    ]


def test_mmdb_without_asn_keys_names_the_keys_seen(tmp_path: Path) -> None:
    path = write_mmdb(tmp_path / "city.mmdb", 4, {
        "192.0.2.0/24": {"city": {"names": {"en": "Paris"}}, "location": {"time_zone": "X"}},
    })
    with pytest.raises(ImportFormatError, match="keys city, location") as caught:
        list(read_networks(path, "mmdb"))
    assert (caught.value.path, caught.value.line) == (str(path), 0)


def test_mmdb_bad_value(tmp_path: Path) -> None:
    path = write_mmdb(tmp_path / "asn.mmdb", 4, {"192.0.2.0/24": {"asn": "ASX"}})
    with pytest.raises(ImportFormatError, match=r"'ASX' is not an AS number .*192\.0\.2\.0/24"):
        list(read_networks(path, "mmdb"))
    path = write_mmdb(tmp_path / "asn2.mmdb", 4, {"192.0.2.0/24": {"asn": ["AS1"]}})
    with pytest.raises(ImportFormatError, match="wrong type") as caught:
        list(read_networks(path, "mmdb"))
    assert caught.value.field == "asn"


def test_not_an_mmdb(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="not a MaxMind DB file"):
        list(read_networks(FIXTURES / "dbip-asn.csv", "mmdb"))

"""Readers for the network-data files that ``webleads import networks FILE --format F`` takes.

Each reader turns one file format into a stream of :class:`RangeRecord`, checking every
line: a bad line raises :class:`ImportFormatError` naming the file, the 1-based line and
the field. Line-based files (CSV, TSV, text lists, RPSL) are streamed; JSON files are
loaded whole (published lists are a few MB); MMDB files are walked with ``maxminddb``.

==========================  =========  ==============================================
format                      layer      file
==========================  =========  ==============================================
``mmdb``                    asn        GeoLite2-ASN, DB-IP ASN Lite or IPinfo Lite MMDB
``dbip-asn-csv``            asn        ``first_ip,last_ip,asn,as_org`` (also ``-num``)
``iptoasn-tsv``             asn        IPtoASN ``ip2asn-v4.tsv`` / ``-combined.tsv``
``ip2location-asn-csv``     asn        IP2Location LITE ASN, IPv4 or IPv6 file
``ipinfo-lite-csv``         asn        IPinfo Lite CSV (with its header)
``aws-json``                ranges     AWS ``ip-ranges.json``
``google-json``             ranges     ``goog.json``, ``cloud.json``, ``googlebot.json``...
``azure-json``              ranges     Azure Service Tags
``oracle-json``             ranges     Oracle ``public_ip_ranges.json``
``cloudflare``              ranges     Cloudflare API JSON, or ``ips-v4`` / ``ips-v6``
``cidr-list``               ranges     a CIDR, address or range a line (provider, kind)
``overrides-csv``           overrides  the workspace's own ranges and AS numbers
``rpsl``                    registry   RIPE-style RPSL dump (terms must be acknowledged)
==========================  =========  ==============================================

Common rules: addresses in ``::ffff:0:0/96`` are given back as IPv4; AS number 0 (RFC 7607,
"no origin") and the formats' own "no AS" markers skip the line; a file that gives no
range at all is an error (``no ranges``). Text files must be UTF-8 (a BOM is allowed),
except RPSL, where a line that is not UTF-8 is read as Latin-1 (RIPE's dumps are Latin-1).
"""

from __future__ import annotations

import csv
import json
import re
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, Final, Literal, get_args

import maxminddb
from maxminddb.errors import InvalidDatabaseError

from webleads.model import NetworkCategory

Layer = Literal["asn", "ranges", "overrides", "registry"]

FORMATS: dict[str, Layer] = {
    "mmdb": "asn",
    "dbip-asn-csv": "asn",
    "iptoasn-tsv": "asn",
    "ip2location-asn-csv": "asn",
    "ipinfo-lite-csv": "asn",
    "aws-json": "ranges",
    "google-json": "ranges",
    "azure-json": "ranges",
    "oracle-json": "ranges",
    "cloudflare": "ranges",
    "cidr-list": "ranges",
    "overrides-csv": "overrides",
    "rpsl": "registry",
}
KINDS: Final = ("hosting", "bot", "anonymizer", "cdn")
ROLES: Final = ("customer", "office", "partner", "competitor", "isp", "organisation")
CATEGORIES: Final[tuple[str, ...]] = get_args(NetworkCategory)

REGISTRY_TERMS: Final = (
    "Registry databases (RIPE NCC, ARIN, APNIC, LACNIC, AFRINIC) are published under terms "
    "of use that forbid using the data for marketing or advertising. Import one only if you "
    "have the right to use it for this purpose, and confirm it with --i-have-the-right."
)
_NO_RANGES: Final = "no ranges (the file is empty, or every line was skipped)"
_ASN_MAX: Final = 4294967295
_V4_MAX: Final = 0xFFFFFFFF
_V6_MAX: Final = (1 << 128) - 1
_MAPPED: Final = 0xFFFF  # address >> 32 for ::ffff:0:0/96
_AF4: Final = socket.AF_INET
_AF6: Final = socket.AF_INET6
_DOMAIN = re.compile(
    r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
)


@dataclass(frozen=True, slots=True)
class RangeRecord:
    first: int  # first address as int
    last: int  # last address as int (inclusive)
    version: int  # 4 or 6; 0 for an overrides line that names an AS number instead
    asn: int | None = None
    as_org: str | None = None
    country: str | None = None  # ISO 3166 alpha-2, upper-case
    as_domain: str | None = None
    provider: str | None = None  # published ranges: "Amazon AWS", "Googlebot"...
    kind: str | None = None  # published ranges: one of KINDS
    service: str | None = None  # informative: AWS service, Azure tag, GCP scope, RPSL status
    org_name: str | None = None  # overrides and registry
    org_domain: str | None = None
    role: str | None = None  # overrides: one of ROLES
    category: str | None = None  # overrides: one of CATEGORIES


class ImportFormatError(ValueError):
    """A line of an imported file is wrong; ``line`` is 1-based, 0 when not known."""

    def __init__(self, path: str, line: int, field: str | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.message = message
        where = f"{self.path}:{line}: "
        super().__init__(f"{where}{field}: {message}" if field is not None else where + message)


class RegistryTermsNotAcknowledged(ValueError):
    """An RPSL import was asked for without confirming the right to use the data."""

    def __init__(self) -> None:
        super().__init__(REGISTRY_TERMS)


@dataclass(frozen=True, slots=True)
class _Options:
    provider: str | None
    kind: str | None


def read_networks(
    path: str | Path,
    fmt: str,
    *,
    acknowledge_registry_terms: bool = False,
    provider: str | None = None,
    kind: str | None = None,
) -> Iterator[RangeRecord]:
    """Stream the ranges of ``path`` read as ``fmt`` (a key of ``FORMATS``).

    Arguments are checked now (``ValueError``, or ``RegistryTermsNotAcknowledged`` for
    ``rpsl`` without ``acknowledge_registry_terms``); the file is read while iterating,
    and a bad line raises ``ImportFormatError`` at that point. ``provider`` and ``kind``
    apply to the published-range formats only: they replace the provider name and kind
    the format implies, and are both required for ``cidr-list``.
    """
    name = str(path)
    layer = FORMATS.get(fmt)
    if layer is None:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if layer == "registry" and not acknowledge_registry_terms:
        raise RegistryTermsNotAcknowledged()
    if layer != "ranges" and (provider is not None or kind is not None):
        raise ValueError(f"a provider and a kind apply to published ranges, not to {fmt!r}")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if provider is not None and not provider.strip():
        raise ValueError("the provider name is empty")
    if fmt == "cidr-list" and (provider is None or kind is None):
        raise ValueError("the cidr-list format needs a provider name and a kind")
    options = _Options(provider.strip() if provider else None, kind)
    return _require_ranges(name, _READERS[fmt](name, options))


def count_lines(path: str | Path) -> int:
    """The number of lines of ``path`` (newlines, plus an unterminated last line).

    It is the progress total for the line formats, where most lines give one record.
    JSON and MMDB files have no such relation: show an indeterminate progress for them.
    """
    count = 0
    last = b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _require_ranges(path: str, records: Iterator[RangeRecord]) -> Iterator[RangeRecord]:
    count = 0
    for record in records:
        count += 1
        yield record
    if not count:
        raise ImportFormatError(path, 0, None, _NO_RANGES)


# --- field parsers: they raise _Invalid, which the readers place at a line --------------


class _Invalid(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def at(self, path: str, line: int) -> ImportFormatError:
        return ImportFormatError(path, line, self.field, self.message)


def _address(text: str, field: str) -> tuple[int, int]:
    """(value, version) of an address, with inet_pton (much faster than ipaddress)."""
    try:
        if ":" in text:
            return int.from_bytes(socket.inet_pton(_AF6, text), "big"), 6
        return int.from_bytes(socket.inet_pton(_AF4, text), "big"), 4
    except (OSError, ValueError):
        raise _Invalid(field, f"{text!r} is not an IP address") from None


def _integer(text: str, field: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 39 or int(text) > _V6_MAX:
        raise _Invalid(field, f"{text!r} is not an address as an integer")
    return int(text)


def _checked(first: int, last: int, version: int, fields: tuple[str, str]) -> tuple[int, int, int]:
    if first > last:
        raise _Invalid(fields[1], f"{fields[1]} is before {fields[0]}")
    if version == 6:
        first_mapped, last_mapped = first >> 32 == _MAPPED, last >> 32 == _MAPPED
        if first_mapped and last_mapped:
            return first & _V4_MAX, last & _V4_MAX, 4
        if first_mapped != last_mapped:
            raise _Invalid(fields[1], "the range crosses the edge of ::ffff:0:0/96 (IPv4-mapped)")
    return first, last, version


def _ip_range(first_text: str, last_text: str, fields: tuple[str, str]) -> tuple[int, int, int]:
    """A range given as two addresses, or as two integers (DB-IP ``-num``, IP2Location)."""
    first_text, last_text = first_text.strip(), last_text.strip()
    if first_text.isdigit():
        first, last = _integer(first_text, fields[0]), _integer(last_text, fields[1])
        # IPv4 when both ends fit in 32 bits: an IPv6 file gives IPv4 as ::ffff:a.b.c.d
        return _checked(first, last, 4 if last <= _V4_MAX else 6, fields)
    first, version = _address(first_text, fields[0])
    last, last_version = _address(last_text, fields[1])
    if last_version != version:
        message = f"{last_text!r} is IPv{last_version}, {fields[0]} is IPv{version}"
        raise _Invalid(fields[1], message)
    return _checked(first, last, version, fields)


def _cidr(text: str, field: str, version: int | None = None) -> tuple[int, int, int]:
    """A CIDR (host bits must be zero) or a single address."""
    address, slash, length = text.strip().partition("/")
    value, found = _address(address, field)
    bits = 32 if found == 4 else 128
    if version is not None and found != version:
        raise _Invalid(field, f"{text!r} is not an IPv{version} prefix")
    prefix = bits
    if slash:
        if not (length.isascii() and length.isdigit()) or int(length) > bits:
            raise _Invalid(field, f"{text!r}: the prefix length is not 0 to {bits}")
        prefix = int(length)
    host = (1 << (bits - prefix)) - 1
    if value & host:
        network = (IPv4Network if found == 4 else IPv6Network)((value & ~host, prefix))
        raise _Invalid(field, f"{text!r} has host bits set (the network is {network})")
    return _checked(value, value | host, found, (field, field))


def _network(text: str, field: str) -> tuple[int, int, int]:
    """A CIDR, a single address, or a range "first-last" (IPinfo Lite allows the three)."""
    if "-" in text:
        first, _, last = text.partition("-")
        return _ip_range(first, last, (field, field))
    return _cidr(text, field)


def _asn(text: str, field: str) -> int:
    """An AS number, "64500" or "AS64500"."""
    if text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= _ASN_MAX:
        return int(text)  # the common case, first
    value = text.strip()
    if value[:2].upper() == "AS":
        value = value[2:]
    if not (value.isascii() and value.isdigit()) or len(value) > 10 or int(value) > _ASN_MAX:
        raise _Invalid(field, f"{text!r} is not an AS number (0 to {_ASN_MAX})")
    return int(value)


def _country(text: str, field: str) -> str | None:
    value = text.strip()
    if not value:
        return None
    if len(value) != 2 or not (value.isascii() and value.isalpha()):
        raise _Invalid(field, f"{text!r} is not an ISO 3166 alpha-2 country code")
    return value.upper()


def _domain(text: str, field: str) -> str | None:
    value = text.strip().lower().rstrip(".")
    if not value:
        return None
    if len(value) > 253 or not _DOMAIN.fullmatch(value):
        raise _Invalid(field, f"{text!r} is not a domain name (like example.com)")
    return value


def _columns(row: list[str], expected: str) -> _Invalid:
    count = len(expected.split(","))
    return _Invalid(None, f"expected {count} columns ({expected}), found {len(row)}")


# --- reading text files ------------------------------------------------------------------


def _encoding_error(path: str) -> ImportFormatError:
    """Find the first line that is not UTF-8 (only after the fast text read failed)."""
    with open(path, "rb") as fh:
        for line, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return ImportFormatError(path, line, None, f"not UTF-8 (byte 0x{raw[exc.start]:02x}"
                                         f" at column {exc.start + 1}); convert the file to UTF-8")
    return ImportFormatError(path, 0, None, "not UTF-8")


def _csv_rows(path: str, *, tsv: bool = False) -> Iterator[tuple[int, list[str]]]:
    """(first line of the row, row); a TSV has no quoting."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        if tsv:
            reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        else:
            reader = csv.reader(fh, strict=True)
        line = 0
        try:
            for row in reader:
                yield line + 1, row
                line = reader.line_num
        except csv.Error as exc:
            raise ImportFormatError(path, line + 1, None, f"bad CSV: {exc}") from None
        except UnicodeDecodeError:
            raise _encoding_error(path) from None


def _text_lines(path: str) -> Iterator[tuple[int, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        try:
            for line, text in enumerate(fh, start=1):
                yield line, text.rstrip("\r\n")
        except UnicodeDecodeError:
            raise _encoding_error(path) from None


# --- ASN data ----------------------------------------------------------------------------


def _read_dbip_csv(path: str, options: _Options) -> Iterator[RangeRecord]:
    for line, row in _csv_rows(path):
        if not row:
            continue
        try:
            if len(row) != 4:
                raise _columns(row, "first_ip,last_ip,asn,as_org")
            first, last, version = _ip_range(row[0], row[1], ("first_ip", "last_ip"))
            asn = _asn(row[2], "asn")
        except _Invalid as exc:
            raise exc.at(path, line) from None
        if asn:
            yield RangeRecord(first, last, version, asn=asn, as_org=row[3].strip() or None)


def _read_iptoasn_tsv(path: str, options: _Options) -> Iterator[RangeRecord]:
    for line, row in _csv_rows(path, tsv=True):
        if not row:
            continue
        try:
            if len(row) != 5:
                raise _columns(row, "range_start,range_end,AS_number,country_code,AS_description")
            first, last, version = _ip_range(row[0], row[1], ("range_start", "range_end"))
            asn = _asn(row[2], "AS_number")
            country = None if row[3].strip() == "None" else _country(row[3], "country_code")
        except _Invalid as exc:
            raise exc.at(path, line) from None
        if asn:  # 0: not routed
            as_org = row[4].strip() or None
            yield RangeRecord(first, last, version, asn=asn, as_org=as_org, country=country)


def _read_ip2location_csv(path: str, options: _Options) -> Iterator[RangeRecord]:
    for line, row in _csv_rows(path):
        if not row:
            continue
        try:
            if len(row) != 5:
                raise _columns(row, "ip_from,ip_to,cidr,asn,as")
            if not row[0].strip().isdigit():
                raise _Invalid("ip_from", f"{row[0]!r} is not an address as an integer")
            first, last, version = _ip_range(row[0], row[1], ("ip_from", "ip_to"))
            asn = None if row[3].strip() == "-" else _asn(row[3], "asn")
        except _Invalid as exc:
            raise exc.at(path, line) from None
        if asn:  # "-": no AS
            org = row[4].strip()
            as_org = None if org in ("", "-") else org
            yield RangeRecord(first, last, version, asn=asn, as_org=as_org)


_IPINFO_HEADER: Final = (
    "network,country,country_code,continent,continent_code,asn,as_name,as_domain"
)


def _read_ipinfo_csv(path: str, options: _Options) -> Iterator[RangeRecord]:
    rows = _csv_rows(path)
    line, header = next(((at, row) for at, row in rows if row), (0, []))
    columns = {name.strip().lower(): i for i, name in enumerate(header)}
    if header and not {"network", "asn"} <= columns.keys():
        raise ImportFormatError(path, line, None, f"expected the header {_IPINFO_HEADER}")

    def cell(row: list[str], name: str) -> str:
        return row[columns[name]] if name in columns else ""

    for line, row in rows:
        if not row:
            continue
        try:
            if len(row) != len(header):
                raise _columns(row, ",".join(columns))
            first, last, version = _network(cell(row, "network"), "network")
            if not cell(row, "asn").strip():
                continue
            asn = _asn(cell(row, "asn"), "asn")
            country = _country(cell(row, "country_code"), "country_code")
            domain = _domain(cell(row, "as_domain"), "as_domain")
        except _Invalid as exc:
            raise exc.at(path, line) from None
        org = cell(row, "as_name").strip() or None
        yield RangeRecord(first, last, version, asn=asn, as_org=org, country=country,
                          as_domain=domain)


_MMDB_KEYS: Final = ("autonomous_system_number", "asn")
_MMDB_PROBE: Final = 10_000  # records without a known key before deciding it is another layout


def _read_mmdb(path: str, options: _Options) -> Iterator[RangeRecord]:
    try:
        reader = maxminddb.open_database(path)
    except (InvalidDatabaseError, ValueError) as exc:
        raise ImportFormatError(path, 0, None, f"not a MaxMind DB file ({exc})") from None
    known = count = 0
    seen: set[str] = set()
    with reader:
        try:
            for count, (network, record) in enumerate(reader, start=1):
                if isinstance(record, dict) and any(key in record for key in _MMDB_KEYS):
                    known += 1
                    found = _mmdb_record(path, str(network), record)
                    if found is not None:
                        first, last = int(network.network_address), int(network.broadcast_address)
                        if network.version == 6 and first >> 32 == last >> 32 == _MAPPED:
                            yield RangeRecord(first & _V4_MAX, last & _V4_MAX, 4, *found)
                        else:
                            yield RangeRecord(first, last, network.version, *found)
                    continue
                if isinstance(record, dict):
                    seen.update(record)
                if not known and count >= _MMDB_PROBE:
                    break
        except InvalidDatabaseError as exc:
            raise ImportFormatError(path, 0, None, f"damaged MaxMind DB file ({exc})") from None
    if count and not known:
        keys = ", ".join(sorted(seen)[:20]) or "none (they are not maps)"
        message = f"no ASN data: records have the keys {keys}, none of {', '.join(_MMDB_KEYS)}"
        raise ImportFormatError(path, 0, None, message)


def _mmdb_record(
    path: str, network: str, record: dict[str, Any]
) -> tuple[int, str | None, str | None, str | None] | None:
    """(asn, as_org, country, as_domain) of a GeoLite2/DB-IP or an IPinfo Lite record."""
    maxmind = "autonomous_system_number" in record
    keys = (("autonomous_system_number", "autonomous_system_organization", "", "") if maxmind
            else ("asn", "as_name", "country_code", "as_domain"))
    values = [record.get(key) if key else None for key in keys]
    for key, value in zip(keys, values, strict=True):
        if isinstance(value, bool) or not isinstance(value, str | int | None):
            message = f"{value!r} has the wrong type (network {network})"
            raise ImportFormatError(path, 0, key, message)
    asn, org, country, domain = ("" if value is None else str(value) for value in values)
    if not asn:
        return None
    try:
        number = _asn(asn, keys[0])
        found = (number, org.strip() or None, _country(country, keys[2]), _domain(domain, keys[3]))
    except _Invalid as exc:
        raise ImportFormatError(path, 0, exc.field, f"{exc.message} (network {network})") from None
    return found if number else None


# --- published ranges (JSON) ---------------------------------------------------------------


class _JsonFile:
    """A JSON document and its text, to give errors a JSON path and, when possible, a line."""

    def __init__(self, path: str) -> None:
        self.path = path
        data = Path(path).read_bytes()
        try:
            self.text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise ImportFormatError(path, line, None, "not UTF-8") from None
        if not self.text.strip():
            raise ImportFormatError(path, 0, None, _NO_RANGES)
        try:
            self.root: Any = json.loads(self.text)
        except json.JSONDecodeError as exc:
            message = f"not valid JSON: {exc.msg} (column {exc.colno})"
            raise ImportFormatError(path, exc.lineno, None, message) from None

    def fail(self, field: str | None, message: str, value: object = None) -> ImportFormatError:
        """The line is found when the faulty string value occurs once in the file."""
        line = 0
        if isinstance(value, str) and value:
            needle = json.dumps(value, ensure_ascii=False)
            at = self.text.find(needle)
            if at >= 0 and self.text.find(needle, at + 1) < 0:
                line = self.text.count("\n", 0, at) + 1
        return ImportFormatError(self.path, line, field, message)

    def obj(self, value: object, field: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(field or None, f"expected an object, found {_json_type(value)}")
        return value

    def array(self, value: object, field: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(field, f"expected a list, found {_json_type(value)}")
        return value

    def member(self, obj: dict[str, Any], key: str, where: str) -> Any:
        if key not in obj:
            raise self.fail(f"{where}.{key}" if where else key, "missing")
        return obj[key]

    def string(self, value: object, field: str) -> str | None:
        """An optional string."""
        if value is not None and not isinstance(value, str):
            raise self.fail(field, f"expected a string, found {_json_type(value)}")
        return value

    def prefix(self, value: object, field: str, version: int | None = None) -> tuple[int, int, int]:
        if not isinstance(value, str):
            raise self.fail(field, f"expected a CIDR string, found {_json_type(value)}")
        try:
            return _cidr(value, field, version)
        except _Invalid as exc:
            raise self.fail(field, exc.message, value) from None


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _ranked(found: Iterable[tuple[int, RangeRecord]]) -> Iterator[RangeRecord]:
    """Identical prefixes once; a higher rank (a more specific service) replaces a lower one."""
    best: dict[tuple[int, int, int], tuple[int, RangeRecord]] = {}
    for rank, record in found:
        key = (record.version, record.first, record.last)
        held = best.get(key)
        if held is None or rank > held[0]:
            best[key] = (rank, record)
    return (record for _, record in best.values())


def _read_aws_json(path: str, options: _Options) -> Iterator[RangeRecord]:
    doc = _JsonFile(path)
    root = doc.obj(doc.root, "")
    provider, kind = options.provider or "Amazon AWS", options.kind or "hosting"
    found: list[tuple[int, RangeRecord]] = []
    lists = (("prefixes", "ip_prefix", 4), ("ipv6_prefixes", "ipv6_prefix", 6))
    for key, prefix_key, version in lists:
        items = doc.member(root, key, "") if version == 4 else root.get(key, [])
        for i, item in enumerate(doc.array(items, key)):
            where = f"{key}[{i}]"
            entry = doc.obj(item, where)
            value = doc.member(entry, prefix_key, where)
            first, last, found_version = doc.prefix(value, f"{where}.{prefix_key}", version)
            for name in ("region", "network_border_group"):
                doc.string(entry.get(name), f"{where}.{name}")
            service = doc.string(entry.get("service"), f"{where}.service")
            record = RangeRecord(first, last, found_version, provider=provider, kind=kind,
                                 service=service)
            found.append((0 if service in (None, "AMAZON") else 1, record))  # AMAZON: all of AWS
    yield from _ranked(found)


_GOOGLE_CRAWLERS: Final = (
    ("googlebot", "Googlebot"),
    ("special-crawlers", "Google special crawlers"),
    ("user-triggered-fetchers", "Google user-triggered fetchers"),
    ("crawler", "Google crawlers"),
    ("fetcher", "Google fetchers"),
)


def _read_google_json(path: str, options: _Options) -> Iterator[RangeRecord]:
    doc = _JsonFile(path)
    root = doc.obj(doc.root, "")
    found: list[tuple[tuple[int, int, int], str | None]] = []
    cloud = False
    for i, item in enumerate(doc.array(doc.member(root, "prefixes", ""), "prefixes")):
        where = f"prefixes[{i}]"
        entry = doc.obj(item, where)
        keys = [key for key in ("ipv4Prefix", "ipv6Prefix") if key in entry]
        if len(keys) != 1:
            raise doc.fail(where, "expected one of ipv4Prefix or ipv6Prefix")
        key = keys[0]
        prefix = doc.prefix(entry[key], f"{where}.{key}", 4 if key == "ipv4Prefix" else 6)
        scope = doc.string(entry.get("scope"), f"{where}.scope")
        service = doc.string(entry.get("service"), f"{where}.service")
        cloud = cloud or scope is not None
        found.append((prefix, scope or service))
    filename = Path(path).name.lower()
    crawler = next((name for part, name in _GOOGLE_CRAWLERS if part in filename), None)
    provider = options.provider or crawler or ("Google Cloud" if cloud else "Google")
    named_bot = options.provider is not None and _names_a_crawler(options.provider)
    kind = options.kind or ("bot" if named_bot or crawler else "hosting")
    records = (RangeRecord(*prefix, provider=provider, kind=kind, service=service)
               for prefix, service in found)
    yield from _ranked((0, record) for record in records)


def _names_a_crawler(provider: str) -> bool:
    name = provider.lower()
    return any(word in name for word in ("bot", "crawl", "fetch", "spider"))


def _read_azure_json(path: str, options: _Options) -> Iterator[RangeRecord]:
    doc = _JsonFile(path)
    root = doc.obj(doc.root, "")
    provider, kind = options.provider or "Microsoft Azure", options.kind or "hosting"
    found: list[tuple[int, RangeRecord]] = []
    for i, item in enumerate(doc.array(doc.member(root, "values", ""), "values")):
        where = f"values[{i}]"
        entry = doc.obj(item, where)
        name = doc.string(doc.member(entry, "name", where), f"{where}.name")
        where = f"{where}.properties"
        properties = doc.obj(doc.member(entry, "properties", f"values[{i}]"), where)
        system = doc.string(properties.get("systemService"), f"{where}.systemService")
        prefixes = doc.array(doc.member(properties, "addressPrefixes", where),
                             f"{where}.addressPrefixes")
        for j, value in enumerate(prefixes):
            prefix = doc.prefix(value, f"{where}.addressPrefixes[{j}]")
            record = RangeRecord(*prefix, provider=provider, kind=kind, service=name)
            found.append((1 if system else 0, record))  # no systemService: AzureCloud and regions
    yield from _ranked(found)


def _read_oracle_json(path: str, options: _Options) -> Iterator[RangeRecord]:
    doc = _JsonFile(path)
    root = doc.obj(doc.root, "")
    provider, kind = options.provider or "Oracle Cloud", options.kind or "hosting"
    found: list[tuple[int, RangeRecord]] = []
    for i, item in enumerate(doc.array(doc.member(root, "regions", ""), "regions")):
        where = f"regions[{i}]"
        region = doc.obj(item, where)
        doc.string(region.get("region"), f"{where}.region")
        for j, cidr in enumerate(doc.array(doc.member(region, "cidrs", where), f"{where}.cidrs")):
            at = f"{where}.cidrs[{j}]"
            entry = doc.obj(cidr, at)
            prefix = doc.prefix(doc.member(entry, "cidr", at), f"{at}.cidr")
            tags = doc.array(entry.get("tags", []), f"{at}.tags")
            for k, tag in enumerate(tags):
                if not isinstance(tag, str):
                    raise doc.fail(f"{at}.tags[{k}]", f"expected a string, found {_json_type(tag)}")
            record = RangeRecord(*prefix, provider=provider, kind=kind,
                                 service=",".join(tags) or None)
            found.append((0, record))
    yield from _ranked(found)


def _read_cloudflare(path: str, options: _Options) -> Iterator[RangeRecord]:
    provider, kind = options.provider or "Cloudflare", options.kind or "cdn"
    with open(path, "rb") as fh:
        head = fh.read(1024).removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head.startswith(b"{"):
        yield from _cidr_lines(path, provider, kind)
        return
    doc = _JsonFile(path)
    root = doc.obj(doc.root, "")
    if root.get("success") is False:
        raise doc.fail("success", f"the API answered an error: {root.get('errors')!r}")
    result = doc.obj(doc.member(root, "result", ""), "result")
    if "ipv4_cidrs" not in result and "ipv6_cidrs" not in result:
        raise doc.fail("result", "expected ipv4_cidrs or ipv6_cidrs")
    for key, version in (("ipv4_cidrs", 4), ("ipv6_cidrs", 6)):
        for j, value in enumerate(doc.array(result.get(key, []), f"result.{key}")):
            prefix = doc.prefix(value, f"result.{key}[{j}]", version)
            yield RangeRecord(*prefix, provider=provider, kind=kind)


def _read_cidr_list(path: str, options: _Options) -> Iterator[RangeRecord]:
    assert options.provider is not None and options.kind is not None  # read_networks checks
    yield from _cidr_lines(path, options.provider, options.kind)


def _cidr_lines(path: str, provider: str, kind: str) -> Iterator[RangeRecord]:
    """A CIDR, an address or a range "first-last" a line; blanks and ``#`` comments skipped."""
    for line, text in _text_lines(path):
        value = text.partition("#")[0].strip()
        if not value:
            continue
        try:
            prefix = _network(value, "cidr")
        except _Invalid as exc:
            raise exc.at(path, line) from None
        yield RangeRecord(*prefix, provider=provider, kind=kind)


# --- the workspace's overrides -----------------------------------------------------------------

_OVERRIDE_COLUMNS: Final = ("cidr", "asn", "organisation", "domain", "role", "category", "note")
_OVERRIDE_ALIASES: Final = {"organization": "organisation"}


def _read_overrides_csv(path: str, options: _Options) -> Iterator[RangeRecord]:
    """The workspace's own networks: a CSV with a header, columns in any order.

    ``cidr,asn,organisation,domain,role,category,note`` (``organization`` is accepted):
    each line gives exactly one of ``cidr`` (a CIDR, an address or a range "first-last")
    or ``asn`` ("64500" or "AS64500"), and at least one of ``organisation``, ``domain``,
    ``role`` (customer, office, partner, competitor, isp, organisation) or ``category``
    (enterprise, education, government, isp, mobile, hosting, anonymizer, bot, reserved,
    unknown); role and category are case-insensitive, the domain is lower-cased.
    ``note`` is for people and is not read. Only a cidr or an asn column is required in
    the header. An ``asn`` line gives ``first = last = version = 0``. Blank lines and
    lines starting with ``#`` are skipped.
    """
    names: list[str] = []
    for line, row in _csv_rows(path):
        if not row or row[0].lstrip().startswith("#"):
            continue
        if not names:
            names = _override_header(path, line, row)
            continue
        try:
            if len(row) != len(names):
                raise _columns(row, ",".join(names))
            yield _override(dict(zip(names, (cell.strip() for cell in row), strict=True)))
        except _Invalid as exc:
            raise exc.at(path, line) from None


def _override_header(path: str, line: int, row: list[str]) -> list[str]:
    names = [_OVERRIDE_ALIASES.get(name, name) for name in (c.strip().lower() for c in row)]
    for name in names:
        if name not in _OVERRIDE_COLUMNS:
            allowed = ",".join(_OVERRIDE_COLUMNS)
            raise ImportFormatError(path, line, name, f"unknown column; the columns are {allowed}")
        if names.count(name) > 1:
            raise ImportFormatError(path, line, name, "the column is given twice")
    if "cidr" not in names and "asn" not in names:
        raise ImportFormatError(path, line, None, "the header needs a cidr or an asn column")
    return names


def _override(values: dict[str, str]) -> RangeRecord:
    cidr, asn = values.get("cidr", ""), values.get("asn", "")
    if not cidr and not asn:
        raise _Invalid("cidr", "give a cidr or an asn")
    if cidr and asn:
        raise _Invalid("asn", "give a cidr or an asn, not both")
    role = values.get("role", "").lower() or None
    if role is not None and role not in ROLES:
        raise _Invalid("role", f"{role!r} is not one of {', '.join(ROLES)}")
    category = values.get("category", "").lower() or None
    if category is not None and category not in CATEGORIES:
        raise _Invalid("category", f"{category!r} is not one of {', '.join(CATEGORIES)}")
    org = values.get("organisation") or None
    domain = _domain(values.get("domain", ""), "domain")
    if not (org or domain or role or category):
        raise _Invalid(None, "nothing to override: give an organisation, a domain, a role "
                             "or a category")
    first, last, version = _network(cidr, "cidr") if cidr else (0, 0, 0)
    return RangeRecord(first, last, version, asn=_asn(asn, "asn") if asn else None,
                       org_name=org, org_domain=domain, role=role, category=category)


# --- registry (RPSL) -----------------------------------------------------------------------------

_RpslObject = list[tuple[int, str, str]]  # (line, attribute, value)
_ATTRIBUTE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def _read_rpsl(path: str, options: _Options) -> Iterator[RangeRecord]:
    """inetnum/inet6num objects, named from their ``org:`` (read in a first pass) or descr.

    ``service`` holds the object's ``status`` (ASSIGNED PA, ALLOCATED PA...): an allocation
    names the registry member (often an ISP), an assignment the network's user.
    """
    names: dict[str, str] = {}
    for obj in _rpsl_objects(path, ("organisation",)):
        name = _rpsl_first(obj, "org-name")
        if name:
            names[obj[0][2].upper()] = name
    for obj in _rpsl_objects(path, ("inetnum", "inet6num")):
        line, kind, value = obj[0]
        try:
            first, last, version = _rpsl_range(value, kind)
            at, text = next(((at, text) for at, key, text in obj if key == "country"), (0, ""))
            line = at or line
            country = _country(text, "country")
        except _Invalid as exc:
            raise exc.at(path, line) from None
        org = _rpsl_first(obj, "org")
        org_name = (names.get(org.upper()) if org else None) or _rpsl_first(obj, "descr") \
            or _rpsl_first(obj, "netname")
        yield RangeRecord(first, last, version, country=country, org_name=org_name,
                          service=_rpsl_first(obj, "status"))


def _rpsl_range(value: str, kind: str) -> tuple[int, int, int]:
    version = 4 if kind == "inetnum" else 6
    if "/" in value or "-" not in value:
        return _cidr(value, kind, version)
    first_text, _, last_text = value.partition("-")
    first, last, found = _ip_range(first_text, last_text, (kind, kind))
    if found != version:
        raise _Invalid(kind, f"{value!r} is not an IPv{version} range")
    return first, last, found


def _rpsl_first(obj: _RpslObject, attribute: str) -> str | None:
    return next((value for _, key, value in obj if key == attribute and value), None)


def _rpsl_objects(path: str, classes: tuple[str, ...]) -> Iterator[_RpslObject]:
    """The objects of the given classes (their first attribute); others are skipped unread.

    Objects are separated by blank lines; ``%`` and ``#`` start comment lines, and ``#``
    a comment at the end of a value; a line starting with a space, a tab or ``+``
    continues the previous value.
    """
    obj: _RpslObject = []
    skipping = False
    with open(path, "rb") as fh:
        for line, raw in enumerate(fh, start=1):
            if raw.isspace():
                if obj:
                    yield obj
                    obj = []
                skipping = False
                continue
            if skipping or raw[:1] in (b"%", b"#"):
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            if text[0] in " \t+":
                if not obj:
                    message = "a continuation line starts no object"
                    raise ImportFormatError(path, line, None, message)
                at, key, value = obj[-1]
                more = text[1:].partition("#")[0].strip()
                obj[-1] = (at, key, f"{value} {more}".strip())
                continue
            key, colon, value = text.partition(":")
            if not colon or not _ATTRIBUTE.fullmatch(key):
                raise ImportFormatError(path, line, None, "expected 'attribute: value'")
            key = key.lower()
            if not obj and key not in classes:
                skipping = True
                continue
            obj.append((line, key, value.partition("#")[0].strip()))
    if obj:
        yield obj


_READERS: Final[dict[str, Callable[[str, _Options], Iterator[RangeRecord]]]] = {
    "mmdb": _read_mmdb,
    "dbip-asn-csv": _read_dbip_csv,
    "iptoasn-tsv": _read_iptoasn_tsv,
    "ip2location-asn-csv": _read_ip2location_csv,
    "ipinfo-lite-csv": _read_ipinfo_csv,
    "aws-json": _read_aws_json,
    "google-json": _read_google_json,
    "azure-json": _read_azure_json,
    "oracle-json": _read_oracle_json,
    "cloudflare": _read_cloudflare,
    "cidr-list": _read_cidr_list,
    "overrides-csv": _read_overrides_csv,
    "rpsl": _read_rpsl,
}

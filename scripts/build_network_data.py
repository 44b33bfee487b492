"""Rebuild the network data shipped in webleads/networks/data/ from its public sources.

    .venv/bin/python scripts/build_network_data.py [--work DIR]

Fetches, through the package registries only (``npm pack`` and ``pip download``):

- ``@ip-location-db/asn`` (ASN of every routed range: RouteViews + DB-IP ASN Lite,
  CC BY 4.0) -> ``asn.mmdb``;
- ``@ip-location-db/asn-country`` (registration country of every range, from the
  NRO delegation statistics, CC0 with attribution to the NRO) -> ``country.mmdb``;
- the ``iporigin`` wheel's range table (cloud, CDN, crawler, Tor and VPN ranges the
  providers publish, merged from their own feeds and CC0 community lists) ->
  ``ranges.mmdb``.  The labels that iporigin took from lists without a licence
  (used there with a verbal permission) are left out: see EXCLUDED_PROVIDERS; so are
  hosting ranges lying on networks the curated table calls ISP or mobile.

and writes ``sources.json``, the manifest ``webleads data status`` shows.  The
versions are pinned below; bump them to refresh the snapshot.
"""

from __future__ import annotations

import argparse
import csv
import json
import socket
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webleads.networks.compile import write_mmdb  # noqa: E402

DATA = ROOT / "webleads" / "networks" / "data"
ASN_PACKAGE = "@ip-location-db/asn@2.3.2026061719"
COUNTRY_PACKAGE = "@ip-location-db/asn-country@2.3.2026061719"
IPORIGIN = "iporigin==1.1.2"

# Labels iporigin compiled from repositories that publish no licence (see its NOTICE):
# we do not redistribute them.  Their networks are still known by ASN (curated table).
EXCLUDED_PROVIDERS = frozenset({
    "Cogent", "DataCamp", "Contabo", "Vercel", "CDN77", "GleSYS", "Scalaxy", "GTHost",
    "Melbicom", "BuyVM", "BunnyCDN", "Akamai",
})
KINDS = {"hosting": "hosting", "cdn": "hosting", "vpn": "anonymizer", "tor": "anonymizer",
         "bot": "bot"}


def npm_pack(spec: str, work: Path) -> Path:
    out = subprocess.run(["npm", "pack", "--silent", spec], cwd=work, check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
    target = work / spec.split("@")[1].replace("/", "-")
    with tarfile.open(work / out) as tar:
        tar.extractall(target, filter="data")
    return target / "package"


def pip_wheel(spec: str, work: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", spec,
                    "-d", str(work)], check=True)
    wheel = next(work.glob(spec.split("==")[0] + "-*.whl"))
    target = work / "iporigin"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    return target


def address(text: str) -> tuple[int, int]:
    if ":" in text:
        return int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big"), 6
    return int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big"), 4


def csv_ranges(*paths: Path) -> Iterator[tuple[int, int, int, list[str]]]:
    for path in paths:
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                first, version = address(row[0])
                last, _ = address(row[1])
                yield first, last, version, row[2:]


def build_asn(package: Path) -> int:
    files = (package / "asn-ipv4.csv", package / "asn-ipv6.csv")
    # The structural heuristic needs the size of each AS: IPv4 /24 blocks it announces.
    blocks: dict[int, int] = defaultdict(int)
    rows = list(csv_ranges(*files))
    for first, last, version, (asn, _org) in rows:
        if version == 4:
            blocks[int(asn)] += max(1, (last - first + 1) // 256)
    ranges = ((first, last, version, {"asn": int(asn), "org": org, "blocks": blocks[int(asn)]})
              for first, last, version, (asn, org) in rows)
    return write_mmdb(DATA / "asn.mmdb", ranges, database_type="webleads-asn",
                      description="ASN per range: RouteViews + DB-IP ASN Lite (CC BY 4.0)")


def build_country(package: Path) -> int:
    files = (package / "asn-country-ipv4.csv", package / "asn-country-ipv6.csv")
    ranges = ((first, last, version, {"country": cc.upper()})
              for first, last, version, (cc,) in csv_ranges(*files))
    return write_mmdb(DATA / "country.mmdb", ranges, database_type="webleads-country",
                      description="Registration country per range (NRO statistics, CC0)")


def build_ranges(iporigin: Path) -> tuple[int, str, list[str]]:
    sys.path.insert(0, str(iporigin))
    from iporigin._data import dataset  # type: ignore[import-not-found]

    data: Any = dataset()
    kept: set[str] = set()
    # A published *hosting* range that the ASN snapshot puts on a network the curated
    # table calls an ISP or mobile operator is a stale or mislabelled entry (found:
    # "Scaleway" on Free Mobile, AWS on Verizon Business, Gcore on Orange): left out.
    import maxminddb

    from webleads.networks.sources import load_curated

    curated = load_curated()
    asn_reader = maxminddb.open_database(str(DATA / "asn.mmdb"))
    dropped: dict[str, int] = defaultdict(int)

    def on_consumer_network(first: int, version: int) -> bool:
        packed = first.to_bytes(4 if version == 4 else 16, "big")
        ip = socket.inet_ntop(socket.AF_INET if version == 4 else socket.AF_INET6, packed)
        record = asn_reader.get(ip)
        row = curated.get(record["asn"]) if isinstance(record, dict) else None
        return row is not None and row.category in ("isp", "mobile")

    def records() -> Iterator[tuple[int, int, int, dict[str, Any]]]:
        for version, starts, ends, labels in ((4, data.v4_starts, data.v4_ends, data.v4_labels),
                                              (6, data.v6_starts, data.v6_ends, data.v6_labels)):
            for first, last, label in zip(starts, ends, labels, strict=True):
                provider, kind = data.labels[label]
                if provider in EXCLUDED_PROVIDERS:
                    continue
                if KINDS[kind] == "hosting" and on_consumer_network(first, version):
                    dropped[provider] += 1
                    continue
                kept.add(provider)
                yield first, last, version, {"provider": provider, "kind": KINDS[kind]}

    count = write_mmdb(DATA / "ranges.mmdb", records(), database_type="webleads-ranges",
                       description="Published cloud, CDN, crawler, Tor and VPN ranges")
    print("hosting ranges left out (on curated ISP/mobile networks):", dict(dropped))
    built = datetime.fromtimestamp(data.built_at, UTC).date().isoformat()
    return count, built, sorted(kept)


def package_date(version: str) -> str:
    stamp = version.rsplit(".", 1)[1]  # 2026061719 -> 2026-06-17
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="download directory (default: a temp dir)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="webleads-data-"))
    work.mkdir(parents=True, exist_ok=True)

    asn_n = build_asn(npm_pack(ASN_PACKAGE, work))
    country_n = build_country(npm_pack(COUNTRY_PACKAGE, work))
    ranges_n, ranges_date, providers = build_ranges(pip_wheel(IPORIGIN, work))
    manifest = {
        "asn": {
            "file": "asn.mmdb", "ranges": asn_n, "date": package_date(ASN_PACKAGE),
            "name": "ASN snapshot (ip-location-db asn: RouteViews + DB-IP ASN Lite)",
            "licence": "CC BY 4.0",
            "attribution": "IP to ASN data by DB-IP (https://db-ip.com), CC BY 4.0; "
                           "RouteViews (University of Oregon); packaged by ip-location-db.",
            "origin": ASN_PACKAGE + " (npm)",
        },
        "country": {
            "file": "country.mmdb", "ranges": country_n, "date": package_date(COUNTRY_PACKAGE),
            "name": "Registration country (ip-location-db asn-country)",
            "licence": "CC0 1.0; NRO statistics CC BY 4.0",
            "attribution": "Delegation statistics of the Number Resource Organization "
                           "(https://www.nro.net), packaged by ip-location-db.",
            "origin": COUNTRY_PACKAGE + " (npm)",
        },
        "ranges": {
            "file": "ranges.mmdb", "ranges": ranges_n, "date": ranges_date,
            "name": "Published cloud, CDN, crawler, Tor and VPN ranges",
            "licence": "providers' public feeds; CC0 community lists; compiled by iporigin (MIT)",
            "attribution": "Compiled by iporigin 1.1.2 (Yuix Networks, MIT) from the "
                           "providers' published feeds and the CC0 lists "
                           "rezmoss/cloud-provider-ip-addresses and lord-alfred/ipranges.",
            "origin": IPORIGIN + " (wheel)",
            "providers": providers,
        },
    }
    (DATA / "sources.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    print(json.dumps({k: v["ranges"] for k, v in manifest.items()}))


if __name__ == "__main__":
    main()

"""Where network data lives: the snapshot shipped in the package, and user imports.

Shipped (``webleads/networks/data/``, described by its ``sources.json``):
``asn.mmdb`` (ASN snapshot), ``country.mmdb``, ``ranges.mmdb`` (published cloud,
crawler, Tor and VPN ranges), ``curated_asns.csv`` (the project's reviewed table) and
``freemail_domains.txt``.

Imported (``webleads import networks``): one MMDB file per layer and format in
``<WEBLEADS_DATA_DIR>/networks/``, recorded in that folder's ``sources.json``.  An
import of the same format replaces the previous one; imports are consulted before
the shipped snapshot of their layer.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from webleads.model import NetworkCategory

SHIPPED = Path(__file__).resolve().parent / "data"
LAYERS = ("registry", "ranges", "asn", "country")
CURATED_CATEGORIES = frozenset({
    "enterprise", "education", "government", "isp", "mobile", "hosting", "anonymizer", "bot",
})


@dataclass(frozen=True, slots=True)
class Source:
    """One data file and what the product says about it (``webleads data status``)."""

    key: str
    layer: str
    path: Path
    name: str
    date: str
    licence: str
    attribution: str
    ranges: int
    shipped: bool

    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0


@dataclass(frozen=True, slots=True)
class CuratedAsn:
    asn: int
    category: NetworkCategory
    brand: str
    domain: str | None
    country: str | None


def imported_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / "networks"


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        loaded = json.loads((folder / "sources.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def shipped_sources() -> list[Source]:
    manifest = _manifest(SHIPPED)
    return [
        Source(key=key, layer=key, path=SHIPPED / entry["file"], name=entry["name"],
               date=entry["date"], licence=entry["licence"], attribution=entry["attribution"],
               ranges=int(entry["ranges"]), shipped=True)
        for key, entry in manifest.items()
        if (SHIPPED / entry["file"]).exists()
    ]


def imported_sources(data_dir: str | Path) -> list[Source]:
    """User imports, newest first."""
    folder = imported_dir(data_dir)
    manifest = _manifest(folder)
    found = [
        Source(key=key, layer=entry["layer"], path=folder / entry["file"],
               name=entry["name"], date=entry["date"], licence=entry.get("licence", ""),
               attribution=entry.get("attribution", ""), ranges=int(entry["ranges"]),
               shipped=False)
        for key, entry in manifest.items()
        if (folder / entry["file"]).exists()
    ]
    found.sort(key=lambda s: s.date, reverse=True)
    return found


def record_import(data_dir: str | Path, *, key: str, layer: str, file: str, name: str,
                  ranges: int, licence: str = "", attribution: str = "") -> None:
    """Add or replace an import in the manifest (written atomically)."""
    folder = imported_dir(data_dir)
    manifest = _manifest(folder)
    manifest[key] = {
        "layer": layer, "file": file, "name": name, "ranges": ranges, "licence": licence,
        "attribution": attribution, "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    tmp = folder / "sources.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, folder / "sources.json")


def load_curated(path: Path = SHIPPED / "curated_asns.csv") -> Mapping[int, CuratedAsn]:
    table: dict[int, CuratedAsn] = {}
    if not path.exists():
        return table
    with open(path, newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            category = row["category"].strip()
            if category not in CURATED_CATEGORIES:
                raise ValueError(f"{path}:{line}: category: {category!r}")
            asn = int(row["asn"])
            table[asn] = CuratedAsn(
                asn=asn, category=category,  # type: ignore[arg-type]
                brand=row["brand"].strip(), domain=row["domain"].strip() or None,
                country=row["country"].strip().upper() or None,
            )
    return table


def load_freemail(path: Path = SHIPPED / "freemail_domains.txt") -> frozenset[str]:
    if not path.exists():
        return frozenset()
    with open(path, encoding="utf-8") as fh:
        return frozenset(
            line.strip().lower() for line in fh
            if line.strip() and not line.lstrip().startswith("#")
        )


def status_rows(data_dir: str | Path, *, enabled: bool = True) -> list[dict[str, Any]]:
    """Every data source in use, for ``webleads data status`` and ``/api/data-sources``:
    name, layer, date, entries, size, licence and attribution (imports first)."""
    if not enabled:
        return []
    rows: list[dict[str, Any]] = [
        {"source": s.key, "layer": s.layer, "name": s.name, "date": s.date,
         "ranges": s.ranges, "size": s.size, "licence": s.licence,
         "attribution": s.attribution, "shipped": s.shipped, "path": str(s.path)}
        for s in imported_sources(data_dir) + shipped_sources()
    ]
    project = "AGPL-3.0-or-later"
    for key, layer, name, path, count in (
        ("curated", "curated", "Curated ASN table (webleads-tracker)",
         SHIPPED / "curated_asns.csv", len(load_curated())),
        ("freemail", "e-mail", "Free-mail and ISP mail domains (webleads-tracker)",
         SHIPPED / "freemail_domains.txt", len(load_freemail())),
    ):
        if path.exists():
            rows.append({"source": key, "layer": layer, "name": name,
                         "date": datetime.fromtimestamp(path.stat().st_mtime, UTC)
                         .date().isoformat(),
                         "ranges": count, "size": path.stat().st_size, "licence": project,
                         "attribution": "Reviewed by the webleads-tracker project."
                         if key == "curated" else "", "shipped": True, "path": str(path)})
    return rows

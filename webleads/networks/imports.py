"""``webleads import networks``: a file in any supported format -> a layer of the identifier.

ASN, published-ranges and registry formats are compiled into one MMDB file per layer
and format (``<data_dir>/networks/<layer>-<format>[-<provider>].mmdb``), replacing
the previous import of the same kind; the manifest records what, when and how many.
An overrides CSV becomes rows of the workspace's ``network_overrides``.

Nothing is written until the whole file has been read and validated: a bad line
(reported with its number) leaves the previous data in place.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from webleads.networks.compile import write_mmdb
from webleads.networks.importers import FORMATS, RangeRecord, read_networks
from webleads.networks.overrides import Override
from webleads.networks.sources import imported_dir, record_import

KIND_CATEGORY = {"hosting": "hosting", "cdn": "hosting", "bot": "bot",
                 "anonymizer": "anonymizer"}
LICENCES = {
    "mmdb": "as published by the file's provider (GeoLite2: MaxMind EULA, not "
            "redistributable; DB-IP Lite: CC BY 4.0; IPinfo Lite: CC BY-SA 4.0)",
    "dbip-asn-csv": "DB-IP ASN Lite: CC BY 4.0",
    "iptoasn-tsv": "IPtoASN: PDDL",
    "ip2location-asn-csv": "IP2Location LITE: CC BY-SA 4.0",
    "ipinfo-lite-csv": "IPinfo Lite: CC BY-SA 4.0",
    "rpsl": "registry terms of use (acknowledged by the user)",
}


@dataclass(frozen=True, slots=True)
class ImportResult:
    layer: str
    ranges: int
    path: Path | None  # the MMDB file written (None for overrides)


def import_networks(
    path: str | Path,
    fmt: str,
    *,
    data_dir: str | Path,
    engine: Engine | None = None,
    workspace_id: int = 1,
    provider: str | None = None,
    kind: str | None = None,
    acknowledge_registry_terms: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Read ``path`` in format ``fmt`` and install it; raises ImportFormatError/ValueError."""
    layer = FORMATS.get(fmt)
    if layer is None:
        raise ValueError(f"format: {fmt!r} is not one of {', '.join(sorted(FORMATS))}")
    records = []
    for record in read_networks(path, fmt, provider=provider, kind=kind,
                                acknowledge_registry_terms=acknowledge_registry_terms):
        records.append(record)
        if progress is not None:
            progress(1)
    if layer == "overrides":
        if engine is None:
            raise ValueError("an overrides file needs the database")
        return ImportResult(layer, _install_overrides(engine, workspace_id, records), None)

    folder = imported_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = f"-{_slug(provider)}" if provider else ""
    name = f"{layer}-{fmt}{suffix}"
    target = folder / f"{name}.mmdb"
    count = write_mmdb(target, _ranges(layer, records), database_type=f"webleads-{layer}",
                       description=f"{fmt} import of {Path(path).name}")
    record_import(data_dir, key=name, layer=layer, file=target.name,
                  name=f"{fmt}: {Path(path).name}" + (f" ({provider})" if provider else ""),
                  ranges=count, licence=LICENCES.get(fmt, "providers' published lists"))
    return ImportResult(layer, count, target)


def _ranges(layer: str, records: list[RangeRecord]) -> list[tuple[int, int, int, dict[str, Any]]]:
    if layer == "asn":
        blocks: dict[int, int] = defaultdict(int)
        for r in records:
            if r.version == 4 and r.asn is not None:
                blocks[r.asn] += max(1, (r.last - r.first + 1) // 256)
        return [(r.first, r.last, r.version,
                 {"asn": r.asn, "org": r.as_org, "domain": r.as_domain, "country": r.country,
                  "blocks": blocks.get(r.asn or 0, 0)})
                for r in records]
    if layer == "ranges":
        return [(r.first, r.last, r.version,
                 {"provider": r.provider, "kind": KIND_CATEGORY.get(r.kind or "", "hosting")})
                for r in records]
    return [(r.first, r.last, r.version,  # registry
             {"org": r.org_name, "country": r.country}) for r in records]


def _install_overrides(engine: Engine, workspace_id: int, records: list[RangeRecord]) -> int:
    from webleads.db.overrides import upsert_override

    overrides = []
    for number, record in enumerate(records, 1):
        try:
            overrides.append(_override(workspace_id, record))
        except ValueError as exc:
            raise ValueError(f"override {number} of the file: {exc}") from exc
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for override in overrides:
            upsert_override(conn, override, now=now, created_by="import")
    return len(overrides)


def _override(workspace_id: int, r: RangeRecord) -> Override:
    if r.version == 0:
        return Override(workspace_id=workspace_id, role=r.role or "organisation", asn=r.asn,
                        organisation=r.org_name, domain=r.org_domain, category=r.category)
    from ipaddress import ip_address, summarize_address_range

    first = ip_address(r.first if r.version == 4 else r.first.to_bytes(16, "big"))
    last = ip_address(r.last if r.version == 4 else r.last.to_bytes(16, "big"))
    nets = list(summarize_address_range(first, last))
    if len(nets) != 1:
        raise ValueError(f"{first}-{last}: an override must be one CIDR block")
    return Override(workspace_id=workspace_id, role=r.role or "organisation", cidr=str(nets[0]),
                    organisation=r.org_name, domain=r.org_domain, category=r.category)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"

"""Compile address ranges into a MaxMind DB file, the one format every layer is read in.

Shipped snapshots and user imports alike end up as MMDB files read through
``maxminddb``'s C extension: one lookup is a walk down a binary tree in a memory
mapped file, whatever the source format was.

Writing uses ``mmdb-writer``.  Ranges that carry the same record are inserted as
one set, which is what keeps a 500,000-line ASN file to about half a minute.  When
ranges with *different* records overlap, the larger group is written first so that
the narrower, more specific ranges win.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPAddress, IPRange, IPSet

Record = dict[str, Any]
RecordKey = tuple[tuple[str, Any], ...]


def write_mmdb(
    path: str | Path,
    ranges: Iterable[tuple[int, int, int, Record]],
    *,
    database_type: str,
    description: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write ``(first, last, version, record)`` ranges to ``path``; return the range count.

    Records are flat dicts of str/int/float values; ``None`` values are left out.
    IPv4 ranges are reachable as IPv4 and as ::a.b.c.d (the identifier maps ::ffff:a.b.c.d
    to IPv4 itself).
    """
    groups: dict[RecordKey, list[IPRange]] = {}
    sizes: dict[RecordKey, int] = {}
    count = 0
    for first, last, version, record in ranges:
        key = tuple(sorted((k, v) for k, v in record.items() if v is not None))
        groups.setdefault(key, []).append(
            IPRange(IPAddress(first, version), IPAddress(last, version)))
        sizes[key] = sizes.get(key, 0) + (last - first + 1) * (2**96 if version == 4 else 1)
        count += 1
        if progress is not None and count % 10000 == 0:
            progress(10000)
    writer = MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type=database_type,
        languages=["en"], description={"en": description},
    )
    for key in sorted(groups, key=lambda k: sizes[k], reverse=True):
        writer.insert_network(IPSet(groups[key]), dict(key))
    tmp = Path(str(path) + ".tmp")
    writer.to_db_file(str(tmp))
    tmp.replace(path)
    if progress is not None:
        progress(count % 10000)
    return count

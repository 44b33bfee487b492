"""Distinct counts that add up across days: a HyperLogLog sketch with an exact mode.

The overview counts visitors and organisations *distinct over a period* from one stored
sketch per day.  A small set is kept exactly (64-bit hashes of the values, up to
``EXACT_MAX``), so a period with a few hundred visitors is counted exactly; beyond
that the sketch becomes ``M`` = 4,096 registers (HyperLogLog, precision 12: about
1.6 % standard error), estimated with Ertl's improved estimator (no bias tables,
good from one value to billions).

Registers are packed one per byte into a Python integer, so that the union of two
sketches (the register-wise maximum) is a handful of big-integer operations (SWAR)
instead of 4,096 Python steps: merging 180 days costs about a millisecond.

Serialised form (``to_bytes``): ``b"S"`` + sorted 8-byte hashes, or ``b"D"`` + the
4,096 registers.  The hashes are of visitor keys and account ids, which the sessions
table holds in clear for as long; rollups holding them are rebuilt when hits of their
day are purged or erased (see ``db/schema_rollups.py``).
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass

P = 12
M = 1 << P
Q = 64 - P  # bits left for the rank
EXACT_MAX = 512  # hashes kept exactly (4 KB: the size of the registers)
_RANK_MASK = (1 << Q) - 1
_HIGH = int.from_bytes(b"\x80" * M, "little")
_ALL = (1 << (8 * M)) - 1
_ALPHA = 1 / (2 * math.log(2))


def hash64(value: str | int) -> int:
    """A stable 64-bit hash of a value (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(str(value).encode(), digest_size=8).digest(), "big")


def _registers(hashes: Iterable[int], into: bytearray | None = None) -> bytearray:
    regs = into if into is not None else bytearray(M)
    for h in hashes:
        index = h >> Q
        rank = Q - (h & _RANK_MASK).bit_length() + 1
        if rank > regs[index]:
            regs[index] = rank
    return regs


def _pack(regs: bytes | bytearray) -> int:
    return int.from_bytes(regs, "little")


def _max(a: int, b: int) -> int:
    """Register-wise maximum of two packed sketches (registers < 128: no borrow)."""
    ge = (((a | _HIGH) - b) & _HIGH) >> 7  # 1 in each lane where a >= b
    mask = (ge << 8) - ge  # 0xFF in those lanes
    return (a & mask) | (b & (_ALL ^ mask))


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        before = z
        z += x * y
        y += y
        if z == before:
            return z


def _tau(x: float) -> float:
    if x in (0.0, 1.0):
        return 0.0
    y, z = 1.0, 1.0 - x
    while True:
        x = math.sqrt(x)
        before = z
        y *= 0.5
        z -= (1.0 - x) ** 2 * y
        if z == before:
            return z / 3.0


def _estimate(regs: bytes) -> float:
    """Ertl (2017), "New cardinality estimation algorithms for HyperLogLog sketches"."""
    counts = [regs.count(k) for k in range(Q + 2)]
    z = M * _tau(1.0 - counts[Q + 1] / M)
    for k in range(Q, 0, -1):
        z = 0.5 * (z + counts[k])
    z += M * _sigma(counts[0] / M)
    return _ALPHA * M * M / z


@dataclass(frozen=True, slots=True)
class Sketch:
    """A set of values, for its size: exact (``hashes``) or approximate (``packed``)."""

    hashes: frozenset[int] = frozenset()
    packed: int | None = None  # the registers, once more than EXACT_MAX values

    @classmethod
    def of(cls, values: Iterable[str | int]) -> Sketch:
        return cls.from_hashes(hash64(v) for v in values)

    @classmethod
    def from_hashes(cls, hashes: Iterable[int]) -> Sketch:
        found = frozenset(hashes)
        if len(found) <= EXACT_MAX:
            return cls(found)
        return cls(packed=_pack(_registers(found)))

    @property
    def exact(self) -> bool:
        return self.packed is None

    def count(self) -> int:
        if self.packed is None:
            return len(self.hashes)
        return round(_estimate(self.packed.to_bytes(M, "little")))

    def merge(self, other: Sketch) -> Sketch:
        return Sketch.union((self, other))

    @staticmethod
    def union(sketches: Iterable[Sketch]) -> Sketch:
        exact: set[int] = set()
        packed: int | None = None
        for s in sketches:
            if s.packed is not None:
                packed = s.packed if packed is None else _max(packed, s.packed)
            else:
                exact |= s.hashes
        if packed is None and len(exact) <= EXACT_MAX:
            return Sketch(frozenset(exact))
        regs = _pack(_registers(exact))
        return Sketch(packed=regs if packed is None else _max(packed, regs))

    def to_bytes(self) -> bytes:
        if self.packed is None:
            return b"S" + b"".join(h.to_bytes(8, "big") for h in sorted(self.hashes))
        return b"D" + self.packed.to_bytes(M, "little")

    @classmethod
    def from_bytes(cls, data: bytes | None) -> Sketch:
        if not data:
            return cls()
        body = bytes(data[1:])
        if data[:1] == b"D" and len(body) == M:
            return cls(packed=_pack(body))
        if data[:1] == b"S" and len(body) % 8 == 0:
            return cls(frozenset(struct.unpack(f">{len(body) // 8}Q", body)))
        raise ValueError("not a serialised sketch")

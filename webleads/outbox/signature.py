"""The generic webhook's signature: ``X-Webleads-Signature: t=<unix time>,v1=<hex>``.

``v1`` is the hex HMAC-SHA256, keyed with the destination's secret, of the timestamp, a
dot and the raw body (``f"{t}.".encode() + body``).  A receiver recomputes it, compares
in constant time and refuses old timestamps (replays); ``verify`` does all three.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Webleads-Signature"
TIMESTAMP_HEADER = "X-Webleads-Timestamp"
TOLERANCE = 300  # seconds


def digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                    hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the X-Webleads-Signature header."""
    return f"t={timestamp},v1={digest(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: float,
           tolerance: float = TOLERANCE) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is at most ``tolerance`` old."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, v) for v in parts.get("v1", []))

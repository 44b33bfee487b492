"""Signed contact tokens of tracked e-mail links (pure: the secret and the time are
parameters).

A token names one contact, one campaign and an expiry.  It is authenticated *and*
opaque, so it can neither be forged nor read or enumerated:

- ``payload`` = version (1 byte), contact id, campaign id (8 bytes each), expiry in
  Unix seconds (4 bytes);
- ``tag`` = the first 16 bytes of HMAC-SHA256(k_mac, payload) (128 bits);
- the payload is then masked with HMAC-SHA256(k_enc, tag) (a synthetic-IV scheme: the
  tag is the IV, so equal payloads give equal tokens and nothing else repeats);
- token = base64url(tag + masked payload), without padding: 50 characters.

``k_mac`` and ``k_enc`` are derived from ``WEBLEADS_SECRET_KEY``; changing the key
voids every token (links then redirect anonymously).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

VERSION = 1
_LAYOUT = struct.Struct(">BQQI")
TAG_BYTES = 16
TOKEN = re.compile(r"^[A-Za-z0-9_-]{50}$")

Verdict = Literal["valid", "expired", "invalid"]


@dataclass(frozen=True, slots=True)
class ContactToken:
    contact_id: int
    campaign_id: int
    expires: datetime  # UTC, whole seconds


def _keys(secret: str) -> tuple[bytes, bytes]:
    root = secret.encode("utf-8")
    return (hmac.new(root, b"webleads/contact-token/mac", hashlib.sha256).digest(),
            hmac.new(root, b"webleads/contact-token/enc", hashlib.sha256).digest())


def _mask(key: bytes, tag: bytes, data: bytes) -> bytes:
    stream = hmac.new(key, tag, hashlib.sha256).digest()
    return bytes(a ^ b for a, b in zip(data, stream, strict=False))


def sign(contact_id: int, campaign_id: int, expires: datetime, *, secret: str) -> str:
    """The token of a contact for a campaign, valid until ``expires``."""
    if expires.tzinfo is None:
        raise ValueError("expires must be an aware datetime")
    seconds = int(expires.timestamp())
    if not (0 < contact_id < 2**63 and 0 < campaign_id < 2**63 and 0 < seconds < 2**32):
        raise ValueError("contact, campaign or expiry out of range")
    k_mac, k_enc = _keys(secret)
    payload = _LAYOUT.pack(VERSION, contact_id, campaign_id, seconds)
    tag = hmac.new(k_mac, payload, hashlib.sha256).digest()[:TAG_BYTES]
    return _encode(tag + _mask(k_enc, tag, payload))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def read(token: str, *, secret: str) -> ContactToken | None:
    """What a token says, or None when it is malformed or was not signed with ``secret``
    (its expiry is not checked here: see :func:`check`)."""
    if not TOKEN.match(token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "==")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != TAG_BYTES + _LAYOUT.size or _encode(raw) != token:
        return None  # the wrong size, or a non-canonical spelling of another token
    k_mac, k_enc = _keys(secret)
    tag, masked = raw[:TAG_BYTES], raw[TAG_BYTES:]
    payload = _mask(k_enc, tag, masked)
    expected = hmac.new(k_mac, payload, hashlib.sha256).digest()[:TAG_BYTES]
    if not hmac.compare_digest(tag, expected):
        return None
    version, contact_id, campaign_id, seconds = _LAYOUT.unpack(payload)
    if version != VERSION:
        return None
    return ContactToken(contact_id, campaign_id, datetime.fromtimestamp(seconds, UTC))


def check(token: str, *, secret: str, now: datetime) -> tuple[Verdict, ContactToken | None]:
    """``("valid", t)``, ``("expired", t)`` or ``("invalid", None)``."""
    found = read(token, secret=secret)
    if found is None:
        return "invalid", None
    return ("valid" if now < found.expires else "expired"), found

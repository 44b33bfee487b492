"""Signed contact tokens of tracked e-mail links (pure): round trip, expiry, and every
kind of tampering refused."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from webleads.campaigns import tokens

SECRET = "a long random secret"
UNTIL = datetime(2026, 6, 30, tzinfo=UTC)
NOW = datetime(2026, 4, 1, tzinfo=UTC)


def test_round_trip_and_expiry() -> None:
    token = tokens.sign(42, 7, UNTIL, secret=SECRET)
    assert len(token) == 50 and tokens.TOKEN.match(token)
    assert tokens.read(token, secret=SECRET) == tokens.ContactToken(42, 7, UNTIL)
    assert tokens.check(token, secret=SECRET, now=NOW) == (
        "valid", tokens.ContactToken(42, 7, UNTIL))
    verdict, found = tokens.check(token, secret=SECRET, now=UNTIL)
    assert verdict == "expired" and found == tokens.ContactToken(42, 7, UNTIL)
    # Deterministic: the same link for the same contact, campaign and expiry.
    assert tokens.sign(42, 7, UNTIL, secret=SECRET) == token


def test_tokens_are_opaque_and_not_enumerable() -> None:
    a = tokens.sign(1, 1, UNTIL, secret=SECRET)
    b = tokens.sign(2, 1, UNTIL, secret=SECRET)
    raw_a = base64.urlsafe_b64decode(a + "==")
    raw_b = base64.urlsafe_b64decode(b + "==")
    # Neighbouring contacts share no visible structure: neither the tag nor the masked
    # payload look alike, and the ids do not appear in clear.
    assert sum(x == y for x, y in zip(raw_a, raw_b, strict=True)) < 10
    assert (1).to_bytes(8, "big") not in raw_a and (2).to_bytes(8, "big") not in raw_b


def test_every_single_change_is_refused() -> None:
    token = tokens.sign(42, 7, UNTIL, secret=SECRET)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i, ch in enumerate(token):
        for other in (alphabet[(alphabet.index(ch) + 1) % 64],
                      alphabet[(alphabet.index(ch) + 17) % 64]):
            forged = token[:i] + other + token[i + 1:]
            assert tokens.read(forged, secret=SECRET) is None, (i, other)
            assert tokens.check(forged, secret=SECRET, now=NOW) == ("invalid", None)


@pytest.mark.parametrize("value", [
    "", "x", "A" * 49, "A" * 51, "A" * 50, "=" * 50, "é" * 50, "../../etc/passwd",
])
def test_malformed_tokens_are_refused(value: str) -> None:
    assert tokens.read(value, secret=SECRET) is None


def test_another_secret_refuses_it() -> None:
    token = tokens.sign(42, 7, UNTIL, secret=SECRET)
    assert tokens.read(token, secret="another secret") is None


def test_signing_checks_its_values() -> None:
    with pytest.raises(ValueError):
        tokens.sign(0, 7, UNTIL, secret=SECRET)
    with pytest.raises(ValueError):
        tokens.sign(1, 7, datetime(2026, 1, 1), secret=SECRET)  # naive
    assert tokens.read(tokens.sign(2**62, 2**62, UNTIL + timedelta(days=9000), secret=SECRET),
                       secret=SECRET) is not None

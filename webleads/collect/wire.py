"""The public collect contract: the JSON a client sends, decoded and validated.

Decoding uses msgspec typed structs (validation costs well under a microsecond per
hit).  Unknown fields are ignored, never fatal.  Every refusal is a ``Rejection``
naming a reason from a closed list and, where there is one, the field
(``$[3].url``: the 4th hit's url).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from webleads.model import HitType

MAX_HITS = 100
MAX_EMAIL = 254  # the contacts.email column

RejectReason = Literal[
    "invalid_json",  # not JSON, or not UTF-8
    "invalid_field",  # a field of the wrong type, size or format
    "missing_field",  # a required field is absent
    "empty_batch",  # an empty array
    "too_many_hits",  # more than MAX_HITS in one request
    "mixed_sites",  # hits of several sites in one request
    "body_too_large",  # body larger than the configured limit
    "unsupported_media_type",  # neither text/plain nor application/json
    "unknown_site",  # no site has this public key
    "origin_not_allowed",  # Origin/Referer not among the site's origins
    "bad_secret",  # Authorization given but wrong for the site
    "ts_out_of_range",  # server-side ts too far in the past or future
    "method_not_allowed",
    "unstorable",  # valid, but the database refused to store it (kept in quarantine)
]


@dataclass(frozen=True, slots=True)
class Rejection:
    status: int
    reason: RejectReason
    detail: str
    field: str | None = None
    site_key: str | None = None

    def body(self) -> dict[str, object]:
        out: dict[str, object] = {"error": self.reason, "detail": self.detail}
        if self.field is not None:
            out["field"] = self.field
        return out


Short = Annotated[str, Meta(max_length=200)]
Text = Annotated[str, Meta(max_length=4096)]
Scalar = Annotated[str, Meta(max_length=1000)] | int | float | bool | None
Props = Annotated[dict[Annotated[str, Meta(max_length=100)], Scalar], Meta(max_length=50)]


class WireHit(msgspec.Struct, frozen=True, gc=False):
    """One hit as sent by the tag, an SDK or a server (see docs/collect.md)."""

    site: Annotated[str, Meta(min_length=1, max_length=64)]
    type: HitType
    url: Text = ""
    referrer: Text = ""
    title: Annotated[str, Meta(max_length=1024)] = ""
    name: Short | None = None
    props: Props | None = None
    engaged_ms: Annotated[int, Meta(ge=0, le=86_400_000)] | None = None
    email: Annotated[str, Meta(max_length=MAX_EMAIL)] | None = None
    traits: Props | None = None
    visitor: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{8,64}$")] | None = None
    # The visitor's consent, from wl('consent', ...): the site's consent mode decides what
    # a hit without it may be (webleads/privacy/modes.py).
    consent: bool | None = None
    ts: Annotated[int, Meta(ge=0, le=10**14)] | Annotated[str, Meta(max_length=40)] | None = None
    # Server-side variant only (secret key): the visitor's address and browser.
    ip: Annotated[str, Meta(max_length=45)] | None = None
    user_agent: Annotated[str, Meta(max_length=1024)] | None = None


_decoder = msgspec.json.Decoder(WireHit | list[WireHit])
_PATH = re.compile(r"at `(\$[^`]*)`")
_EMAIL = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z0-9-]{2,63}$")
_URL = re.compile(r"^https?://[^\s/?#]+", re.IGNORECASE)


def decode(body: bytes) -> list[WireHit] | Rejection:
    """Bytes of a request body -> hits, or the reason they are refused."""
    try:
        value = _decoder.decode(body)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _PATH.search(message)
        path = match.group(1) if match else None
        if "missing required field" in message:
            missing = re.search(r"required field `([^`]+)`", message)
            name = missing.group(1) if missing else None
            field = f"{path or '$'}.{name}" if name else path
            return Rejection(400, "missing_field", _clean(message), field)
        return Rejection(400, "invalid_field", _clean(message), path)
    except msgspec.DecodeError as exc:
        return Rejection(400, "invalid_json", _clean(str(exc)))
    except RecursionError:  # arrays/objects nested deeper than the decoder goes
        return Rejection(400, "invalid_json", "JSON nested too deeply")
    is_list = isinstance(value, list)
    hits = value if is_list else [value]
    if not hits:
        return Rejection(400, "empty_batch", "the array holds no hit")
    if len(hits) > MAX_HITS:
        return Rejection(413, "too_many_hits", f"at most {MAX_HITS} hits per request",
                         site_key=hits[0].site)
    site = hits[0].site
    for i, hit in enumerate(hits):
        if hit.site != site:
            return Rejection(400, "mixed_sites", "all hits of a request belong to one site",
                             f"$[{i}].site", site_key=site)
        problem = _check(hit)
        if problem is not None:
            name, detail, is_missing = problem
            field = f"$[{i}].{name}" if is_list else f"$.{name}"
            reason: RejectReason = "missing_field" if is_missing else "invalid_field"
            return Rejection(400, reason, detail, field, site_key=site)
    # Only a \u escape can make NUL or a lone surrogate; bytes.find is several times
    # cheaper than ``in`` here, and most bodies hold no backslash at all.
    if body.find(b"\\") >= 0 and (body.find(b"\\u") >= 0 or body.find(b"\\U") >= 0):
        bad = _unstorable(hits, is_list)
        if bad is not None:
            return Rejection(400, "invalid_field", "NUL characters and lone surrogates "
                             "are not accepted", bad, site_key=site)
    return hits


def _check(hit: WireHit) -> tuple[str, str, bool] | None:
    """Rules a type alone cannot say: (field, detail, is_missing) or None."""
    if hit.url and not _is_http_url(hit.url):
        return ("url", "an absolute http(s) URL is expected", False)
    if hit.type == "pageview" and not hit.url:
        return ("url", "a pageview needs the page URL", True)
    if hit.type == "event" and not hit.name:
        return ("name", "an event needs a name", True)
    if hit.type == "engagement" and hit.engaged_ms is None:
        return ("engaged_ms", "an engagement hit needs engaged_ms", True)
    if hit.type == "identify":
        if not hit.email:
            return ("email", "identify needs an e-mail address", True)
        if valid_email(hit.email) is None:
            return ("email", "not an e-mail address", False)
    return None


def _is_http_url(url: str) -> bool:
    """``_URL.match(url)``; the usual lower-case schemes are checked without the regex
    (a quarter of a microsecond per hit): the regex needs one host character only."""
    if url.startswith("https://"):
        first = url[8:9]
    elif url.startswith("http://"):
        first = url[7:8]
    else:  # other cases and spellings (HTTP://, the long s that IGNORECASE takes for s)
        return _URL.match(url) is not None
    return first != "" and first not in "/?#" and not first.isspace()


def valid_email(value: str | None) -> str | None:
    """The normalised address (trimmed, lower case), or None when it is not one."""
    if not value:
        return None
    value = value.strip()
    if not _EMAIL.match(value):
        return None
    # Lower-casing may lengthen a string ("İ" -> "i̇"): the stored form must fit too.
    value = value.lower()
    return value if len(value) <= MAX_EMAIL else None


def _unstorable(hits: list[WireHit], is_list: bool) -> str | None:
    for i, hit in enumerate(hits):
        prefix = f"$[{i}]" if is_list else "$"
        for name in WireHit.__struct_fields__:
            if _bad_text(getattr(hit, name)):
                return f"{prefix}.{name}"
    return None


def _bad_text(value: object) -> bool:
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_bad_text(k) or _bad_text(v) for k, v in value.items())
    return False


def _clean(message: str) -> str:
    return message.replace("`", "")[:300]


# Built once: a timedelta made per hit costs more than the comparisons themselves.
_QUEUED = timedelta(hours=1)
_TRUSTED_PAST = timedelta(days=400)
_TRUSTED_FUTURE = timedelta(minutes=5)


def hit_time(ts: int | str | None, received: datetime, *, trusted: bool
             ) -> datetime | Rejection:
    """The time of a hit.

    Browsers' clocks are often wrong: a tag's ``ts`` is believed within the last hour
    (queued hits) and otherwise replaced by the receive time.  A server-side sender
    (secret key) may date hits up to 400 days back and is refused beyond that.
    """
    if ts is None:
        return received
    if isinstance(ts, int):
        when = datetime.fromtimestamp(ts / 1000, UTC)
    else:
        try:
            parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        except ValueError:
            return Rejection(400, "invalid_field", "ts: epoch milliseconds or ISO 8601 expected",
                             "ts")
        try:
            when = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except OverflowError:  # year 1 or 9999 with an offset: beyond any range below
            when = datetime.min.replace(tzinfo=UTC)
    if trusted:
        if not received - _TRUSTED_PAST <= when <= received + _TRUSTED_FUTURE:
            return Rejection(400, "ts_out_of_range",
                             "ts must lie between 400 days ago and 5 minutes ahead", "ts")
        return when
    if received - _QUEUED <= when <= received:
        return when
    return received

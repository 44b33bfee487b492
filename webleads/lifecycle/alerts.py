"""Alert rules (pure logic): which events a batch raises, cooldowns, quiet hours.

Kinds (the outbox kind in brackets, see webleads/outbox/render.py):

- ``becomes_mql`` (mql): the account moved to MQL in this batch;
- ``score_crosses`` (score_threshold): its decayed score went from below
  ``params.threshold`` to at least it;
- ``target_visits`` (target_visit): an account of the target list visited;
- ``hot_page`` (hot_page): a page whose path matches ``params.pages`` (globs, default
  /pricing* /contact* /demo* /tarifs*) was seen;
- ``score_jump`` (score_jump): at least ``params.points`` points (default 20) in the
  last ``params.hours`` hours (default 24).

Each event has an idempotency key built from the batch's own facts (rule, account and
the time of the account's latest hit of the batch), so storing the same batch again
never sends twice; the cooldown (per rule and account) keeps the flow low.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from webleads.lifecycle.model import ALERT_KINDS, DEFAULT_PAGES, AlertRule

DEFAULT_JUMP_POINTS = 20
DEFAULT_JUMP_HOURS = 24.0


@dataclass(frozen=True, slots=True)
class Event:
    rule: AlertRule
    account_id: int
    key: str                   # the idempotency key
    values: dict[str, Any]     # payload values of the kind: threshold, page, delta


def path_of(url: str) -> str:
    if "://" in url:
        return urlsplit(url).path or "/"
    return url.split("?", 1)[0].split("#", 1)[0] or "/"


def parse_quiet(value: str) -> tuple[time, time]:
    """``"20:00-08:00"`` -> (start, end); ValueError names the option."""
    try:
        start, end = (time.fromisoformat(p.strip()) for p in value.split("-"))
    except ValueError:
        raise ValueError(f"quiet hours {value!r}: expected HH:MM-HH:MM, e.g. 20:00-08:00")\
            from None
    if start == end:
        raise ValueError(f"quiet hours {value!r}: start and end are the same")
    return start, end


def check_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"time zone {name!r}: not a known zone (e.g. Europe/Paris)") from None


def quiet_until(now: datetime, quiet: str | None, timezone: str) -> datetime | None:
    """When the quiet hours around ``now`` end, or None outside quiet hours."""
    if not quiet:
        return None
    start, end = parse_quiet(quiet)
    zone = check_timezone(timezone)
    local = now.astimezone(zone)
    at = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= at < end
        end_day = local.date()
    else:  # over midnight
        inside = at >= start or at < end
        end_day = local.date() + timedelta(days=1) if at >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(now.tzinfo)


def local_day(now: datetime, timezone: str) -> date:
    return now.astimezone(check_timezone(timezone)).date()


def cooled(last: datetime | None, now: datetime, cooldown_hours: float) -> bool:
    """True when the rule may fire again for the account."""
    return last is None or now - last >= timedelta(hours=cooldown_hours)


def check_params(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Validated parameters of a new rule; ValueError names the bad field."""
    if kind not in ALERT_KINDS:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(ALERT_KINDS)}")
    out: dict[str, Any] = {}
    if kind == "score_crosses":
        threshold = params.get("threshold")
        if not isinstance(threshold, int | float) or threshold <= 0:
            raise ValueError("threshold: a score_crosses rule needs --threshold > 0")
        out["threshold"] = float(threshold)
    if kind == "hot_page":
        pages = params.get("pages") or list(DEFAULT_PAGES)
        if isinstance(pages, str):
            pages = [p for p in pages.split(",")]
        pages = [str(p).strip() for p in pages if str(p).strip()]
        bad = [p for p in pages if not p.startswith("/")]
        if bad:
            raise ValueError(f"pages: {bad[0]!r} is not a path glob (start with /)")
        out["pages"] = pages
    if kind == "score_jump":
        points = params.get("points", DEFAULT_JUMP_POINTS)
        hours = params.get("hours", DEFAULT_JUMP_HOURS)
        if not isinstance(points, int | float) or points <= 0:
            raise ValueError("points: a score jump is a number of points > 0")
        if not isinstance(hours, int | float) or hours <= 0:
            raise ValueError("hours: the window of a score jump, > 0")
        out["points"], out["hours"] = float(points), float(hours)
    return out


@dataclass(frozen=True, slots=True)
class AccountBatch:
    """What a batch did to one account."""

    account_id: int
    in_target: bool
    before: float             # the score just before the batch (decayed to now)
    after: float              # the score now
    became_mql: bool
    paths: Sequence[str]      # paths of the batch's hits, in time order
    latest: datetime          # its latest hit of the batch
    jump: int | None          # raw points of the last hours (score_jump rules only)


def _stamp(ts: datetime) -> int:
    return int(ts.timestamp() * 1_000_000)


def events(rule: AlertRule, batch: AccountBatch) -> Event | None:
    """The event ``rule`` raises for one account's batch, if any."""
    key = f"{rule.kind}:{rule.id}:{batch.account_id}:{_stamp(batch.latest)}"
    p = rule.params
    if rule.kind == "becomes_mql" and batch.became_mql:
        return Event(rule, batch.account_id, key, {})
    if rule.kind == "score_crosses":
        threshold = float(p.get("threshold", 0))
        if batch.before < threshold <= batch.after:
            return Event(rule, batch.account_id, key, {"threshold": f"{threshold:g}"})
    if rule.kind == "target_visits" and batch.in_target and batch.paths:
        return Event(rule, batch.account_id, key, {"page": batch.paths[-1]})
    if rule.kind == "hot_page":
        globs = p.get("pages") or DEFAULT_PAGES
        for path in reversed(batch.paths):
            if any(fnmatchcase(path, g) for g in globs):
                return Event(rule, batch.account_id, key, {"page": path})
    if rule.kind == "score_jump" and batch.jump is not None:
        if batch.jump >= float(p.get("points", DEFAULT_JUMP_POINTS)):
            return Event(rule, batch.account_id, key, {"delta": batch.jump})
    return None

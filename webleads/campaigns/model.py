"""Value types of campaigns, their validation, and how a session is matched to one.

Matching (pure, see ``match_campaign``):

1. a session whose ``utm_campaign`` equals a campaign's key, ignoring case and the
   spaces around it, belongs to that campaign, whatever its date;
2. otherwise a session that came with an ad click id (``gclid`` ...) and no
   ``utm_campaign`` belongs to the campaign whose ``channel`` names that ad network
   (``google``, ``bing``, ``linkedin``, ``facebook``) and whose dates contain the
   session's start (UTC), when exactly one campaign of the workspace qualifies;
   with none or several, the session is not matched (never guessed).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal, get_args

Objective = Literal["visits", "identified_accounts", "mqls", "meetings", "revenue"]
OBJECTIVES: tuple[Objective, ...] = get_args(Objective)

# Click id kind (as stored in sessions.click_id_kind) -> the ad network a channel names.
CLICK_NETWORKS: dict[str, str] = {
    "gclid": "google", "gbraid": "google", "wbraid": "google",
    "msclkid": "bing", "li_fat_id": "linkedin", "fbclid": "facebook",
}

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    workspace_id: int
    name: str
    channel: str
    page_group: str | None
    objective: Objective
    starts_on: date
    ends_on: date
    budget_cents: int | None
    currency: str
    utm_campaign: str
    notes: str = ""

    def contains(self, at: datetime) -> bool:
        return self.starts_on <= at.date() <= self.ends_on


@dataclass(frozen=True, slots=True)
class NewCampaign:
    name: str
    channel: str
    objective: Objective
    starts_on: date
    ends_on: date
    page_group: str | None = None
    budget_cents: int | None = None
    currency: str = "EUR"
    utm_campaign: str = ""
    notes: str = ""


def utm_key(value: str) -> str:
    """The matching key of a ``utm_campaign`` value: trimmed, lower-case."""
    return value.strip().lower()


def slug(name: str) -> str:
    """The default ``utm_campaign`` of a campaign name: ASCII, lower-case, dashes
    ("Salon Industrie 2026" -> "salon-industrie-2026")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:200]


def parse_objective(value: str) -> Objective:
    name = value.strip().lower().replace("-", "_")
    for objective in OBJECTIVES:
        if name == objective:
            return objective
    raise ValueError(f"objective {value!r} is not one of {', '.join(OBJECTIVES)}")


def parse_currency(value: str) -> str:
    code = value.strip().upper()
    if not _CURRENCY.match(code):
        raise ValueError(f"currency {value!r} is not a three-letter code such as EUR")
    return code


def parse_cents(value: str) -> int:
    """``"1234.5"`` or ``"1234,50"`` -> 123450 cents; at most two decimals, not negative."""
    text = value.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"amount {value!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"amount {value!r} must be a positive number or zero")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"amount {value!r} has more than two decimals")
    return int(cents)


def format_cents(cents: int | None, currency: str = "") -> str:
    if cents is None:
        return "-"
    text = f"{cents // 100}.{cents % 100:02d}"
    return f"{text} {currency}".strip()


def validate(new: NewCampaign) -> NewCampaign:
    """The campaign with its values normalised; ValueError names the first bad field."""
    name = new.name.strip()
    if not name or len(name) > 200:
        raise ValueError("name: give 1 to 200 characters")
    channel = new.channel.strip().lower()
    if not _CHANNEL.match(channel):
        raise ValueError(f"channel {new.channel!r}: a word such as email, linkedin, google, "
                         "event (letters, digits, - _ .)")
    if new.ends_on < new.starts_on:
        raise ValueError("dates: the campaign ends before it starts")
    if new.budget_cents is not None and new.budget_cents < 0:
        raise ValueError("budget: must be positive or zero")
    key = utm_key(new.utm_campaign) if new.utm_campaign.strip() else slug(name)
    if not key or len(key) > 200:
        raise ValueError("utm-campaign: give 1 to 200 characters")
    group = (new.page_group or "").strip() or None
    return NewCampaign(name=name, channel=channel, objective=parse_objective(new.objective),
                       starts_on=new.starts_on, ends_on=new.ends_on, page_group=group,
                       budget_cents=new.budget_cents, currency=parse_currency(new.currency),
                       utm_campaign=key, notes=new.notes.strip())


def match_campaign(campaigns: Iterable[Campaign], *, utm_campaign: str | None,
                   click_id_kind: str | None, started_at: datetime) -> Campaign | None:
    """The campaign a session belongs to (see the module's docstring), or None."""
    found = list(campaigns)
    if utm_campaign and utm_campaign.strip():
        key = utm_key(utm_campaign)
        return next((c for c in found if c.utm_campaign == key), None)
    network = CLICK_NETWORKS.get(click_id_kind or "")
    if network is None:
        return None
    candidates = [c for c in found if c.channel == network and c.contains(started_at)]
    return candidates[0] if len(candidates) == 1 else None

"""The campaign pages' forms: reading them, and every problem said in the reader's
language next to its field (or its line, for the CSV uploads)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup

from webleads.campaigns.csvfile import LineError
from webleads.campaigns.model import (
    OBJECTIVES,
    Campaign,
    NewCampaign,
    format_cents,
    parse_cents,
    parse_currency,
    validate,
)
from webleads.web.i18n import Translator


def plain(message: Markup) -> str:
    """A translated message as plain text (its values unescaped): templates escape it
    once, and flash messages and error pages take plain text."""
    return message.unescape()


_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
MAX_UPLOAD = 5 * 1024 * 1024  # bytes of a CSV upload


@dataclass
class CampaignForm:
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    campaign: NewCampaign | None = None


FIELDS = ("name", "channel", "objective", "starts_on", "ends_on", "page_group", "budget",
          "currency", "utm_campaign", "notes")


def form_values(campaign: Campaign | None) -> dict[str, str]:
    if campaign is None:
        return {"name": "", "channel": "", "objective": "mqls", "starts_on": "",
                "ends_on": "", "page_group": "", "budget": "", "currency": "EUR",
                "utm_campaign": "", "notes": ""}
    budget = campaign.budget_cents
    return {"name": campaign.name, "channel": campaign.channel, "objective": campaign.objective,
            "starts_on": campaign.starts_on.isoformat(), "ends_on": campaign.ends_on.isoformat(),
            "page_group": campaign.page_group or "",
            "budget": format_cents(budget) if budget is not None else "",
            "currency": campaign.currency, "utm_campaign": campaign.utm_campaign,
            "notes": campaign.notes}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def read_campaign(t: Translator, raw: dict[str, Any]) -> CampaignForm:
    """The form's values and, when they are all right, the campaign to save."""
    values = {k: str(raw.get(k) or "").strip() for k in FIELDS}
    values["notes"] = str(raw.get("notes") or "")
    errors: dict[str, str] = {}
    if not values["name"] or len(values["name"]) > 200:
        errors["name"] = plain(t("Give a name of 1 to 200 characters."))
    if not _CHANNEL.match(values["channel"].lower()):
        errors["channel"] = plain(t("A word such as email, linkedin, google or event (letters, "
                                  "digits, - _ .)."))
    objective = next((o for o in OBJECTIVES if o == values["objective"]), None)
    if objective is None:
        errors["objective"] = plain(t("Choose an objective."))
    starts, ends = _day(values["starts_on"]), _day(values["ends_on"])
    for name, day in (("starts_on", starts), ("ends_on", ends)):
        if day is None:
            errors[name] = plain(t("A date is needed (YYYY-MM-DD)."))
    if starts and ends and ends < starts:
        errors["ends_on"] = plain(t("The campaign cannot end before it starts."))
    budget: int | None = None
    if values["budget"]:
        try:
            budget = parse_cents(values["budget"])
        except ValueError:
            errors["budget"] = plain(t("An amount such as 5000 or 4999.90 (two decimals at "
                                     "most)."))
    try:
        parse_currency(values["currency"])
    except ValueError:
        errors["currency"] = plain(t("A three-letter code such as EUR."))
    if len(values["utm_campaign"]) > 200:
        errors["utm_campaign"] = plain(t("At most 200 characters."))
    if len(values["page_group"]) > 100:
        errors["page_group"] = plain(t("At most 100 characters."))
    if len(values["notes"]) > 5000:
        errors["notes"] = plain(t("At most 5,000 characters."))
    if errors:
        return CampaignForm(values, errors)
    assert starts is not None and ends is not None and objective is not None
    try:
        new = validate(NewCampaign(
            name=values["name"], channel=values["channel"], objective=objective,
            starts_on=starts, ends_on=ends, page_group=values["page_group"] or None,
            budget_cents=budget, currency=values["currency"],
            utm_campaign=values["utm_campaign"], notes=values["notes"]))
    except ValueError:  # the name alone gives no utm_campaign ("!!!")
        return CampaignForm(values, {"utm_campaign": plain(t(
            "Give a utm_campaign value: the name has no letter or digit to make one from."))})
    return CampaignForm(values, {}, new)


def taken_error(t: Translator, message: str) -> dict[str, str]:
    """The field of a "name or key already used" refusal of the database layer."""
    if message.startswith("name"):
        return {"name": plain(t("Another campaign of this workspace already has this name."))}
    return {"utm_campaign": plain(t("Another campaign of this workspace already uses this "
                                  "utm_campaign value."))}


def problem_text(t: Translator, e: LineError) -> str:
    """What is wrong with one cell or field, in the reader's language."""
    v = e.value
    messages: dict[str, str] = {
        "missing_column": plain(t("the file has no column %(columns)s (check the header "
                                "line).", columns=v)),
        "csv": plain(t("this line cannot be read as CSV (a quote is not closed?).")),
        "too_many_lines": plain(t("more than %(n)s lines: split the file.", n=v)),
        "missing": plain(t("this cell is empty.")),
        "not_email": plain(t("%(value)s is not an e-mail address.", value=v)),
        "too_long": plain(t("longer than %(n)s characters.", n=v)),
        "consent": plain(t("write yes or no (oui or non), not %(value)s.", value=v or "–")),
        "duplicate": plain(t("already on line %(line)s.", line=v)),
        "not_date": plain(t("%(value)s is not a date (YYYY-MM-DD).", value=v or "–")),
        "amount": plain(t("%(value)s is not an amount such as 1200.50 (positive, two "
                        "decimals at most).", value=v or "–")),
        "currency": plain(t("%(value)s is not a three-letter code such as EUR.", value=v or "–")),
        "currency_mismatch": plain(t("the campaign's currency is %(currency)s.", currency=v)),
        "no_contact": plain(t("no contact %(value)s in this workspace: import it first.",
                            value=v)),
        "not_domain": plain(t("%(value)s is not a domain such as acme.fr.", value=v)),
        "no_account": plain(t("no account with the domain %(value)s in this workspace.",
                            value=v)),
        "who": plain(t("give the account's domain or the contact's e-mail.")),
        "no_campaign": plain(t("no campaign %(value)s in this workspace.", value=v)),
    }
    return messages.get(e.code, e.message)


def line_error(t: Translator, e: LineError) -> str:
    """One problem of an uploaded file: its line, its column and what is wrong."""
    return plain(t("Line %(line)s, %(field)s: %(message)s", line=e.line, field=e.field,
                 message=problem_text(t, e)))


def field_errors(t: Translator, problems: list[LineError]) -> dict[str, str]:
    """Problems of a single form by field."""
    out: dict[str, str] = {}
    for e in problems:
        out.setdefault(e.field, problem_text(t, e))
    return out

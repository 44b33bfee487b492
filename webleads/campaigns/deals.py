"""Won deals with their revenue: entered one by one, or imported from CSV
(``day,account,email,amount,currency,campaign,ref,note``).

A deal belongs to an account, named by its domain (``acme.fr``), or to a contact,
named by its e-mail (the contact's account, when it has one, is the deal's account).
Both must already be known to the workspace.  ``campaign`` is optional: a deal with a
campaign is credited to it in full; without, its revenue is attributed by model
(reports.py).

Imports check every line first, like the other imports: one bad line and nothing is
imported, unless the bad lines are skipped (``skip_invalid``).  A line with a ``ref``
(a CRM's deal id) is imported once per ref; a line without one is recognised by its
content, so importing the same file twice adds nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Connection

from webleads.campaigns.csvfile import (
    MAX_ERRORS,
    MAX_LINES,
    LineError,
    Problem,
    errors_of,
    read_table,
)
from webleads.campaigns.model import Campaign, parse_cents, parse_currency
from webleads.collect.wire import valid_email
from webleads.db import campaigns as db

ALIASES: dict[str, tuple[str, ...]] = {
    "day": ("day", "date", "jour", "won_on", "closed_on"),
    "account": ("account", "domain", "account_domain", "compte", "domaine", "site"),
    "email": ("email", "e_mail", "contact", "contact_email", "courriel"),
    "amount": ("amount", "revenue", "montant", "chiffre_d_affaires", "ca"),
    "currency": ("currency", "devise", "monnaie"),
    "campaign": ("campaign", "campagne"),
    "ref": ("ref", "reference", "id", "deal_id", "deal", "affaire"),
    "note": ("note", "notes", "comment", "commentaire"),
}
REQUIRED = ("day", "amount", "currency")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class DealRefused(ValueError):
    """A deal entered by hand has problems (their line is 0)."""

    def __init__(self, problems: list[LineError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class DealImport:
    lines: int
    added: int
    known: int  # lines whose deal was there already
    skipped: int
    errors: tuple[LineError, ...]


def normal_domain(value: str) -> str | None:
    """``https://www.Acme.fr/x`` -> ``acme.fr``; None when it is no domain."""
    text = value.strip().lower()
    text = re.sub(r"^[a-z]+://", "", text).split("/", 1)[0].split(":", 1)[0]
    text = text.removeprefix("www.")
    return text if _DOMAIN.match(text) else None


@dataclass
class _Context:
    workspace_id: int
    campaigns: dict[str, Campaign]
    contacts: dict[str, tuple[int, int | None]]
    accounts: dict[str, int]


def _context(conn: Connection, workspace_id: int, emails: set[str], domains: set[str]
             ) -> _Context:
    known = db.list_campaigns(conn, workspace_id)
    by_name = {c.name.lower(): c for c in known} | {c.utm_campaign: c for c in known} | {
        str(c.id): c for c in known}
    return _Context(workspace_id, by_name, db.contact_ids(conn, workspace_id, emails),
                    db.account_ids_by_domain(conn, workspace_id, domains))


def _check(cells: dict[str, str], ctx: _Context, ref: str, source: str
           ) -> db.NewDeal | list[Problem]:
    problems: list[Problem] = []
    day: date | None = None
    try:
        day = date.fromisoformat(cells.get("day", ""))
    except ValueError:
        given = cells.get("day", "")
        problems.append(("day", "not_date", given, f"{given!r} is not a date (YYYY-MM-DD)"))
    cents = 0
    try:
        cents = parse_cents(cells.get("amount", ""))
    except ValueError as exc:
        problems.append(("amount", "amount", cells.get("amount", ""), str(exc)))
    currency = "EUR"
    try:
        currency = parse_currency(cells.get("currency", ""))
    except ValueError as exc:
        problems.append(("currency", "currency", cells.get("currency", ""), str(exc)))
    account_id: int | None = None
    contact_id: int | None = None
    email_text, account_text = cells.get("email", ""), cells.get("account", "")
    if email_text:
        email = valid_email(email_text)
        found = ctx.contacts.get(email or "")
        if email is None:
            problems.append(("email", "not_email", email_text,
                             f"{email_text!r} is not an e-mail address"))
        elif found is None:
            problems.append(("email", "no_contact", email,
                             f"no contact {email} in this workspace (import it first)"))
        else:
            contact_id, account_id = found
    if account_text:
        domain = normal_domain(account_text)
        if domain is None:
            problems.append(("account", "not_domain", account_text,
                             f"{account_text!r} is not a domain such as acme.fr"))
        elif domain not in ctx.accounts:
            problems.append(("account", "no_account", domain,
                             f"no account with the domain {domain} in this workspace"))
        else:
            account_id = ctx.accounts[domain]
    if not email_text and not account_text:
        problems.append(("account", "who", "",
                         "give the account's domain or the contact's e-mail"))
    campaign: Campaign | None = None
    if cells.get("campaign"):
        campaign = ctx.campaigns.get(cells["campaign"].strip().lower())
        if campaign is None:
            problems.append(("campaign", "no_campaign", cells["campaign"],
                             f"no campaign {cells['campaign']!r}"))
    note = cells.get("note", "")
    if len(note) > 1000:
        problems.append(("note", "too_long", "1000", "longer than 1000 characters"))
    if problems:
        return problems
    assert day is not None
    return db.NewDeal(day=day, amount_cents=cents, currency=currency, account_id=account_id,
                      contact_id=contact_id, campaign_id=campaign.id if campaign else None,
                      ref=ref, note=note, source=source)


def _line_ref(cells: dict[str, str], seen: dict[str, int]) -> str:
    if cells.get("ref"):
        return "ref:" + cells["ref"].strip()[:190]
    text = "\x1f".join(cells.get(k, "").strip().lower() for k in (
        "day", "account", "email", "amount", "currency", "campaign", "note"))
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    seen[digest] = seen.get(digest, 0) + 1  # equal lines are distinct deals
    return f"line:{digest}:{seen[digest]}"


def add_deal(conn: Connection, workspace_id: int, cells: dict[str, str], *, now: datetime,
             source: str = "dashboard") -> db.NewDeal:
    """One deal from a form's fields (same names as the CSV columns); ValueError
    "field: message" on the first problem."""
    emails = {e for e in [valid_email(cells.get("email", ""))] if e}
    domains = {d for d in [normal_domain(cells.get("account", ""))] if d}
    ctx = _context(conn, workspace_id, emails, domains)
    ref = f"{source}:{secrets.token_hex(12)}"
    checked = _check(cells, ctx, ref, source)
    if isinstance(checked, list):
        raise DealRefused(errors_of(0, checked))
    db.insert_deals(conn, workspace_id, [checked], now=now)
    return checked


def import_deals(conn: Connection, workspace_id: int, text: str, *, now: datetime,
                 skip_invalid: bool = False) -> DealImport:
    table = read_table(text, ALIASES, REQUIRED)
    if isinstance(table, LineError):
        return DealImport(0, 0, 0, 0, (table,))
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in table.rows:
        rows.append((number, cells))
        if "__error__" in cells or len(rows) > MAX_LINES:
            break
    emails = {e for _, c in rows if (e := valid_email(c.get("email", "")))}
    domains = {d for _, c in rows if (d := normal_domain(c.get("account", "")))}
    ctx = _context(conn, workspace_id, emails, domains)
    errors: list[LineError] = []
    good: list[db.NewDeal] = []
    seen: dict[str, int] = {}
    refs: dict[str, int] = {}
    bad = 0
    for number, cells in rows:
        if "__error__" in cells:
            errors.append(LineError(number, "line", cells["__error__"], "csv"))
            bad += 1
            continue
        if len(good) + bad >= MAX_LINES:
            errors.append(LineError(number, "line", f"more than {MAX_LINES} lines: split the "
                                    "file", "too_many_lines", str(MAX_LINES)))
            bad += 1
            break
        ref = _line_ref(cells, seen)
        checked = _check(cells, ctx, ref, "import")
        if isinstance(checked, db.NewDeal) and ref in refs:
            checked = [("ref", "duplicate", str(refs[ref]),
                        f"{ref.removeprefix('ref:')!r} is already on line {refs[ref]}")]
        if isinstance(checked, list):
            bad += 1
            errors.extend(errors_of(number, checked))
            continue
        refs[ref] = number
        good.append(checked)
    errors = errors[:MAX_ERRORS]
    count = len(good) + bad
    if errors and not skip_invalid:
        return DealImport(count, 0, 0, 0, tuple(errors))
    added = db.insert_deals(conn, workspace_id, good, now=now)
    return DealImport(count, added, len(good) - added, bad, tuple(errors))

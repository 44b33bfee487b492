"""Contact import from CSV: ``email,name,organisation,consent``.

Every line is checked first; each error names its line and field.  By default one bad
line and nothing is imported (``skip_invalid=False``); with ``skip_invalid=True`` the
good lines are imported and the bad ones reported.  A known e-mail is updated: a
non-empty name or organisation replaces the old one, and consent always takes the
file's value (a "no" withdraws it).  A contact whose e-mail domain is a business domain
joins the workspace's account with that domain, when there is one; free-mail and ISP
mail domains never name an account.

Columns may be named in English or French (``e-mail``/``courriel``, ``nom``,
``société``/``entreprise``, ``consentement``); ``;`` and tab delimiters are read too.
Consent is ``yes``/``no`` (also ``oui``/``non``, ``true``/``false``, ``1``/``0``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from webleads.campaigns.csvfile import (
    MAX_ERRORS,
    MAX_LINES,
    LineError,
    Problem,
    errors_of,
    read_table,
)
from webleads.collect.wire import valid_email
from webleads.db import contacts_import as db
from webleads.identify import business_domain

ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "e_mail", "mail", "courriel", "adresse_email", "adresse_e_mail"),
    "name": ("name", "full_name", "nom", "nom_complet", "contact"),
    "organisation": ("organisation", "organization", "company", "societe", "entreprise",
                     "organisme"),
    "consent": ("consent", "consentement", "opt_in", "optin"),
}
REQUIRED = ("email", "consent")
MAX_TEXT = 200
YES = frozenset({"yes", "y", "true", "1", "oui", "o", "vrai"})
NO = frozenset({"no", "n", "false", "0", "non", "faux"})


@dataclass(frozen=True, slots=True)
class ContactImport:
    lines: int  # data lines read
    created: int
    updated: int
    attached: int  # contacts newly attached to an account
    skipped: int  # bad lines left out (skip_invalid)
    errors: tuple[LineError, ...]

    @property
    def imported(self) -> bool:
        return self.created + self.updated > 0


def parse_consent(value: str) -> bool:
    word = value.strip().lower()
    if word in YES:
        return True
    if word in NO:
        return False
    raise ValueError(f"{value!r}: write yes or no" if value.strip() else "write yes or no")


def check_line(cells: dict[str, str]) -> db.ContactLine | list[Problem]:
    """A validated line, or its problems."""
    problems: list[Problem] = []
    given = cells.get("email", "")
    email = valid_email(given)
    if email is None:
        problems.append(("email", "not_email", given, f"{given!r} is not an e-mail address")
                        if given else ("email", "missing", "", "missing"))
    name = cells.get("name", "")
    organisation = cells.get("organisation", "")
    for field, value in (("name", name), ("organisation", organisation)):
        if len(value) > MAX_TEXT:
            problems.append((field, "too_long", str(MAX_TEXT),
                             f"longer than {MAX_TEXT} characters"))
    consent = False
    try:
        consent = parse_consent(cells.get("consent", ""))
    except ValueError as exc:
        problems.append(("consent", "consent", cells.get("consent", ""), str(exc)))
    if problems:
        return problems
    assert email is not None
    return db.ContactLine(email=email, name=name, organisation=organisation, consent=consent,
                          domain=email.rpartition("@")[2], business_domain=business_domain(email))


def import_contacts(conn: Connection, workspace_id: int, text: str, *, now: datetime,
                    skip_invalid: bool = False) -> ContactImport:
    """Check every line of ``text``, then import all of them (or the good ones)."""
    table = read_table(text, ALIASES, REQUIRED)
    if isinstance(table, LineError):
        return ContactImport(0, 0, 0, 0, 0, (table,))
    errors: list[LineError] = []
    good: dict[str, db.ContactLine] = {}
    seen: dict[str, int] = {}
    count = bad = 0
    for number, cells in table.rows:
        count += 1
        if "__error__" in cells:
            errors.append(LineError(number, "line", cells["__error__"], "csv"))
            bad += 1
            break
        if count > MAX_LINES:
            errors.append(LineError(number, "line", f"more than {MAX_LINES} lines: split the "
                                    "file", "too_many_lines", str(MAX_LINES)))
            bad += 1
            break
        checked = check_line(cells)
        if isinstance(checked, db.ContactLine) and checked.email in seen:
            other = seen[checked.email]
            checked = [("email", "duplicate", str(other),
                        f"{checked.email} is already on line {other}")]
        if isinstance(checked, list):
            bad += 1
            errors.extend(errors_of(number, checked))
            continue
        seen[checked.email] = number
        good[checked.email] = checked
    errors = errors[:MAX_ERRORS]
    if errors and not skip_invalid:
        return ContactImport(count, 0, 0, 0, 0, tuple(errors))
    lines = list(good.values())
    known = db.existing_emails(conn, workspace_id, good)
    ids = db.upsert_contacts(conn, workspace_id, lines, now=now)
    by_domain: dict[str, list[int]] = {}
    for x in lines:
        if x.business_domain:
            by_domain.setdefault(x.business_domain, []).append(ids[x.email])
    attached = db.attach_accounts(conn, workspace_id, by_domain)
    return ContactImport(count, len(lines) - len(known), len(known), attached, bad,
                         tuple(errors))

"""Import of campaign costs from CSV: ``day,campaign,amount,currency``.

Every line is checked before anything is written; one bad line (a named line and
field) and nothing is imported.  Lines of the same campaign and day add up; the import
then replaces that day's amount (re-importing a file is safe).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Connection

from webleads.campaigns.csvfile import LineError
from webleads.campaigns.model import Campaign, parse_cents, parse_currency
from webleads.db import campaigns as db

COLUMNS = ("day", "campaign", "amount", "currency")
MAX_ERRORS = 50


CostError = LineError


@dataclass(frozen=True, slots=True)
class CostImport:
    lines: int  # data lines read
    days: int  # (campaign, day) amounts written; 0 when there are errors
    total_cents: dict[str, int]  # per currency
    errors: tuple[CostError, ...]


def import_costs(conn: Connection, workspace_id: int, text: str, *,
                 now: datetime) -> CostImport:
    """Check every line of ``text``, then write all of them, or nothing."""
    known = db.list_campaigns(conn, workspace_id)
    by_name = {c.name.lower(): c for c in known} | {c.utm_campaign: c for c in known}
    errors: list[CostError] = []
    sums: dict[tuple[int, date], db.CostLine] = {}
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return CostImport(0, 0, {}, (CostError(1, ", ".join(missing), "missing column",
                                               "missing_column", ", ".join(missing)),))
    at = {c: header.index(c) for c in COLUMNS}
    count = 0
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        count += 1
        cells = {c: (row[i].strip() if i < len(row) else "") for c, i in at.items()}
        line_errors: list[CostError] = []
        try:
            day = date.fromisoformat(cells["day"])
        except ValueError:
            line_errors.append(CostError(number, "day", f"{cells['day']!r} is not a date "
                                         "(YYYY-MM-DD)", "not_date", cells["day"]))
        campaign: Campaign | None = by_name.get(cells["campaign"].lower())
        if campaign is None:
            line_errors.append(CostError(number, "campaign",
                                         f"no campaign {cells['campaign']!r}", "no_campaign",
                                         cells["campaign"]))
        try:
            cents = parse_cents(cells["amount"])
        except ValueError as exc:
            line_errors.append(CostError(number, "amount", str(exc), "amount", cells["amount"]))
        try:
            currency = parse_currency(cells["currency"])
        except ValueError as exc:
            line_errors.append(CostError(number, "currency", str(exc), "currency",
                                         cells["currency"]))
        else:
            if campaign is not None and currency != campaign.currency:
                line_errors.append(CostError(
                    number, "currency", f"{currency} differs from the currency of campaign "
                    f"{campaign.name!r} ({campaign.currency})", "currency_mismatch",
                    campaign.currency))
        if line_errors:
            errors.extend(line_errors)
            if len(errors) >= MAX_ERRORS:
                break
            continue
        assert campaign is not None
        key = (campaign.id, day)
        before = sums.get(key)
        sums[key] = db.CostLine(campaign.id, day,
                                cents + (before.amount_cents if before else 0), currency)
    if errors:
        return CostImport(count, 0, {}, tuple(errors[:MAX_ERRORS]))
    db.put_costs(conn, list(sums.values()), now=now)
    totals: dict[str, int] = {}
    for x in sums.values():
        totals[x.currency] = totals.get(x.currency, 0) + x.amount_cents
    return CostImport(count, len(sums), totals, ())

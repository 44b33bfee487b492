"""The accounts feed as a file: CSV (UTF-8 with a BOM so that Excel reads the accents;
``;`` between fields in French, where Excel expects it, ``,`` in English) or XLSX.

Cells are values, never formulas: a text that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is prefixed with ``'`` (CSV/formula injection: an
organisation's name comes from network registries and forms, i.e. from strangers).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from webleads.web import accounts_labels as label
from webleads.web.accounts_feed import Row
from webleads.web.i18n import Translator

Cell = str | int | float | datetime | None
Column = tuple[str, Callable[[Row], Cell]]
_RISKY = ("=", "+", "-", "@", "\t", "\r")


def safe(value: Cell) -> Cell:
    """A cell that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(_RISKY):
        return "'" + value
    return value


def columns(t: Translator, link: Callable[[int], str]) -> list[Column]:
    """(header, value of a row) of every column of the files."""
    return [
        (str(t("Organisation")), lambda r: r.account.name),
        (str(t("Domain")), lambda r: r.account.domain or ""),
        (str(t("Score")), lambda r: round(r.score)),
        (str(t("Heat")), lambda r: label.heat(t, r.heat)),
        (str(t("Fit grade")), lambda r: r.grade),
        (str(t("Stage")), lambda r: label.stage(t, r.stage)),
        (str(t("Owner")), lambda r: r.account.owner or ""),
        (str(t("NAF code")), lambda r: r.account.naf or ""),
        (str(t("Sector")), lambda r: label.sector(t, r.account.naf, r.account.naf_version)),
        (str(t("Employees")), lambda r: label.size(t, r.account.headcount_band)),
        (str(t("Country")), lambda r: r.account.country or ""),
        (str(t("Top product range")), lambda r: r.account.top_range or ""),
        (str(t("Last visit")), lambda r: r.account.last_seen),
        (str(t("Visits")), lambda r: r.account.visits),
        (str(t("Pages")), lambda r: r.account.pageviews),
        (str(t("Engaged time (s)")), lambda r: round(r.account.engaged_ms / 1000)),
        (str(t("First-touch source")), lambda r: label.source(t, r.account.source)),
        (str(t("Category")), lambda r: label.category(t, r.account.category)),
        (str(t("Role")), lambda r: label.role(t, r.account.role)),
        (str(t("Link")), lambda r: link(r.account.id)),
    ]


def _local(value: datetime, tz: str) -> datetime:
    try:
        zone = ZoneInfo(tz)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return value.astimezone(zone).replace(tzinfo=None, microsecond=0)


def _values(rows: Sequence[Row], cols: list[Column], tz: str) -> list[list[Cell]]:
    out = []
    for r in rows:
        line: list[Cell] = []
        for _, get in cols:
            value = get(r)
            line.append(_local(value, tz) if isinstance(value, datetime) else safe(value))
        out.append(line)
    return out


def to_csv(rows: Sequence[Row], t: Translator, link: Callable[[int], str], *,
           tz: str) -> bytes:
    cols = columns(t, link)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if t.lang == "fr" else ",")
    writer.writerow([safe(h) for h, _ in cols])
    for line in _values(rows, cols, tz):
        writer.writerow(["" if v is None else v.strftime("%Y-%m-%d %H:%M:%S")
                         if isinstance(v, datetime) else v for v in line])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[Row], t: Translator, link: Callable[[int], str], *, tz: str,
            about: Sequence[tuple[str, Any]]) -> bytes:
    """The rows on a first sheet (bold headers, frozen first row, dates as dates), and
    ``about`` (label, value) lines on a second one: filters, date, truncation."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cols = columns(t, link)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(t("Accounts"))[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title, _ in cols:
        cell = WriteOnlyCell(sheet, value=safe(title))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    when = next(i for i, (title, _) in enumerate(cols) if title == str(t("Last visit")))
    for line in _values(rows, cols, tz):
        cells: list[Any] = list(line)
        stamp = line[when]
        if isinstance(stamp, datetime):
            cell = WriteOnlyCell(sheet, value=stamp)
            cell.number_format = "yyyy-mm-dd hh:mm"
            cells[when] = cell
        sheet.append(cells)
    info = book.create_sheet(str(t("About this export"))[:31])
    for name, value in about:
        info.append([safe(name), safe(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

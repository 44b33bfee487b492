"""Reading the CSV files users bring (contacts, deals): the delimiter of the header line
(``,``, ``;`` as French spreadsheets write, or a tab), a byte-order mark, column names in
English or French, and errors that name a line and a field."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

MAX_LINES = 100_000
MAX_ERRORS = 100


@dataclass(frozen=True, slots=True)
class LineError:
    """A problem of one line: ``message`` in English (the command line); ``code`` and
    ``value`` for pages that say it in the reader's language."""

    line: int
    field: str
    message: str
    code: str = "invalid"  # see ERROR_CODES
    value: str = ""  # the cell (or the other line, the limit) the message names

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


# missing_column, csv, too_many_lines, missing, not_email, too_long, consent, duplicate,
# not_date, amount, currency, currency_mismatch, no_contact, not_domain, no_account, who,
# no_campaign
Problem = tuple[str, str, str, str]  # field, code, value, English message


def errors_of(line: int, problems: list[Problem]) -> list[LineError]:
    return [LineError(line, f, message, code, value) for f, code, value, message in problems]


def _name(text: str) -> str:
    """A header cell as a key: no accents, lower case, ``_`` for spaces and dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "_".join(ascii_text.strip().lower().replace("-", " ").split())


def delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass(frozen=True, slots=True)
class Table:
    columns: dict[str, int]  # canonical name -> position
    rows: Iterator[tuple[int, dict[str, str]]]  # (line number, canonical name -> cell)


def read_table(text: str, aliases: Mapping[str, tuple[str, ...]],
               required: tuple[str, ...]) -> Table | LineError:
    """The file's data lines keyed by canonical column names (``aliases``: canonical
    name -> accepted spellings), or the error of its header line."""
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=delimiter(first))
    try:
        header = [_name(h) for h in next(reader, [])]
    except csv.Error as exc:
        return LineError(1, "header", str(exc), "csv")
    columns: dict[str, int] = {}
    for canonical, names in aliases.items():
        for i, h in enumerate(header):
            if h in names and canonical not in columns:
                columns[canonical] = i
    missing = [c for c in required if c not in columns]
    if missing:
        return LineError(1, ", ".join(missing), "missing column", "missing_column",
                         ", ".join(missing))

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        try:
            for row in reader:
                number = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                yield number, {c: (row[i].strip() if i < len(row) else "")
                               for c, i in columns.items()}
        except csv.Error as exc:
            yield reader.line_num, {"__error__": str(exc)}

    return Table(columns, rows())

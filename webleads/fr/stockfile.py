"""Reading INSEE's stock files: CSV with a header, plain, ``.gz`` or ``.zip``, streamed.

The files have millions of lines: they are read line by line, and each data line comes
out as its fields or as the :class:`LineError` that makes it unreadable.
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, cast

ErrorReason = Literal[
    "not_9_digits", "not_14_digits", "siret_not_of_siren", "unknown_headcount_band",
    "unknown_category", "unknown_state", "bad_naf_code", "bad_nomenclature",
    "missing_name", "bad_boolean", "bad_postcode", "field_count", "invalid_utf8",
    "unreadable",
]
Progress = Callable[[int, int | None], None]  # (bytes read, total bytes or None)
NOT_DIFFUSED = "[ND]"  # value of the masked fields of partially diffusible units


class SireneError(Exception):
    """The file cannot be imported (unreadable, columns missing), or a strict import met
    a bad line (``error``)."""

    def __init__(self, message: str, error: LineError | None = None) -> None:
        super().__init__(message)
        self.error = error


@dataclass(frozen=True, slots=True)
class LineError:
    """Why one line of a stock file was not imported."""

    line: int
    field: str
    value: str
    reason: ErrorReason

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}={self.value!r}: {self.reason}"


class Columns:
    """Where the columns of one file are, and how far it has been read."""

    def __init__(self, header: list[str], position: Callable[[], int], total: int | None):
        self.index = {name: i for i, name in enumerate(header) if name}
        self.width = len(header)
        self.position = position
        self.total = total

    def picker(self, names: tuple[str, ...]) -> Callable[[list[str]], list[str]]:
        """A function giving the values of ``names`` in a row, stripped; "" for a column
        the file does not have and for a masked value ([ND])."""
        where = [self.index.get(name, -1) for name in names]

        def pick(row: list[str]) -> list[str]:
            values = [row[i].strip() if i >= 0 else "" for i in where]
            if NOT_DIFFUSED in values:
                values = ["" if v == NOT_DIFFUSED else v for v in values]
            return values

        return pick


Line = tuple[int, list[str] | LineError]


@contextmanager
def records(path: Path, required: tuple[str, ...], progress: Progress | None
            ) -> Iterator[tuple[Iterator[Line], Columns]]:
    """The data lines of a stock file as (line number, fields or the line's error);
    raises :class:`SireneError` when a ``required`` column is missing."""
    with _open(path) as (text, position, total):
        reader = csv.reader(text)
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            raise SireneError(f"{path}: empty file") from None
        except csv.Error as exc:
            raise SireneError(f"{path}: unreadable header: {exc}") from exc
        missing = [name for name in required if name not in header]
        if missing:
            raise SireneError(f"{path}: missing columns: {', '.join(missing)}")
        columns = Columns(header, position, total)
        if progress is not None:
            progress(0, total)
        yield _lines(reader, columns), columns


def _lines(reader: Any, columns: Columns) -> Iterator[Line]:
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a NUL byte, an unterminated quote
            yield reader.line_num, LineError(reader.line_num, "(line)", str(exc)[:200],
                                             "unreadable")
            continue
        if not row:
            continue  # a blank line
        if len(row) != columns.width:
            yield reader.line_num, LineError(reader.line_num, "(line)",
                                             f"{len(row)} fields, {columns.width} expected",
                                             "field_count")
            continue
        yield reader.line_num, row


@contextmanager
def _open(path: Path) -> Iterator[tuple[IO[str], Callable[[], int], int | None]]:
    """A text stream over a plain, gzipped or zipped CSV file, a function giving how many
    bytes were consumed so far, and the total (the same unit)."""
    with ExitStack() as stack:
        try:
            raw = stack.enter_context(path.open("rb"))
        except OSError as exc:
            raise SireneError(f"{path}: {exc.strerror or exc}") from exc
        total: int | None = path.stat().st_size
        binary: IO[bytes] = raw
        position: Callable[[], int] = raw.tell
        if path.suffix.lower() == ".zip":
            try:
                archive = stack.enter_context(zipfile.ZipFile(raw))
            except zipfile.BadZipFile as exc:
                raise SireneError(f"{path}: {exc}") from exc
            members = [m for m in archive.infolist() if m.filename.lower().endswith(".csv")]
            if not members:
                raise SireneError(f"{path}: no .csv file in the archive")
            binary = stack.enter_context(archive.open(members[0]))
            total = members[0].file_size
            position = binary.tell
        elif path.suffix.lower() == ".gz":
            binary = cast(IO[bytes], stack.enter_context(gzip.GzipFile(fileobj=raw)))
        # Bytes that are not UTF-8 become U+FFFD and make their line an error
        # (Columns.undecodable) instead of stopping a 3 GB import.
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline="")
        try:
            yield text, position, total
        except (OSError, EOFError, zipfile.BadZipFile) as exc:  # corrupt archive, disk error
            raise SireneError(f"{path}: {exc}") from exc
        finally:
            text.detach()  # the stack closes the binary streams

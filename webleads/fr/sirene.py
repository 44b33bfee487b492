"""Import INSEE's SIRENE stock files: legal units, then their head offices.

``StockUniteLegale_utf8.csv`` fills ``fr_companies``; ``StockEtablissement_utf8.csv``
adds the postcode, city and trade name of each known company's head office.  Both are
read as streams (plain, ``.gz`` or ``.zip``) and written in batches, one transaction
each; re-importing a file updates the rows in place.

A bad line is never dropped silently: it is reported (line number, column, value and
reason) and counted, and the import goes on; with ``strict=True`` the first bad line
stops the import instead (batches written before it stay: re-importing is idempotent).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.engine import Engine

from webleads.db import fr as db
from webleads.db.engine import read_only
from webleads.fr.naf import BAND_ORDER, CATEGORIES, HEADCOUNT_BANDS, SUBCLASS, band_at_least
from webleads.fr.names import compact, first_token, name_key
from webleads.fr.stockfile import (
    Columns,
    LineError,
    Progress,
    SireneError,
    records,
)

__all__ = ["ImportReport", "LineError", "SireneError", "import_establishments",
           "import_units"]

UNIT_COLUMNS = (
    "siren", "denominationUniteLegale", "sigleUniteLegale", "nomUniteLegale",
    "prenomUsuelUniteLegale", "categorieEntreprise", "trancheEffectifsUniteLegale",
    "activitePrincipaleUniteLegale", "nomenclatureActivitePrincipaleUniteLegale",
    "etatAdministratifUniteLegale",
)
UNIT_OPTIONAL = (
    "statutDiffusionUniteLegale", "nomUsageUniteLegale", "prenom1UniteLegale",
    "denominationUsuelle1UniteLegale", "activitePrincipaleNAF25UniteLegale",
)
ESTABLISHMENT_COLUMNS = (
    "siret", "siren", "etablissementSiege", "codePostalEtablissement",
    "libelleCommuneEtablissement", "enseigne1Etablissement",
    "denominationUsuelleEtablissement",
)

_NOMENCLATURE = re.compile(r"^[A-Za-z0-9.]{1,16}$")
_POSTCODE = re.compile(r"^\d{5}$")
MAX_LISTED_ERRORS = 100
TICK_ROWS = 20_000  # progress is reported at least this often


@dataclass(slots=True)
class ImportReport:
    rows: int = 0        # data lines read
    imported: int = 0    # rows written (units inserted or updated; head offices set)
    errors: int = 0      # bad lines, reported and skipped
    listed: list[LineError] = field(default_factory=list)  # the first MAX_LISTED_ERRORS
    # units
    filtered: int = 0        # left out by active_only / min_headcount
    refreshed: int = 0       # of which already known, and updated all the same
    non_diffusible: int = 0  # no name can be published (statut de diffusion partielle)
    # establishments
    not_head_office: int = 0
    unknown_siren: int = 0   # head offices of companies that were not imported

    def add_error(self, error: LineError) -> None:
        self.errors += 1
        if len(self.listed) < MAX_LISTED_ERRORS:
            self.listed.append(error)


def import_units(engine: Engine, path: Path, *, now: datetime, active_only: bool = False,
                 min_headcount: str | None = None, strict: bool = False,
                 batch_size: int = 5000, progress: Progress | None = None,
                 on_error: Callable[[LineError], None] | None = None) -> ImportReport:
    """Import ``StockUniteLegale``.  ``active_only`` keeps units whose state is A;
    ``min_headcount`` (an INSEE band code such as ``11``) keeps units of that band or
    larger.  A unit left out that is already known is still refreshed, so a company
    that closed since the last import is marked inactive."""
    if min_headcount is not None and min_headcount not in BAND_ORDER:
        raise SireneError(f"unknown headcount band {min_headcount!r}: one of "
                          f"{', '.join(HEADCOUNT_BANDS)}")
    report = ImportReport()
    with read_only(engine) as conn, conn.begin():
        refresh_known = db.count_companies(conn) > 0
    keep: list[tuple[Any, ...]] = []
    left_out: list[tuple[Any, ...]] = []

    def flush() -> None:
        if not keep and not left_out:
            return
        with engine.begin() as conn:
            db.upsert_units(conn, keep)
            if left_out:
                known = db.existing_sirens(conn, (row[0] for row in left_out))
                again = [row for row in left_out if row[0] in known]
                db.upsert_units(conn, again)
                report.refreshed += len(again)
        report.imported += len(keep)
        keep.clear()
        left_out.clear()

    with records(path, UNIT_COLUMNS, progress) as (lines, where):
        pick = where.picker(UNIT_FIELDS)
        for line, found in lines:
            report.rows += 1
            parsed = found if isinstance(found, LineError) else _unit(pick(found), line)
            if isinstance(parsed, LineError):
                _bad(report, parsed, strict, on_error)
            elif parsed is None:
                report.non_diffusible += 1
            elif (active_only and not parsed.active) or (
                    min_headcount is not None and not band_at_least(parsed.band or None,
                                                                    min_headcount)):
                report.filtered += 1
                if refresh_known:
                    left_out.append(_row(parsed, now))
            else:
                keep.append(_row(parsed, now))
            if len(keep) + len(left_out) >= batch_size:
                flush()
            if report.rows % TICK_ROWS == 0:
                _tick(progress, where)
        flush()
        _tick(progress, where)
    return report


def import_establishments(engine: Engine, path: Path, *, now: datetime,
                          strict: bool = False, batch_size: int = 5000,
                          progress: Progress | None = None,
                          on_error: Callable[[LineError], None] | None = None) -> ImportReport:
    """Import ``StockEtablissement``: the head office (etablissementSiege = true) of each
    known company gives it a postcode, a city and a trade name.  Import the legal units
    first: head offices of companies not in the table are counted, not stored."""
    report = ImportReport()
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        if not batch:
            return
        with engine.begin() as conn:
            known = db.existing_sirens(conn, (row[-1] for row in batch))
            rows = [row for row in batch if row[-1] in known]
            db.update_head_offices(conn, rows)
        report.imported += len(rows)
        report.unknown_siren += len(batch) - len(rows)
        batch.clear()

    with records(path, ESTABLISHMENT_COLUMNS, progress) as (lines, where):
        pick = where.picker(ESTABLISHMENT_COLUMNS)
        for line, found in lines:
            report.rows += 1
            parsed = found if isinstance(found, LineError) else _head_office(
                pick(found), line, now)
            if isinstance(parsed, LineError):
                _bad(report, parsed, strict, on_error)
            elif parsed is None:
                report.not_head_office += 1
            else:
                batch.append(parsed)
                if len(batch) >= batch_size:
                    flush()
            if report.rows % TICK_ROWS == 0:
                _tick(progress, where)
        flush()
        _tick(progress, where)
    return report


def _bad(report: ImportReport, error: LineError, strict: bool,
         on_error: Callable[[LineError], None] | None) -> None:
    report.add_error(error)
    if on_error is not None:
        on_error(error)
    if strict:
        raise SireneError(str(error), error)


# --- one line ---------------------------------------------------------------------------

UNIT_FIELDS = UNIT_COLUMNS + UNIT_OPTIONAL  # the order in which _unit() unpacks them


class _Unit(NamedTuple):
    siren: str
    name: str
    sigle: str
    naf: str
    nomenclature: str
    naf25: str
    band: str
    category: str
    active: bool


def _unit(values: list[str], line: int) -> _Unit | LineError | None:
    """A legal unit from ``values`` (in the order of ``UNIT_FIELDS``); None when it has
    no public name."""
    bad = _undecodable(values, UNIT_FIELDS, line)
    if bad:
        return bad
    (siren, denomination, sigle, last, first_usual, category, band, naf, nomenclature, state,
     diffusion, last_usage, first, usual_name, naf25) = values
    if len(siren) != 9 or not siren.isdigit():
        return LineError(line, "siren", siren, "not_9_digits")
    if state not in ("A", "C"):
        return LineError(line, "etatAdministratifUniteLegale", state, "unknown_state")
    if band and band not in HEADCOUNT_BANDS:
        return LineError(line, "trancheEffectifsUniteLegale", band, "unknown_headcount_band")
    if category and category not in CATEGORIES:
        return LineError(line, "categorieEntreprise", category, "unknown_category")
    if nomenclature and not _NOMENCLATURE.match(nomenclature):
        return LineError(line, "nomenclatureActivitePrincipaleUniteLegale", nomenclature,
                         "bad_nomenclature")
    if naf and (len(naf) > 8 or (nomenclature in ("NAFRev2", "NAF2025")
                                 and not SUBCLASS.match(naf))):
        return LineError(line, "activitePrincipaleUniteLegale", naf, "bad_naf_code")
    if naf25 and not SUBCLASS.match(naf25):
        return LineError(line, "activitePrincipaleNAF25UniteLegale", naf25, "bad_naf_code")
    if denomination:
        name = " ".join(denomination.split())
    else:  # a sole trader: first name and (usage, else birth) surname
        surname = last_usage or last
        name = " ".join(f"{first_usual or first} {surname}".split()) if surname else ""
        name = name or " ".join(usual_name.split())
    if not name:
        if diffusion == "P":  # the names are masked: nothing can be shown
            return None
        return LineError(line, "denominationUniteLegale", "", "missing_name")
    return _Unit(siren, name[:300], sigle[:100], naf, nomenclature, naf25, band, category,
                 state == "A")


def _row(unit: _Unit, now: datetime) -> tuple[Any, ...]:
    """The ``db.UNIT_COLUMNS`` row of a unit (only for the units written: the name keys
    cost more than the rest of the line)."""
    key = name_key(unit.name)
    sigle_key = (compact(name_key(unit.sigle))[:100] or None) if unit.sigle else None
    return (unit.siren, unit.name, key[:300], first_token(key), compact(key)[:300],
            unit.sigle or None, sigle_key, unit.naf or None, unit.nomenclature or None,
            unit.naf25 or None, unit.band or None, unit.category or None, unit.active,
            "stock", now)


def _head_office(values: list[str], line: int, now: datetime
                 ) -> tuple[Any, ...] | LineError | None:
    """The ``db.HEAD_OFFICE_COLUMNS`` row then the siren (``values`` follow
    ``ESTABLISHMENT_COLUMNS``); None for the other establishments."""
    bad = _undecodable(values, ESTABLISHMENT_COLUMNS, line)
    if bad:
        return bad
    siret, siren, head, postcode, city, sign, usual_name = values
    if len(siret) != 14 or not siret.isdigit():
        return LineError(line, "siret", siret, "not_14_digits")
    if len(siren) != 9 or not siren.isdigit():
        return LineError(line, "siren", siren, "not_9_digits")
    if not siret.startswith(siren):
        return LineError(line, "siret", siret, "siret_not_of_siren")
    if head not in ("true", "false"):
        return LineError(line, "etablissementSiege", head, "bad_boolean")
    if head == "false":
        return None
    if postcode and not _POSTCODE.match(postcode):
        return LineError(line, "codePostalEtablissement", postcode, "bad_postcode")
    trade = " ".join((sign or usual_name).split())[:300]
    trade_key = (name_key(trade)[:300] or None) if trade else None
    return (siret, postcode or None, " ".join(city.split())[:100] or None, trade or None,
            trade_key, now, siren)


def _undecodable(values: list[str], names: tuple[str, ...], line: int) -> LineError | None:
    """An error naming the first field that held bytes that are not UTF-8."""
    if "\ufffd" not in "".join(values):
        return None
    i = next(i for i, v in enumerate(values) if "\ufffd" in v)
    return LineError(line, names[i], values[i], "invalid_utf8")


def _tick(progress: Progress | None, where: Columns) -> None:
    if progress is not None:
        progress(where.position(), where.total)

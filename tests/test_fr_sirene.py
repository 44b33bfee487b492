"""Import of INSEE's SIRENE stock files, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webleads.db import fr as db
from webleads.db.schema_fr import fr_companies
from webleads.fr.sirene import (
    LineError,
    SireneError,
    import_establishments,
    import_units,
)

FIXTURES = Path(__file__).parent / "fixtures" / "fr"
UNITS = FIXTURES / "StockUniteLegale_utf8.csv"
ESTABLISHMENTS = FIXTURES / "StockEtablissement_utf8.csv"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

EXPECTED_ERRORS = [
    (16, "siren", "12345", "not_9_digits"),
    (17, "trancheEffectifsUniteLegale", "99", "unknown_headcount_band"),
    (18, "categorieEntreprise", "XXL", "unknown_category"),
    (19, "etatAdministratifUniteLegale", "Z", "unknown_state"),
    (20, "activitePrincipaleUniteLegale", "6201Z", "bad_naf_code"),
    (21, "denominationUniteLegale", "", "missing_name"),
    (22, "(line)", "7 fields, 35 expected", "field_count"),
    (23, "denominationUniteLegale", "CAF\ufffd DU COMMERCE", "invalid_utf8"),
]


def rows(engine: Engine) -> dict[str, dict[str, object]]:
    with engine.connect() as conn:
        return {r.siren: dict(r._mapping) for r in conn.execute(sa.select(fr_companies))}


def test_import_units(engine: Engine) -> None:
    seen: list[LineError] = []
    ticks: list[tuple[int, int | None]] = []
    report = import_units(engine, UNITS, now=NOW, batch_size=4, on_error=seen.append,
                          progress=lambda done, total: ticks.append((done, total)))
    assert (report.rows, report.imported, report.errors, report.non_diffusible,
            report.filtered) == (23, 14, 8, 1, 0)
    assert [(e.line, e.field, e.value, e.reason) for e in report.listed] == EXPECTED_ERRORS
    assert seen == report.listed
    assert ticks[0] == (0, UNITS.stat().st_size) and ticks[-1] == (UNITS.stat().st_size,) * 2

    found = rows(engine)
    assert len(found) == 14
    sg = found["100000001"]
    assert (sg["name"], sg["name_key"], sg["name_token"], sg["compact_key"], sg["sigle"],
            sg["sigle_key"]) == ("SOCIETE GENERALE", "societe generale", "societe",
                                 "societegenerale", "SG", "sg")
    assert (sg["naf"], sg["naf_version"], sg["naf25"], sg["headcount_band"], sg["category"],
            sg["active"], sg["source"]) == ("64.19Z", "NAFRev2", "64.19A", "53", "GE", True,
                                            "stock")
    assert sg["updated_at"] == NOW and sg["postcode"] is None
    assert found["100000006"]["name"] == "DUPONT, MARTIN ET ASSOCIES"
    assert found["100000007"]["name"] == "JEANNE MARTIN"  # a sole trader
    assert found["100000005"]["active"] is False
    assert (found["100000010"]["naf"], found["100000010"]["naf_version"]) == ("62.10A",
                                                                               "NAF2025")
    assert (found["100000013"]["naf"], found["100000013"]["naf_version"],
            found["100000013"]["headcount_band"]) == ("72.2Z", "NAFRev1", None)
    assert "100000008" not in found  # masked name: counted, not stored
    assert "100000015" in found  # the line after the bad ones


def test_reimport_is_idempotent_and_updates_in_place(engine: Engine) -> None:
    import_units(engine, UNITS, now=NOW)
    first = rows(engine)
    report = import_units(engine, UNITS, now=LATER, batch_size=3)
    assert (report.imported, report.errors) == (14, 8)
    again = rows(engine)
    assert again.keys() == first.keys()
    for siren, row in again.items():
        assert row["updated_at"] == LATER
        assert {k: v for k, v in row.items() if k != "updated_at"} == {
            k: v for k, v in first[siren].items() if k != "updated_at"}


def test_filters_keep_active_employers(engine: Engine) -> None:
    report = import_units(engine, UNITS, now=NOW, active_only=True, min_headcount="11")
    assert (report.imported, report.filtered, report.refreshed) == (8, 6, 0)
    assert sorted(rows(engine)) == ["100000001", "100000002", "100000003", "100000004",
                                    "100000009", "100000010", "100000011", "100000015"]


def test_a_filtered_unit_already_known_is_refreshed(engine: Engine, tmp_path: Path) -> None:
    import_units(engine, UNITS, now=NOW)
    # The next month, ACME SOLUTIONS (100000004) has closed.
    closed = tmp_path / "StockUniteLegale_utf8.csv"
    lines = [line.replace(b",A,,,ACME SOLUTIONS,", b",C,,,ACME SOLUTIONS,")
             if line.startswith(b"100000004,") else line
             for line in UNITS.read_bytes().split(b"\n")]
    closed.write_bytes(b"\n".join(lines))
    report = import_units(engine, closed, now=LATER, active_only=True)
    assert report.refreshed >= 1
    found = rows(engine)
    assert found["100000004"]["active"] is False
    assert found["100000004"]["updated_at"] == LATER
    assert found["100000012"]["updated_at"] == LATER  # active and kept
    assert len(found) == 14  # nothing new: the left-out units were not added


def test_unknown_min_headcount_is_refused(engine: Engine) -> None:
    with pytest.raises(SireneError, match="unknown headcount band"):
        import_units(engine, UNITS, now=NOW, min_headcount="99")


def test_strict_stops_at_the_first_bad_line(engine: Engine) -> None:
    with pytest.raises(SireneError) as info:
        import_units(engine, UNITS, now=NOW, strict=True, batch_size=5)
    assert info.value.error == LineError(16, "siren", "12345", "not_9_digits")
    assert "line 16" in str(info.value)
    assert len(rows(engine)) == 10  # two full batches of five were written before


def test_missing_columns_are_named(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text("siren,denominationUniteLegale\n100000001,X\n", encoding="utf-8")
    with pytest.raises(SireneError, match="missing columns: sigleUniteLegale, nomUnite"):
        import_units(engine, path, now=NOW)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(SireneError, match="empty file"):
        import_units(engine, empty, now=NOW)
    with pytest.raises(SireneError, match="No such file"):
        import_units(engine, tmp_path / "absent.csv", now=NOW)


def test_compressed_files(engine: Engine, tmp_path: Path) -> None:
    gz = tmp_path / "StockUniteLegale_utf8.csv.gz"
    gz.write_bytes(gzip.compress(UNITS.read_bytes()))
    assert import_units(engine, gz, now=NOW).imported == 14
    archive = tmp_path / "StockEtablissement_utf8.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(ESTABLISHMENTS, "StockEtablissement_utf8.csv")
    ticks: list[tuple[int, int | None]] = []
    report = import_establishments(engine, archive, now=NOW,
                                   progress=lambda d, t: ticks.append((d, t)))
    assert report.imported == 6
    assert ticks[-1] == (ESTABLISHMENTS.stat().st_size,) * 2  # uncompressed bytes
    not_zip = tmp_path / "broken.zip"
    not_zip.write_bytes(b"not a zip file")
    with pytest.raises(SireneError, match="broken.zip"):
        import_units(engine, not_zip, now=NOW)


def test_import_establishments(engine: Engine) -> None:
    import_units(engine, UNITS, now=NOW)
    report = import_establishments(engine, ESTABLISHMENTS, now=LATER, batch_size=2)
    assert (report.rows, report.imported, report.unknown_siren, report.not_head_office,
            report.errors) == (12, 6, 1, 1, 4)
    assert [(e.line, e.field, e.reason) for e in report.listed] == [
        (9, "siret", "not_14_digits"), (10, "siret", "siret_not_of_siren"),
        (11, "etablissementSiege", "bad_boolean"), (12, "codePostalEtablissement",
                                                    "bad_postcode")]
    found = rows(engine)
    sg = found["100000001"]
    assert (sg["head_office_siret"], sg["postcode"], sg["city"], sg["trade_name"]) == (
        "10000000100010", "75009", "PARIS 9", None)
    assert sg["updated_at"] == LATER
    acme = found["100000004"]
    assert (acme["trade_name"], acme["trade_key"]) == ("ACME", "acme")
    sncf = found["100000009"]
    assert (sncf["trade_name"], sncf["trade_key"]) == ("SNCF VOYAGEURS", "sncf voyageurs")
    assert found["100000011"]["postcode"] == "75008"  # the good line after the bad ones
    assert found["100000002"]["postcode"] is None
    # Re-importing changes nothing but the time.
    import_establishments(engine, ESTABLISHMENTS, now=LATER)
    assert rows(engine) == found


def test_unit_reimport_keeps_the_head_office(engine: Engine) -> None:
    import_units(engine, UNITS, now=NOW)
    import_establishments(engine, ESTABLISHMENTS, now=NOW)
    import_units(engine, UNITS, now=LATER)
    assert rows(engine)["100000001"]["postcode"] == "75009"


def test_existing_sirens_in_chunks(engine: Engine) -> None:
    import_units(engine, UNITS, now=NOW)
    known = set(rows(engine))
    with engine.connect() as conn:
        asked = [f"{n:09d}" for n in range(100000000, 100001200)]
        assert db.existing_sirens(conn, asked) == known

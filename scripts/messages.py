"""List the dashboard's strings that have no French translation yet.

    .venv/bin/python scripts/messages.py            # msgids missing from locale/fr/*.po
    .venv/bin/python scripts/messages.py --po FILE  # ... written as a .po skeleton to fill

Strings are found in webleads/web/**/*.py (calls of _, t, gettext, ngettext) and in the
templates (calls of _ and ngettext).  tests/test_web_i18n.py runs the same check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from webleads.web.messages import missing_french, web_messages  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--po", type=Path, help="write the missing strings to this .po file")
    args = parser.parse_args()
    missing = missing_french(web_messages())
    if args.po:
        lines = []
        for msgid, where in missing:
            lines.append(f"#: {where}")
            if isinstance(msgid, tuple):
                lines += [f"msgid {_q(msgid[0])}", f"msgid_plural {_q(msgid[1])}",
                          'msgstr[0] ""', 'msgstr[1] ""', ""]
            else:
                lines += [f"msgid {_q(msgid)}", 'msgstr ""', ""]
        args.po.write_text("\n".join(lines), encoding="utf-8")
    for msgid, where in missing:
        print(f"{where}: {msgid!r}")
    print(f"{len(missing)} strings without French", file=sys.stderr)
    return 1 if missing else 0


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


if __name__ == "__main__":
    raise SystemExit(main())

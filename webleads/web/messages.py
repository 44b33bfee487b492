"""Finds the dashboard's translatable strings (for scripts/messages.py and the test that
every one of them has a French translation)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from webleads.web.i18n import catalogue

HERE = Path(__file__).parent
KEYWORDS = {"_": None, "t": None, "gettext": None, "ngettext": (1, 2)}
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]

MsgId = str | tuple[str, str]


def web_messages() -> dict[MsgId, str]:
    """msgid -> first place it is used (file:line)."""
    found: dict[MsgId, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            HERE, METHODS, keywords=KEYWORDS, options_map={
                "**/templates/**.html": {"trimmed": "false"}}):
        if filename.endswith("messages.py"):
            continue
        key: MsgId
        if isinstance(message, tuple):
            if len(message) < 2 or not message[0] or not message[1]:
                continue
            key = (message[0], message[1])
        elif message:
            key = message
        else:
            continue
        found.setdefault(key, f"webleads/web/{filename}:{lineno}")
    return found


def missing_french(found: dict[MsgId, str]) -> list[tuple[MsgId, str]]:
    fr = catalogue("fr")
    return [(msgid, where) for msgid, where in sorted(found.items(), key=lambda p: p[1])
            if msgid not in fr]

"""French and English messages of the command line (the dashboard uses Babel catalogues).

``t(lang, message, **values)``: ``lang`` is a locale such as ``fr_FR.UTF-8`` or ``en``.
A test checks that every key exists in both languages.
"""

from __future__ import annotations

from webleads.i18n.messages import MESSAGES


def language(locale: str | None) -> str:
    return "fr" if (locale or "").lower().startswith("fr") else "en"


def t(lang: str, message: str, **values: object) -> str:
    text = MESSAGES[language(lang)].get(message) or MESSAGES["en"][message]
    return text.format(**values) if values else text

"""The dashboard's languages: Babel catalogues (English source strings, French
translations in ``locale/fr/*.po``, one file per part of the dashboard), the choice of
language for a request, and locale-aware formatting of dates, numbers and money.

Templates call ``_("Text with %(name)s", name=value)``: the translation is trusted
markup from our catalogues, the values are escaped.  Python code calls the same
translator and gets the same :class:`~markupsafe.Markup`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

from babel import Locale
from babel import dates as bdates
from babel import numbers as bnumbers
from babel.messages.pofile import read_po
from markupsafe import Markup, escape

Lang = Literal["en", "fr"]
LANGS: tuple[Lang, ...] = ("en", "fr")
LOCALE_DIR = Path(__file__).with_name("locale")


@cache
def catalogue(lang: str) -> Mapping[str | tuple[str, str], str | tuple[str, ...]]:
    """msgid -> translation for ``lang`` (merged from every .po file of the language);
    English is the source language and has no catalogue."""
    out: dict[str | tuple[str, str], str | tuple[str, ...]] = {}
    folder = LOCALE_DIR / lang
    for path in sorted(folder.glob("*.po")) if folder.is_dir() else ():
        with path.open("rb") as fh:
            for message in read_po(fh, locale=lang):
                if not message.id or message.fuzzy:
                    continue
                if isinstance(message.id, tuple | list):
                    strings = tuple(message.string or ())
                    if all(strings):
                        out[(message.id[0], message.id[1])] = strings
                elif message.string:
                    out[str(message.id)] = str(message.string)
    return out


@cache
def _locale(lang: str) -> Locale:
    # Parsed once: every number and date of a page asks for it (hundreds per page).
    return Locale.parse("fr_FR" if lang == "fr" else "en_GB")


def _pattern(digits: int) -> str:
    return "#,##0" + ("." + "0" * digits if digits else "")


def _plural_index(lang: str, n: int) -> int:
    # gettext's rules: French "n > 1", English "n != 1"; both have two forms.
    return int(n > 1) if lang == "fr" else int(n != 1)


def _fill(text: str, values: Mapping[str, Any]) -> Markup:
    markup = Markup(text)
    return markup % {k: escape(v) for k, v in values.items()} if values else markup


@dataclass(frozen=True)
class Translator:
    """Strings and formats of one language."""

    lang: Lang
    tz: str = "UTC"
    _messages: Mapping[Any, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, lang: str, tz: str = "UTC") -> Translator:
        chosen: Lang = "fr" if lang == "fr" else "en"
        return cls(chosen, tz, catalogue(chosen) if chosen != "en" else {})

    def gettext(self, msgid: str, /, **values: Any) -> Markup:
        found = self._messages.get(msgid)
        return _fill(found if isinstance(found, str) else msgid, values)

    __call__ = gettext

    def ngettext(self, singular: str, plural: str, n: int, /, **values: Any) -> Markup:
        values.setdefault("num", self.number(n))
        forms = self._messages.get((singular, plural))
        index = _plural_index(self.lang, n)
        if isinstance(forms, tuple) and len(forms) > index:
            return _fill(forms[index], values)
        return _fill(singular if n == 1 else plural, values)

    # -- formats --------------------------------------------------------------------------

    @property
    def locale(self) -> Locale:
        return _locale(self.lang)

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "–"
        return bnumbers.format_decimal(value, format=_pattern(digits), locale=self.locale)

    def percent(self, value: float | None, digits: int = 0) -> str:
        if value is None:
            return "–"
        pattern = self.locale.percent_formats[None].pattern  # "#,##0\u00a0%" in French
        return bnumbers.format_percent(value, format=pattern.replace("#,##0", _pattern(digits)),
                                       locale=self.locale)

    def money(self, cents: int | None, currency: str = "EUR") -> str:
        if cents is None:
            return "–"
        return bnumbers.format_currency(cents / 100, currency, locale=self.locale)

    def date(self, value: dt.date | dt.datetime | None, form: str = "medium") -> str:
        if value is None:
            return "–"
        if isinstance(value, dt.datetime):
            value = self._local(value).date()
        return bdates.format_date(value, format=form, locale=self.locale)

    def datetime(self, value: dt.datetime | None, form: str = "medium") -> str:
        if value is None:
            return "–"
        return bdates.format_datetime(self._local(value), format=form, locale=self.locale)

    def time(self, value: dt.datetime | None) -> str:
        if value is None:
            return "–"
        return bdates.format_time(self._local(value), format="short", locale=self.locale)

    def ago(self, value: dt.datetime | None, now: dt.datetime | None = None) -> str:
        """"3 hours ago" / "il y a 3 heures"."""
        if value is None:
            return "–"
        now = now or dt.datetime.now(UTC)
        delta = value.astimezone(UTC) - now
        if abs(delta) < timedelta(seconds=45):
            return str(self.gettext("just now"))
        return bdates.format_timedelta(delta, add_direction=True, threshold=1.0,
                                       locale=self.locale)

    def duration(self, ms: int | float | None) -> str:
        """Engaged time: "2 min 05 s", "45 s", "1 h 10 min"."""
        if not ms:
            return "0 s"
        seconds = int(round(ms / 1000))
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        if hours:
            return f"{hours} h {minutes:02d} min"
        if minutes:
            return f"{minutes} min {secs:02d} s"
        return f"{secs} s"

    def _local(self, value: dt.datetime) -> dt.datetime:
        from zoneinfo import ZoneInfo

        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        try:
            return aware.astimezone(ZoneInfo(self.tz))
        except (KeyError, ValueError):
            return aware.astimezone(UTC)


def negotiate(accept_language: str | None) -> Lang:
    """The best of our languages for an ``Accept-Language`` header (English by default)."""
    if not accept_language:
        return "en"
    wanted: list[tuple[float, str]] = []
    for part in accept_language.split(",")[:20]:
        piece = part.strip().split(";")
        tag = piece[0].strip().lower()
        quality = 1.0
        for param in piece[1:]:
            name, _, val = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(val)
                except ValueError:
                    quality = 0.0
        if tag:
            wanted.append((quality, tag))
    for _quality, tag in sorted(wanted, key=lambda p: -p[0]):
        base = tag.split("-")[0]
        if base in LANGS:
            return "fr" if base == "fr" else "en"
    return "en"

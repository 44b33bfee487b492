"""Every string of the dashboard exists in French and English; formats follow the locale."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from webleads.web.i18n import Translator, catalogue, negotiate
from webleads.web.messages import missing_french, web_messages

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_every_dashboard_string_has_a_french_translation() -> None:
    found = web_messages()
    assert len(found) > 50
    missing = missing_french(found)
    assert missing == [], "run scripts/messages.py --po FILE, translate, add to locale/fr/"


def test_translations_keep_their_placeholders() -> None:
    for msgid, translated in catalogue("fr").items():
        if isinstance(msgid, tuple):
            assert isinstance(translated, tuple)
            for form in translated:
                assert set(PLACEHOLDER.findall(form)) <= set(PLACEHOLDER.findall(msgid[1]))
        else:
            assert isinstance(translated, str)
            assert set(PLACEHOLDER.findall(translated)) == set(PLACEHOLDER.findall(msgid)), msgid


def test_values_are_escaped_and_translations_are_markup() -> None:
    fr = Translator.of("fr")
    out = fr("Invalid request: %(fields)s", fields="<script>x</script>")
    assert str(out) == "Requête invalide : &lt;script&gt;x&lt;/script&gt;"
    assert str(Translator.of("en")("Live")) == "Live"
    assert str(fr("Live")) == "En direct"
    assert str(fr("a string nobody translated")) == "a string nobody translated"


def test_locale_formats() -> None:
    fr, en = Translator.of("fr", "Europe/Paris"), Translator.of("en")
    assert fr.number(1234567) == "1\u202f234\u202f567"
    assert en.number(1234567) == "1,234,567"
    assert fr.money(123456, "EUR") == "1\u202f234,56\u00a0€"
    assert en.money(123456, "EUR") == "€1,234.56"
    assert fr.percent(0.256) == "26\u00a0%"
    assert fr.date(date(2026, 3, 5)) == "5 mars 2026"
    assert en.date(date(2026, 3, 5)) == "5 Mar 2026"
    # 23:30 UTC is already the next day in Paris.
    assert fr.date(datetime(2026, 3, 5, 23, 30, tzinfo=UTC)) == "6 mars 2026"
    now = datetime(2026, 3, 5, 12, tzinfo=UTC)
    assert fr.ago(now - timedelta(hours=3), now) == "il y a 3 heures"
    assert en.ago(now - timedelta(hours=3), now) == "3 hours ago"
    assert en.ago(now, now) == "just now"
    assert en.duration(125_000) == "2 min 05 s"


def test_language_negotiation() -> None:
    assert negotiate("fr-FR,fr;q=0.9,en;q=0.8") == "fr"
    assert negotiate("de-DE,de;q=0.9,en;q=0.5,fr;q=0.4") == "en"
    assert negotiate("de-DE,fr;q=0.3") == "fr"
    assert negotiate("") == "en"
    assert negotiate("garbage;;;q=zz,,") == "en"

"""Message bodies in French and English, and the texts' catalogue."""

from __future__ import annotations

import json
import string
from dataclasses import replace
from typing import Any

import pytest

from tests.test_outbox_receivers import PAYLOAD, T0
from webleads.outbox import render
from webleads.outbox.channels import SmtpConfig, build_email, webhook_request
from webleads.outbox.messages import MESSAGES, t
from webleads.outbox.model import Message, event_id


def message(kind: str = "mql", payload: dict[str, Any] | None = None,
            language: Any = "en", **more: Any) -> Message:
    return Message(id=1, workspace_id=3, channel="webhook", destination="https://h.example/",
                   kind=kind, payload=PAYLOAD if payload is None else payload,
                   language=language, idempotency_key="mql:7:2026-03-02", created_at=T0,
                   **more)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    assert MESSAGES["en"].keys() == MESSAGES["fr"].keys()
    for key, english in MESSAGES["en"].items():
        assert fields(english) == fields(MESSAGES["fr"][key]), key


SUBJECTS = [
    ("mql", {}, "Acme Industries became a marketing-qualified lead (MQL)",
     "Acme Industries est devenu un lead qualifié marketing (MQL)"),
    ("stage", {"stage": "SQL"}, "Acme Industries moved to the SQL stage",
     "Acme Industries passe au stade SQL"),
    ("score_threshold", {"threshold": 50}, "Acme Industries crossed a score of 50",
     "Acme Industries a dépassé un score de 50"),
    ("score_jump", {"delta": 25}, "Acme Industries: score up 25 points",
     "Acme Industries : score en hausse de 25 points"),
    ("target_visit", {}, "Target account Acme Industries is visiting your site",
     "Le compte cible Acme Industries visite votre site"),
    ("hot_page", {"page": "/pricing"}, "Acme Industries viewed /pricing",
     "Acme Industries a consulté /pricing"),
    ("digest", {"items": [{}, {}]}, "Your hot accounts today: 2",
     "Vos comptes chauds du jour : 2"),
    ("test", {}, "Test message from webleads", "Message de test de webleads"),
    ("new_kind", {}, "Alert about Acme Industries", "Alerte sur Acme Industries"),
    ("mql", {"title": "  Custom   subject "}, "Custom subject", "Custom subject"),
]


@pytest.mark.parametrize("kind, extra, english, french", SUBJECTS)
def test_subjects(kind: str, extra: dict[str, Any], english: str, french: str) -> None:
    payload = {**PAYLOAD, **extra}
    assert render.content(message(kind, payload)).subject == english
    assert render.content(message(kind, payload, "fr")).subject == french


def test_missing_values_do_not_fail() -> None:
    assert render.content(message("score_jump", {})).subject == (
        "an unknown organisation: score up ? points")
    assert t("fr", "subject_hot_page", account="X") == "X a consulté ?"
    assert t("fr_FR.UTF-8", "label_why") == "Pourquoi"


def test_text_layout_in_french() -> None:
    text = render.email_text(render.content(message(language="fr")))
    assert text.splitlines()[:7] == [
        "Acme Industries est devenu un lead qualifié marketing (MQL)",
        "",
        "Compte : Acme Industries (acme.fr, FR)",
        "Score : 72",
        "Note : A",
        "Stade : mql",
        "Responsable : Jeanne Martin",
    ]
    assert "Pourquoi :\n  - +20 pricing page ×2\n" in text
    assert text.endswith(f"Identifiant d'événement : {message().event_id}\n")


def test_slack_escapes_control_sequences() -> None:
    body = render.slack_body(render.content(message(payload={
        "account": {"name": "<!channel> & <https://evil.example|click>"}})))
    assert body["text"].startswith("&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;")
    mrkdwn = json.dumps(body["blocks"][1:])  # the header block is plain text, shown as is
    assert body["blocks"][0]["text"]["type"] == "plain_text"
    assert "<!channel>" not in mrkdwn and "&lt;!channel&gt; &amp;" in mrkdwn


def test_event_id_is_stable_and_per_workspace() -> None:
    assert message().event_id == event_id(3, "mql:7:2026-03-02")
    assert event_id(3, "a") == event_id(3, "a") != event_id(4, "a")


def test_every_attempt_sends_the_same_bytes() -> None:
    first, later = message(attempt=1, secret="s"), message(attempt=5, secret="s")
    assert render.webhook_body(first) == render.webhook_body(later)
    body, headers = webhook_request(first, now=1_700_000_000)
    assert headers["X-Webleads-Signature"].startswith("t=1700000000,v1=")
    config = SmtpConfig(host="mail.example.com", from_address="alerts@example.com")
    assert build_email(first, config).as_bytes() == build_email(later, config).as_bytes()
    other = build_email(replace(first, idempotency_key="other"), config)
    assert other["Message-ID"] != build_email(first, config)["Message-ID"]


def test_urls_other_than_http_are_dropped() -> None:
    content = render.content(message(payload={"url": "javascript:alert(1)"}))
    assert content.url is None
    assert "javascript" not in render.email_html(content)


def test_a_long_digest_is_cut_but_counted() -> None:
    items = [{"account": f"Company {i}", "score": i} for i in range(120)]
    content = render.content(message("digest", {"items": items}))
    assert content.subject == "Your hot accounts today: 120"
    assert len(content.items) == render.MAX_ITEMS
    assert len(render.slack_body(content)["blocks"]) <= 50

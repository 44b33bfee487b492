"""The channels end to end: enqueue -> worker -> a real SMTP server (aiosmtpd) or a real
HTTP receiver on 127.0.0.1, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.test_outbox_receivers import (
    PAYLOAD,
    T0,
    http_receiver,
    new_workspace,
    put,
    smtp_sink,
)
from webleads.db import outbox as db
from webleads.outbox import signature
from webleads.outbox.channels import (
    EmailSender,
    SmtpConfig,
    classify,
    http_client,
    make_senders,
)
from webleads.outbox.model import Message, Senders
from webleads.outbox.queue import webhook_secret
from webleads.outbox.ssrf import Guard
from webleads.outbox.worker import deliver_due


@pytest.fixture
def workspace(engine: Engine) -> int:
    return new_workspace(engine)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with http_client(timeout=10) as made:
        yield made


def run(engine: Engine, senders: Senders, at: timedelta = timedelta(0)) -> int:
    return deliver_due(engine, now=T0 + at, worker_id="w", limit=20, senders=senders,
                       random=lambda: 0.5)


def stored(engine: Engine, message_id: int | None) -> db.Stored:
    assert message_id is not None
    with engine.connect() as conn:
        found = db.get_message(conn, message_id)
    assert found is not None
    return found


def smtp_senders(port: int, **options: Any) -> Senders:
    config = SmtpConfig(host="127.0.0.1", port=port, from_address="alerts@example.com",
                        from_name="Webleads Alerts", security=options.pop("security", "none"),
                        timeout=10, **options)
    return {"email": EmailSender(config)}


# -- e-mail --------------------------------------------------------------------------------

@pytest.mark.parametrize("language, subject, label", [
    ("fr", "Acme Industries est devenu un lead qualifié marketing (MQL)", "Pourquoi :"),
    ("en", "Acme Industries became a marketing-qualified lead (MQL)", "Why:"),
])
def test_email_has_text_and_html_in_the_message_language(
        engine: Engine, workspace: int, language: Any, subject: str, label: str) -> None:
    with smtp_sink() as sink:
        message_id = put(engine, workspace, "jeanne@client.example", channel="email",
                         language=language)
        assert run(engine, smtp_senders(sink.port)) == 1
    message = stored(engine, message_id)
    assert message.state == "delivered"
    assert message.history[0].status_code == 250
    assert message.history[0].reply == "250 2.0.0 queued"
    [mail] = sink.messages
    assert sink.envelopes == [("alerts@example.com", ["jeanne@client.example"])]
    assert mail["Subject"] == subject
    assert mail["To"] == "jeanne@client.example"
    assert mail["From"] == "Webleads Alerts <alerts@example.com>"
    assert mail["Message-ID"] == f"<{message.event_id}@example.com>"
    assert mail["X-Webleads-Event-Id"] == message.event_id
    assert mail["Content-Language"] == language
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    text_body, html_body = text.get_content(), html.get_content()
    for body in (text_body, html_body):
        assert subject in body and message.event_id in body
        assert "+20 pricing page ×2" in body and "Jeanne Martin" in body
    assert label in text_body
    assert f'<html lang="{language}">' in html_body
    assert '<a href="https://webleads.example.com/accounts/7">' in html_body


def test_email_escapes_what_comes_from_visitors(engine: Engine, workspace: int) -> None:
    payload = {"account": {"name": "<script>alert(1)</script> & Co"},
               "reasons": ["<b>bold</b>"], "url": "javascript:alert(1)"}
    with smtp_sink() as sink:
        put(engine, workspace, "a@client.example", channel="email", payload=payload)
        run(engine, smtp_senders(sink.port))
    html = sink.messages[0].get_body(("html",))
    assert html is not None
    body = html.get_content()
    assert "<script>" not in body and "&lt;script&gt;" in body and "&amp; Co" in body
    assert "<b>bold" not in body and "javascript:" not in body


def test_email_relay_refusing_three_times_then_accepting(engine: Engine,
                                                         workspace: int) -> None:
    with smtp_sink() as sink:
        sink.failures = 3
        message_id = put(engine, workspace, "a@client.example", channel="email")
        senders = smtp_senders(sink.port)
        at = timedelta(0)
        for _ in range(4):
            assert run(engine, senders, at) == 1
            at = stored(engine, message_id).next_attempt_at - T0
        assert run(engine, senders, at + timedelta(days=1)) == 0
    message = stored(engine, message_id)
    assert message.state == "delivered"
    assert [(a.outcome, a.status_code) for a in message.history] == [
        ("retry", 451), ("retry", 451), ("retry", 451), ("delivered", 250)]
    assert len(sink.messages) == 1 and sink.attempts == 4


def test_email_permanent_refusal_is_dead_at_once(engine: Engine, workspace: int) -> None:
    with smtp_sink() as sink:
        sink.refuse = "550 5.1.1 no such user"
        message_id = put(engine, workspace, "nobody@client.example", channel="email")
        run(engine, smtp_senders(sink.port))
    message = stored(engine, message_id)
    assert message.state == "dead"
    assert message.last_error == "SMTP recipient refused: 550 5.1.1 no such user"
    assert [(a.outcome, a.status_code) for a in message.history] == [("permanent", 550)]


def test_email_login_and_relay_errors(engine: Engine, workspace: int) -> None:
    with smtp_sink(user=("webleads", "pa55")) as sink:
        good = put(engine, workspace, "a@client.example", channel="email", key="good")
        run(engine, smtp_senders(sink.port, username="webleads", password="pa55"))
        bad = put(engine, workspace, "a@client.example", channel="email", key="bad")
        run(engine, smtp_senders(sink.port, username="webleads", password="wrong"))
    assert stored(engine, good).state == "delivered" and len(sink.messages) == 1
    message = stored(engine, bad)
    assert message.state == "pending"  # the relay's configuration, not the message
    assert message.last_error is not None and "authentication failed" in message.last_error
    down = put(engine, workspace, "a@client.example", channel="email", key="down")
    run(engine, smtp_senders(sink.port))  # the sink is stopped: connection refused
    message = stored(engine, down)
    assert message.state == "pending" and message.last_error is not None
    assert "ConnectionRefusedError" in message.last_error


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_email_over_tls(engine: Engine, workspace: int, certificate: tuple[Path, Path],
                        security: str) -> None:
    cert, key = certificate
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    tls = {"tls_context": server} if security == "starttls" else {"ssl_context": server}
    with smtp_sink(user=("webleads", "pa55"), **tls) as sink:
        message_id = put(engine, workspace, "a@client.example", channel="email")
        run(engine, smtp_senders(sink.port, security=security, ca_file=str(cert),
                                 username="webleads", password="pa55"))
        untrusted = put(engine, workspace, "a@client.example", channel="email", key="no-ca")
        run(engine, smtp_senders(sink.port, security=security, username="webleads",
                                 password="pa55"))
    assert stored(engine, message_id).state == "delivered" and len(sink.messages) == 1
    message = stored(engine, untrusted)  # an unknown certificate is not accepted
    assert message.state == "pending" and message.last_error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in message.last_error


# -- webhooks ------------------------------------------------------------------------------

def test_webhook_is_signed_and_carries_the_event_id(engine: Engine, workspace: int,
                                                    client: httpx.Client) -> None:
    senders = make_senders(guard=Guard(allow_private=True), client=client)
    with http_receiver() as receiver:
        message_id = put(engine, workspace, receiver.url, language="fr")
        with engine.begin() as conn:  # the secret the user copies into the receiver
            receiver.secret = webhook_secret(conn, workspace_id=workspace, url=receiver.url,
                                             now=T0)
        before = int(time.time())
        assert run(engine, senders) == 1
    message = stored(engine, message_id)
    assert message.state == "delivered"
    [request] = receiver.requests
    assert request.signature_ok is True  # recomputed by the receiver with the secret
    headers = request.headers
    stamp = int(headers["x-webleads-timestamp"])
    assert before - 1 <= stamp <= time.time() + 1
    assert headers["x-webleads-signature"] == signature.sign(receiver.secret, stamp,
                                                             request.body)
    assert headers["idempotency-key"] == message.event_id
    assert headers["content-type"] == "application/json"
    assert headers["x-webleads-event"] == "mql"
    assert headers["x-webleads-attempt"] == "1"
    body = request.json()
    assert body == {"id": message.event_id, "type": "mql", "created_at": "2026-03-02T09:00:00Z",
                    "workspace_id": workspace, "language": "fr",
                    "subject": "Acme Industries est devenu un lead qualifié marketing (MQL)",
                    "data": PAYLOAD}


def test_webhook_secret_rotation(engine: Engine, workspace: int,
                                 client: httpx.Client) -> None:
    senders = make_senders(guard=Guard(allow_private=True), client=client)
    with http_receiver() as receiver:
        put(engine, workspace, receiver.url, key="first")
        with engine.begin() as conn:
            old = webhook_secret(conn, workspace_id=workspace, url=receiver.url, now=T0)
            assert webhook_secret(conn, workspace_id=workspace, url=receiver.url,
                                  now=T0) == old
            new = webhook_secret(conn, workspace_id=workspace, url=receiver.url, now=T0,
                                 rotate=True)
        assert new != old and len(new) == 64
        receiver.secret = old
        run(engine, senders)
        assert receiver.requests[-1].signature_ok is False  # signed with the new one now
        receiver.secret = new
        put(engine, workspace, receiver.url, key="second")
        run(engine, senders, timedelta(hours=1))
        assert receiver.requests[-1].signature_ok is True


def test_slack_message(engine: Engine, workspace: int, client: httpx.Client) -> None:
    senders = make_senders(guard=Guard(allow_private=True), client=client)
    with http_receiver() as receiver:
        message_id = put(engine, workspace, receiver.url, channel="slack")
        run(engine, senders)
    message = stored(engine, message_id)
    assert message.state == "delivered"
    [request] = receiver.requests
    assert request.headers["idempotency-key"] == message.event_id
    body = request.json()
    assert body["text"] == (f"Acme Industries became a marketing-qualified lead (MQL) "
                            f"[{message.event_id}]")
    kinds = [block["type"] for block in body["blocks"]]
    assert kinds[0] == "header" and kinds[-1] == "context"
    assert message.event_id in body["blocks"][-1]["elements"][0]["text"]
    fields = body["blocks"][1]["fields"]
    assert {"type": "mrkdwn", "text": "*Score*\n72"} in fields
    assert any("<https://webleads.example.com/accounts/7|Open in webleads>" in
               block.get("text", {}).get("text", "") for block in body["blocks"])


def test_teams_adaptive_card(engine: Engine, workspace: int, client: httpx.Client) -> None:
    senders = make_senders(guard=Guard(allow_private=True), client=client)
    with http_receiver(status=202) as receiver:
        message_id = put(engine, workspace, receiver.url, channel="teams", language="fr")
        run(engine, senders)
    message = stored(engine, message_id)
    assert message.state == "delivered"
    body = receiver.requests[0].json()
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["lang"] == "fr"
    texts = [block.get("text", "") for block in card["body"]]
    assert texts[0] == "Acme Industries est devenu un lead qualifié marketing (MQL)"
    assert f"Identifiant d'événement : {message.event_id}" in texts
    facts = next(block["facts"] for block in card["body"] if block["type"] == "FactSet")
    assert {"title": "Responsable", "value": "Jeanne Martin"} in facts
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Ouvrir dans webleads",
                                "url": "https://webleads.example.com/accounts/7"}]


def test_digest_lists_its_accounts(engine: Engine, workspace: int,
                                   client: httpx.Client) -> None:
    payload = {"owner": "Jeanne Martin", "items": [
        {"account": {"name": "Acme"}, "score": 80, "reasons": ["+20 pricing"]},
        {"account": "Globex", "score": 55, "url": "https://webleads.example.com/a/2"}]}
    senders = make_senders(guard=Guard(allow_private=True), client=client)
    with http_receiver() as receiver:
        put(engine, workspace, receiver.url, channel="slack", kind="digest", payload=payload)
        run(engine, senders)
    text = str(receiver.requests[0].json()["blocks"])
    assert "Your hot accounts today: 2" in text and "Globex" in text and "+20 pricing" in text


def test_status_classification() -> None:
    headers = httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert classify(204, headers, "").outcome == "delivered"
    assert classify(503, headers, "").retry_after == 0.0  # a date in the past
    assert classify(429, httpx.Headers({"Retry-After": "7"}), "").retry_after == 7.0
    assert classify(418, headers, "").outcome == "permanent"
    assert classify(302, httpx.Headers({"Location": "/x"}), "").error == (
        "HTTP 302: redirects are not followed (to /x); give the final URL")


def test_webhook_without_a_secret_is_refused(engine: Engine, workspace: int,
                                             client: httpx.Client) -> None:
    sender = make_senders(guard=Guard(allow_private=True), client=client)["webhook"]
    message = Message(id=1, workspace_id=workspace, channel="webhook",
                      destination="http://127.0.0.1:9/", kind="test", payload={},
                      language="en", idempotency_key="k", created_at=T0)
    result = sender(message)
    assert result.outcome == "permanent" and result.error is not None
    assert "no signing secret" in result.error

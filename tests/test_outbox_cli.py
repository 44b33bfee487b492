"""``webleads outbox``, run in-process on SQLite and PostgreSQL, in English and French."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import typer
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from tests.test_outbox_receivers import T0, http_receiver, new_workspace, put, smtp_sink
from webleads.outbox import cli as outbox_cli
from webleads.outbox.channels import http_client
from webleads.outbox.config import OutboxSetup, outbox_setup
from webleads.outbox.model import Policy
from webleads.outbox.worker import deliver_due

app = typer.Typer()
outbox_cli.register(app)


@app.callback()
def _root() -> None:
    """A stand-in for the ``webleads`` command."""


def text(output: str) -> str:
    return " ".join(output.split())


@pytest.fixture
def cli(db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("WEBLEADS_DATABASE_URL", db_url)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("WEBLEADS_LANG", raising=False)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, ["outbox", *args], catch_exceptions=False)

    return run


def allow_loopback(monkeypatch: pytest.MonkeyPatch, **smtp: Any) -> None:
    """The tests' receivers live on 127.0.0.1, which real settings refuse."""
    def setup(settings: Any) -> OutboxSetup:
        base = outbox_setup(settings)
        config = None
        if smtp:
            from webleads.outbox.channels import SmtpConfig
            config = SmtpConfig(host="127.0.0.1", from_address="alerts@example.com",
                                security="none", timeout=10, **smtp)
        return OutboxSetup(policy=Policy(max_attempts=2), smtp=config, allow_private=True,
                           http_timeout=base.http_timeout)

    monkeypatch.setattr(outbox_cli, "outbox_setup", setup)


def test_list_show_retry(cli: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = new_workspace(engine)
    assert "The outbox is empty." in cli("list").stdout
    with http_receiver(status=404) as receiver:
        message_id = put(engine, workspace, receiver.url)
        put(engine, workspace, "http://10.0.0.1/hook", key="private", allow_private=False)
        with http_client() as client:
            deliver_due(engine, now=T0, worker_id="w", limit=5,
                        senders=OutboxSetup(allow_private=True).senders(client))

        listed = cli("list", "--state", "dead")
        assert listed.exit_code == 0
        assert receiver.url in listed.stdout and "HTTP 404: refused by the receiver" in text(
            listed.stdout)
        assert "10.0.0.1 is a private address" in text(listed.stdout)
        rows = json.loads(cli("list", "--json").stdout)
        assert {r["state"] for r in rows} == {"dead"} and len(rows) == 2
        assert cli("list", "--state", "pending").stdout.strip() == (
            "The outbox is empty (pending).")
        assert cli("list", "--state", "lost").exit_code == 2

        shown = cli("show", str(message_id))
        assert shown.exit_code == 0
        out = text(shown.stdout)
        assert "state: dead" in out and "Attempts:" in out and "permanent" in out
        assert "404" in out
        data = json.loads(cli("show", str(message_id), "--json").stdout)
        assert data["event_id"] == receiver.requests[0].event_id
        assert [a["outcome"] for a in data["history"]] == ["permanent"]
        assert cli("show", "999").exit_code == 1

        receiver.status = 200
        retried = cli("retry", str(message_id))
        assert retried.exit_code == 0 and f"Message {message_id} is pending again" in (
            retried.stdout)
        again = cli("retry", str(message_id))
        assert again.exit_code == 1 and "is pending: only dead messages" in again.stderr
        allow_loopback(monkeypatch)
        worked = cli("work", "--once")
        assert worked.exit_code == 0 and "1 messages handled." in worked.stdout
    assert json.loads(cli("show", str(message_id), "--json").stdout)["state"] == "delivered"
    assert len({r.event_id for r in receiver.requests}) == 1


def test_test_command_sends_through_the_outbox(cli: Any, engine: Engine,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = new_workspace(engine)
    refused = cli("test", "webhook", "http://169.254.169.254/latest/meta-data")
    assert refused.exit_code == 1
    assert "Refused destination: 169.254.169.254 is a link-local address" in text(
        refused.stderr)
    allow_loopback(monkeypatch)
    with http_receiver() as receiver:
        sent = cli("test", "slack", receiver.url, "--language", "fr")
        assert sent.exit_code == 0, sent.output
        assert re.search(r"Test message \d+ delivered \(200 ok\)", sent.stdout)
        receiver.status = 500
        failed = cli("test", "webhook", receiver.url)
        assert failed.exit_code == 1 and "not delivered: HTTP 500." in text(failed.stderr)
        assert "(pending)" in failed.stderr
        secret = cli("secret", receiver.url)
    assert receiver.requests[0].json()["blocks"][0]["text"]["text"] == (
        "Message de test de webleads")
    value = secret.stdout.strip().rsplit(" ", 1)[1]
    assert len(value) == 64 and f"(workspace {workspace})" in secret.stdout
    rotated = cli("secret", receiver.url, "--rotate")
    assert rotated.stdout.strip().rsplit(" ", 1)[1] != value


def test_test_email(cli: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    new_workspace(engine)
    assert "E-mail is not configured" in cli("test", "email", "a@client.example").stderr
    with smtp_sink() as sink:
        allow_loopback(monkeypatch, port=sink.port)
        sent = cli("test", "email", "a@client.example")
        assert sent.exit_code == 0 and "delivered (250 2.0.0 queued)" in sent.stdout
        assert cli("test", "email", "not an address").exit_code == 1
    assert [m["Subject"] for m in sink.messages] == ["Test message from webleads"]


def test_workspace_choice(cli: Any, engine: Engine) -> None:
    assert "No workspace yet" in cli("secret", "https://hooks.example.com/x").stderr
    new_workspace(engine, "A")
    new_workspace(engine, "B")
    several = cli("secret", "https://hooks.example.com/x")
    assert several.exit_code == 2 and "--workspace" in several.stderr
    assert cli("secret", "https://hooks.example.com/x", "--workspace", "99").exit_code == 1
    assert cli("secret", "https://hooks.example.com/x", "--workspace", "1").exit_code == 0
    assert cli("test", "fax", "x").exit_code == 2


@pytest.mark.parametrize("variable, value", [("LANG", "fr_FR.UTF-8"), ("WEBLEADS_LANG", "fr")])
def test_french(cli: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch, variable: str,
                value: str) -> None:
    monkeypatch.setenv(variable, value)
    assert "La file d'envoi est vide." in cli("list").stdout
    assert "Aucun message 5 dans la file d'envoi." in cli("show", "5").stderr
    workspace = new_workspace(engine)
    message_id = put(engine, workspace, "http://10.0.0.1/", allow_private=False)
    shown = text(cli("show", str(message_id)).stdout)
    assert "Identifiant d'événement" in shown and "Aucun essai pour l'instant." in shown
    assert "d'événement" in shown and "10.0.0.1 is a private address" in shown
    retried = cli("retry", str(message_id))
    assert f"Le message {message_id} est de nouveau en attente" in text(retried.stdout)
    assert "seuls les messages morts" in text(cli("retry", str(message_id)).stderr)

"""``webleads outbox``: list, show, retry, work, test, secret.

``register(app)`` adds the group to the ``webleads`` command.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.engine import Connection, Engine

from webleads.clikit import _reading, _settings, err, out, pick_workspace
from webleads.db import outbox as db
from webleads.db.engine import create_engine
from webleads.db.migrate import upgrade
from webleads.outbox.channels import http_client
from webleads.outbox.config import outbox_setup
from webleads.outbox.messages import t
from webleads.outbox.model import CHANNELS, LANGUAGES, STATES, Channel, Language, State, Stored
from webleads.outbox.queue import retry as requeue
from webleads.outbox.queue import webhook_secret
from webleads.outbox.ssrf import DestinationRefused
from webleads.outbox.worker import deliver_due, send_test, serve_worker, worker_name
from webleads.settings import Settings

outbox_app = typer.Typer(no_args_is_help=True, help="Outward messages (alerts by e-mail, "
                         "Slack, Teams, webhooks): list, inspect, retry, deliver, test.")


def register(app: typer.Typer) -> None:
    app.add_typer(outbox_app, name="outbox")


def _now() -> datetime:
    return datetime.now(UTC)


def _engine(settings: Settings) -> Engine:
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    upgrade(engine)
    return engine


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _as_dict(message: Stored) -> dict[str, Any]:
    data = {k: _plain(getattr(message, k)) for k in (
        "id", "workspace_id", "channel", "destination", "kind", "language",
        "idempotency_key", "state", "attempts", "next_attempt_at", "claimed_by",
        "claimed_until", "created_at", "delivered_at", "last_error")}
    data["event_id"] = message.event_id
    data["payload"] = dict(message.payload)
    data["history"] = [{k: _plain(getattr(a, k)) for k in (
        "attempt", "worker", "started_at", "finished_at", "outcome", "status_code", "reply",
        "error", "duration_ms")} for a in message.history]
    return data


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


@outbox_app.command("list")
def list_command(
    state: Annotated[str | None, typer.Option(help="pending, sending, delivered or dead "
                                              "(dead: the dead-letter list).")] = None,
    workspace: Annotated[int | None, typer.Option(help="Only this workspace.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Messages of the outbox, newest first."""
    settings = _settings()
    lang = settings.lang
    if state is not None and state not in STATES:
        err.print(t(lang, "bad_state", state=state))
        raise typer.Exit(2)
    with _reading(settings) as conn:
        messages = db.list_messages(conn, state=_state(state), workspace_id=workspace,
                                    limit=limit)
    if as_json:
        print(json.dumps([_as_dict(m) for m in messages], ensure_ascii=False))
        return
    if not messages:
        out.print(t(lang, "list_none", state=f" ({state})" if state else ""))
        return
    table = Table(*(t(lang, f"col_{c}") for c in (
        "id", "state", "channel", "destination", "kind", "attempts", "next", "error")))
    for m in messages:
        table.add_row(str(m.id), m.state, m.channel, m.destination, m.kind, str(m.attempts),
                      _when(m.next_attempt_at) if m.state == "pending" else "",
                      (m.last_error or "")[:80])
    out.print(table)


def _state(value: str | None) -> State | None:
    return next((s for s in STATES if s == value), None)


@outbox_app.command()
def show(
    message_id: Annotated[int, typer.Argument(metavar="ID")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One message, its payload and every attempt to deliver it."""
    settings = _settings()
    lang = settings.lang
    with _reading(settings) as conn:
        message = db.get_message(conn, message_id)
    if message is None:
        err.print(t(lang, "no_message", id=message_id))
        raise typer.Exit(1)
    data = _as_dict(message)
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
        return
    for key in ("id", "workspace_id", "state", "channel", "destination", "kind", "language",
                "idempotency_key", "attempts", "created_at", "next_attempt_at",
                "delivered_at", "claimed_by", "claimed_until", "last_error"):
        if data[key] is not None:
            out.print(f"{key}: {data[key]}", markup=False, highlight=False)
    out.print(t(lang, "show_event", id=message.event_id), markup=False, highlight=False)
    out.print("payload: " + json.dumps(data["payload"], ensure_ascii=False), markup=False,
              highlight=False)
    if not message.history:
        out.print(t(lang, "show_no_attempt"))
        return
    out.print(t(lang, "show_attempts"))
    table = Table(*(t(lang, f"col_{c}") for c in (
        "attempts", "started", "worker", "outcome", "status", "duration", "error")))
    for a in message.history:
        table.add_row(str(a.attempt), _when(a.started_at), a.worker, a.outcome,
                      "" if a.status_code is None else str(a.status_code),
                      "" if a.duration_ms is None else str(a.duration_ms),
                      a.error or a.reply or "")
    out.print(table)


@outbox_app.command()
def retry(message_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Send a dead message again, with the same event id and a fresh budget of attempts."""
    settings = _settings()
    lang = settings.lang
    engine = _engine(settings)
    try:
        with engine.begin() as conn:
            done = requeue(conn, message_id, now=_now())
            message = None if done else db.get_message(conn, message_id)
    finally:
        engine.dispose()
    if done:
        out.print(t(lang, "retried", id=message_id))
        return
    if message is None:
        err.print(t(lang, "no_message", id=message_id))
    else:
        err.print(t(lang, "not_dead", id=message_id, state=message.state))
    raise typer.Exit(1)


@outbox_app.command()
def work(
    once: Annotated[bool, typer.Option("--once", help="One round of due messages, then "
                                       "exit.")] = False,
) -> None:
    """Deliver due messages (a worker; several may run, on several hosts)."""
    settings = _settings()
    setup = outbox_setup(settings)
    engine = _engine(settings)
    client = http_client(setup.http_timeout)
    senders = setup.senders(client)
    worker = worker_name()
    try:
        if once:
            count = deliver_due(engine, now=_now(), worker_id=worker, limit=setup.policy.batch,
                                senders=senders, policy=setup.policy)
            out.print(t(settings.lang, "worked", count=count))
            return
        err.print(t(settings.lang, "working", worker=worker))
        stop = threading.Event()
        try:
            serve_worker(engine, stop, senders=senders, policy=setup.policy,
                         worker_id=worker)
        except KeyboardInterrupt:
            stop.set()
    finally:
        client.close()
        engine.dispose()


def _workspace(conn: Connection, lang: str, workspace: int | None) -> int:
    return pick_workspace(conn, workspace, lang, t)


@outbox_app.command()
def test(
    channel: Annotated[str, typer.Argument(help="email, slack, teams or webhook.")],
    destination: Annotated[str, typer.Argument(help="An e-mail address or a webhook URL.")],
    workspace: Annotated[int | None, typer.Option(help="The workspace (needed when there "
                                                  "are several).")] = None,
    language: Annotated[str | None, typer.Option("--language", help="fr or en (default: "
                                                 "the command's language).")] = None,
) -> None:
    """Send a test message now and say whether it was delivered."""
    settings = _settings()
    lang = settings.lang
    if channel not in CHANNELS:
        err.print(t(lang, "bad_channel", channel=channel))
        raise typer.Exit(2)
    chosen = language or ("fr" if lang.lower().startswith("fr") else "en")
    if chosen not in LANGUAGES:
        err.print(t(lang, "bad_language", value=chosen))
        raise typer.Exit(2)
    setup = outbox_setup(settings)
    if channel == "email" and setup.smtp is None:
        err.print(t(lang, "no_smtp"))
        raise typer.Exit(1)
    engine = _engine(settings)
    try:
        with engine.connect() as conn:
            workspace_id = _workspace(conn, lang, workspace)
        try:
            with http_client(setup.http_timeout) as client:
                message_id, result = send_test(
                    engine, workspace_id=workspace_id, channel=_channel(channel),
                    destination=destination, language=_language(chosen), now=_now(),
                    senders=setup.senders(client), guard=setup.guard(), policy=setup.policy)
        except DestinationRefused as exc:
            err.print(t(lang, "refused", error=exc), markup=False)
            raise typer.Exit(1) from exc
        with engine.connect() as conn:
            stored = db.get_message(conn, message_id)
    finally:
        engine.dispose()
    detail = result.error or " ".join(
        part for part in (str(result.status_code or ""), result.reply or "") if part)
    if result.reply and result.status_code and result.reply.startswith(f"{result.status_code} "):
        detail = result.error or result.reply  # SMTP replies start with their code
    if result.outcome == "delivered":
        out.print(t(lang, "test_delivered", id=message_id, detail=detail or "ok"),
                  markup=False)
        return
    err.print(t(lang, "test_failed", id=message_id, detail=detail,
                state=stored.state if stored else "?"), markup=False)
    raise typer.Exit(1)


def _channel(value: str) -> Channel:
    return next(c for c in CHANNELS if c == value)


def _language(value: str) -> Language:
    return next(c for c in LANGUAGES if c == value)


@outbox_app.command()
def secret(
    url: Annotated[str, typer.Argument(help="The webhook URL.")],
    workspace: Annotated[int | None, typer.Option(help="The workspace (needed when there "
                                                  "are several).")] = None,
    rotate: Annotated[bool, typer.Option("--rotate", help="Replace it with a new one.")] = False,
) -> None:
    """Show (or replace) the secret that signs the webhooks sent to URL."""
    settings = _settings()
    lang = settings.lang
    engine = _engine(settings)
    try:
        with engine.begin() as conn:
            workspace_id = _workspace(conn, lang, workspace)
            value = webhook_secret(conn, workspace_id=workspace_id, url=url, now=_now(),
                                   rotate=rotate)
    finally:
        engine.dispose()
    out.print(t(lang, "secret_rotated" if rotate else "secret", url=url,
                workspace=workspace_id, secret=value), markup=False, highlight=False)

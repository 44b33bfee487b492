"""Putting messages in the outbox, in the caller's transaction; retrying dead ones;
webhook signing secrets."""

from __future__ import annotations

import secrets as random_secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from webleads.db import outbox as db
from webleads.outbox.model import CHANNELS, LANGUAGES, Channel, Language, State
from webleads.outbox.ssrf import DestinationRefused, check_destination


def new_secret() -> str:
    return random_secrets.token_hex(32)


def enqueue(conn: Connection, *, workspace_id: int, channel: Channel, destination: str,
            kind: str, payload: Mapping[str, Any], language: Language,
            idempotency_key: str, now: datetime, not_before: datetime | None = None,
            allow_private: bool = False,
            make_secret: Callable[[], str] = new_secret) -> int | None:
    """Write a message in ``conn``'s open transaction; its id, or None if already there.

    The message exists if and only if the caller's transaction commits, and the same
    ``idempotency_key`` in a workspace is enqueued once (later calls are no-ops): use a
    key that names the event, e.g. ``f"mql:{account_id}:{rule_id}:{day}"``.

    The destination is checked without DNS (syntax, literal addresses; the full check
    with DNS runs at every send).  A refused one never fails the caller's transaction:
    the message is stored dead, with the reason, for the dead-letter list.  A webhook
    destination gets a signing secret with its first message.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    if not idempotency_key or len(idempotency_key) > 200:
        raise ValueError("idempotency_key: 1 to 200 characters")
    if not kind or len(kind) > 64:
        raise ValueError("kind: 1 to 64 characters")
    state: State = "pending"
    error = None
    try:
        check_destination(channel, destination, allow_private=allow_private)
    except DestinationRefused as exc:
        state, error = "dead", f"refused destination: {exc}"
    message_id = db.insert_message(
        conn, workspace_id=workspace_id, channel=channel, destination=destination, kind=kind,
        payload=dict(payload), language=language, idempotency_key=idempotency_key,
        state=state,
        next_attempt_at=max(now, not_before) if not_before else now,
        created_at=now, last_error=error)
    if message_id is not None and channel == "webhook" and state == "pending":
        db.add_webhook_secret(conn, workspace_id=workspace_id, url=destination,
                              secret=make_secret(), now=now)
    return message_id


def retry(conn: Connection, message_id: int, *, now: datetime,
          workspace_id: int | None = None) -> bool:
    """Send a dead message again (same event id); False when it is not dead."""
    return db.requeue(conn, message_id=message_id, now=now, workspace_id=workspace_id)


def webhook_secret(conn: Connection, *, workspace_id: int, url: str, now: datetime,
                   rotate: bool = False, make_secret: Callable[[], str] = new_secret) -> str:
    """The signing secret of a webhook URL, created if missing (or replaced: ``rotate``)."""
    if rotate:
        db.replace_webhook_secret(conn, workspace_id=workspace_id, url=url,
                                  secret=make_secret(), now=now)
    else:
        db.add_webhook_secret(conn, workspace_id=workspace_id, url=url, secret=make_secret(),
                              now=now)
    found = db.get_webhook_secret(conn, workspace_id=workspace_id, url=url)
    assert found is not None
    return found

"""Use cases of the alert settings page: alert rules (``lifecycle.actions``) with an
audit entry per change, the destinations they send to, webhook signing secrets shown
once, and "send test" — a real message, now, through the outbox and its SSRF guard
(``outbox.worker.send_test``, what ``webleads outbox test`` does)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.engine import Engine

from webleads.db import deliveries as deliveries_db
from webleads.db import lifecycle as lifecycle_db
from webleads.db import outbox as outbox_db
from webleads.lifecycle import actions
from webleads.lifecycle.model import OWNER, AlertRule
from webleads.outbox.channels import http_client
from webleads.outbox.config import outbox_setup
from webleads.outbox.model import Channel, Language
from webleads.outbox.queue import webhook_secret
from webleads.outbox.ssrf import DestinationRefused, DestinationUnresolved, check_destination
from webleads.outbox.worker import send_test
from webleads.privacy.audit import record_audit
from webleads.settings import Settings

TestKind = Literal["delivered", "failed", "refused", "unresolved", "no_smtp"]


@dataclass(frozen=True, slots=True)
class Destination:
    channel: str
    destination: str
    rules: int          # alert rules sending there
    has_secret: bool    # webhooks: a signing secret exists


@dataclass(frozen=True, slots=True)
class TestOutcome:
    kind: TestKind
    channel: str
    destination: str
    status_code: int | None = None
    reply: str | None = None
    error: str | None = None
    message_id: int | None = None
    secret: str | None = None  # a webhook's new signing secret, to show once
    private: bool = False      # refused because the address is private


def rules(engine: Engine, workspace_id: int) -> list[AlertRule]:
    with engine.connect() as conn:
        return lifecycle_db.list_alert_rules(conn, workspace_id)


def destinations(engine: Engine, workspace_id: int) -> list[Destination]:
    """Where the workspace's alerts go: its rules' destinations and its webhooks."""
    with engine.connect() as conn:
        found = lifecycle_db.list_alert_rules(conn, workspace_id)
        secrets = set(deliveries_db.webhook_urls(conn, workspace_id))
    counts: dict[tuple[str, str], int] = {}
    for rule in found:
        if rule.destination != OWNER:
            key = (rule.channel, rule.destination)
            counts[key] = counts.get(key, 0) + 1
    for url in secrets:
        counts.setdefault(("webhook", url), 0)
    return [Destination(c, d, n, c == "webhook" and d in secrets)
            for (c, d), n in sorted(counts.items())]


def add_rule(engine: Engine, workspace_id: int, *, kind: str, params: Mapping[str, Any],
             channel: str, destination: str, language: str, cooldown_hours: float,
             quiet_hours: str | None, timezone: str, digest: bool, allow_private: bool,
             actor: str, now: datetime | None = None) -> tuple[int, str | None]:
    """A new alert rule, and the signing secret of its webhook URL when this created it
    (to show once).  ``ValueError`` names the bad field, as ``lifecycle.actions`` does."""
    now = now or datetime.now(UTC)
    if destination != OWNER:
        try:
            check_destination(channel, destination, allow_private=allow_private)
        except DestinationRefused as exc:
            raise ValueError(f"destination: {exc}") from None
    with engine.begin() as conn:
        rule_id = actions.add_alert_rule(
            conn, workspace_id, kind=kind, params=params, channel=channel,
            destination=destination, language=language, cooldown_hours=cooldown_hours,
            quiet_hours=quiet_hours, timezone=timezone, digest=digest, now=now)
        secret = None
        if channel == "webhook" and destination != OWNER and outbox_db.get_webhook_secret(
                conn, workspace_id=workspace_id, url=destination) is None:
            secret = webhook_secret(conn, workspace_id=workspace_id, url=destination, now=now)
        record_audit(conn, workspace_id=workspace_id, actor=actor, action="alert_rule.add",
                     target=f"alert_rule:{rule_id}",
                     details={"kind": kind, "channel": channel}, now=now)
    return rule_id, secret


def set_enabled(engine: Engine, workspace_id: int, rule_id: int, *, enabled: bool,
                actor: str, now: datetime | None = None) -> None:
    """Raises ``actions.NotFound`` for a rule of another workspace."""
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        actions.enable_alert_rule(conn, workspace_id, rule_id, enabled=enabled, now=now)
        record_audit(conn, workspace_id=workspace_id, actor=actor,
                     action="alert_rule.enable" if enabled else "alert_rule.disable",
                     target=f"alert_rule:{rule_id}", details={}, now=now)


def remove_rule(engine: Engine, workspace_id: int, rule_id: int, *, actor: str,
                now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        actions.remove_alert_rule(conn, workspace_id, rule_id, now=now)
        record_audit(conn, workspace_id=workspace_id, actor=actor, action="alert_rule.remove",
                     target=f"alert_rule:{rule_id}", details={}, now=now)


def rotate_secret(engine: Engine, workspace_id: int, url: str, *, actor: str,
                  now: datetime | None = None) -> str | None:
    """A new signing secret for a webhook URL of the workspace (None: not one of its
    destinations)."""
    now = now or datetime.now(UTC)
    known = {d.destination for d in destinations(engine, workspace_id) if d.channel == "webhook"}
    if url not in known:
        return None
    with engine.begin() as conn:
        secret = webhook_secret(conn, workspace_id=workspace_id, url=url, now=now, rotate=True)
        record_audit(conn, workspace_id=workspace_id, actor=actor, action="webhook.secret",
                     target=f"webhook:{url[:200]}", details={}, now=now)
    return secret


def send_test_message(engine: Engine, settings: Settings, workspace_id: int, *, channel: Channel,
         destination: str, language: Language, now: datetime | None = None) -> TestOutcome:
    """Send a test message to ``destination`` now and say what happened."""
    now = now or datetime.now(UTC)
    setup = outbox_setup(settings)
    if channel == "email" and setup.smtp is None:
        return TestOutcome("no_smtp", channel, destination)
    try:
        check_destination(channel, destination, allow_private=setup.allow_private)
    except DestinationRefused as exc:
        return _refused(channel, destination, exc)
    secret = None
    if channel == "webhook":
        with engine.begin() as conn:
            if outbox_db.get_webhook_secret(conn, workspace_id=workspace_id,
                                            url=destination) is None:
                secret = webhook_secret(conn, workspace_id=workspace_id, url=destination,
                                        now=now)
    try:
        with http_client(setup.http_timeout) as client:
            message_id, result = send_test(
                engine, workspace_id=workspace_id, channel=channel, destination=destination,
                language=language, now=now, senders=setup.senders(client),
                guard=setup.guard(), policy=setup.policy)
    except DestinationRefused as exc:
        return _refused(channel, destination, exc)
    except DestinationUnresolved as exc:
        return TestOutcome("unresolved", channel, destination, error=str(exc), secret=secret)
    return TestOutcome("delivered" if result.outcome == "delivered" else "failed", channel,
                       destination, result.status_code, result.reply, result.error,
                       message_id, secret)


def _refused(channel: str, destination: str, exc: DestinationRefused) -> TestOutcome:
    text = str(exc)
    return TestOutcome("refused", channel, destination, error=text,
                       private="ALLOW_PRIVATE_DESTINATIONS" in text)

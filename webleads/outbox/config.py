"""The outbox's configuration, built once from ``Settings`` (the composition root and the
command line call ``outbox_setup(settings)``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from webleads.outbox.channels import SmtpConfig, http_client, make_senders
from webleads.outbox.model import Policy, Sender
from webleads.outbox.ssrf import Guard


@dataclass(frozen=True, slots=True)
class OutboxSetup:
    policy: Policy = Policy()
    smtp: SmtpConfig | None = None   # None: e-mail is not configured
    allow_private: bool = False
    http_timeout: float = 10.0
    run_in_serve: bool = True

    def guard(self) -> Guard:
        return Guard(allow_private=self.allow_private)

    def senders(self, client: httpx.Client | None = None) -> dict[str, Sender]:
        return make_senders(guard=self.guard(), smtp=self.smtp,
                            client=client or http_client(self.http_timeout))


def outbox_setup(settings: Any) -> OutboxSetup:
    """Map the WEBLEADS_* settings (docs/alerts.md lists them) to the outbox's objects.

    Settings that do not exist (yet) take the defaults below.
    """
    def get(name: str, default: Any) -> Any:
        return getattr(settings, name, default)

    policy = Policy(
        max_attempts=int(get("outbox_max_attempts", 8)),
        base=timedelta(seconds=float(get("outbox_backoff_seconds", 30.0))),
        cap=timedelta(seconds=float(get("outbox_backoff_max_seconds", 6 * 3600.0))),
        lease=timedelta(seconds=float(get("outbox_lease_seconds", 300.0))),
        batch=int(get("outbox_batch", 20)),
        poll=timedelta(seconds=float(get("outbox_poll_seconds", 2.0))),
    )
    host, sender = str(get("smtp_host", "")), str(get("smtp_from", ""))
    smtp = SmtpConfig(
        host=host, from_address=sender, port=int(get("smtp_port", 587)),
        security=get("smtp_security", "starttls"), username=str(get("smtp_username", "")),
        password=str(get("smtp_password", "")),
        from_name=str(get("smtp_from_name", "webleads")),
        timeout=float(get("smtp_timeout", 30.0)),
        ca_file=str(get("smtp_ca_file", "")) or None,
    ) if host and sender else None
    return OutboxSetup(
        policy=policy, smtp=smtp,
        allow_private=bool(get("allow_private_destinations", False)),
        http_timeout=float(get("outbox_http_timeout", 10.0)),
        run_in_serve=bool(get("outbox_worker", True)),
    )

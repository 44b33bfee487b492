"""Senders: SMTP e-mail, Slack and Microsoft Teams incoming webhooks, generic webhooks.

A sender takes one claimed ``Message`` and returns a ``SendResult``: ``delivered`` (2xx,
or 250 after DATA), ``retry`` (timeouts, connection errors, 408, 429, 5xx, SMTP 4xx) or
``permanent`` (other 4xx, SMTP 5xx, a refused destination), with the reason.  Senders
never raise for a delivery problem.  Every outward message carries the event id: the
``Idempotency-Key`` header and JSON ``id`` of webhooks, the e-mail ``Message-ID``, a line
of the Slack and Teams messages.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, parsedate_to_datetime
from typing import Literal

import httpx
import msgspec

from webleads.outbox import render, signature
from webleads.outbox.model import Message, Sender, SendResult
from webleads.outbox.ssrf import DestinationRefused, DestinationUnresolved, Guard

USER_AGENT = "webleads-tracker/0.1"
REPLY_MAX = 500
_json = msgspec.json.Encoder()


# -- e-mail --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """How to reach the mail relay (the WEBLEADS_SMTP_* settings)."""

    host: str
    from_address: str
    port: int = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password: str = ""
    from_name: str = "webleads"
    timeout: float = 30.0
    ca_file: str | None = None  # extra trusted CA (a relay with its own certificate)

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)


def build_email(message: Message, config: SmtpConfig) -> EmailMessage:
    """The e-mail: text and HTML alternatives, in the message's language.

    ``Message-ID`` derives from the event id, and ``Date`` is the event's time: every
    attempt produces the same message, which mail systems deduplicate.
    """
    c = render.content(message)
    email = EmailMessage()
    email["Subject"] = c.subject
    email["From"] = formataddr((config.from_name, config.from_address))
    email["To"] = message.destination
    email["Date"] = format_datetime(message.created_at)
    domain = config.from_address.rpartition("@")[2] or "webleads.invalid"
    email["Message-ID"] = f"<{message.event_id}@{domain}>"
    email["X-Webleads-Event-Id"] = message.event_id
    email["X-Webleads-Event"] = message.kind
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(render.email_text(c), cte="quoted-printable")
    email.add_alternative(render.email_html(c), subtype="html", cte="quoted-printable")
    email["Content-Language"] = message.language  # after the parts: they reset Content-*
    email.set_boundary(f"=_{message.event_id}")  # the same bytes on every attempt
    return email


def _smtp_outcome(code: int) -> Literal["retry", "permanent"]:
    # 4xx: try later.  5xx: this message will not pass, except for authentication and
    # TLS requirements, which are the relay's configuration, not the message's fault.
    if code < 500 or code in (530, 534, 535, 538):
        return "retry"
    return "permanent"


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}"[:REPLY_MAX]


class EmailSender:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def __call__(self, message: Message) -> SendResult:
        cfg = self.config
        email = build_email(message, cfg)
        try:
            with self._connect() as smtp:
                smtp.ehlo()
                if cfg.security == "starttls":
                    smtp.starttls(context=cfg.tls_context())
                    smtp.ehlo()
                if cfg.username:
                    smtp.login(cfg.username, cfg.password)
                code, text = smtp.mail(cfg.from_address)
                if code != 250:
                    return self._refused(code, text, "sender refused")
                code, text = smtp.rcpt(message.destination)
                if code not in (250, 251):
                    return self._refused(code, text, "recipient refused")
                code, text = smtp.data(email.as_bytes(policy=SMTP))
                return SendResult("delivered", code, _reply(code, text))
        except smtplib.SMTPAuthenticationError as exc:
            return SendResult("retry", exc.smtp_code, _reply(exc.smtp_code, exc.smtp_error),
                              "SMTP authentication failed: check the SMTP user and password")
        except smtplib.SMTPResponseException as exc:
            return self._refused(exc.smtp_code, exc.smtp_error, "refused")
        except smtplib.SMTPNotSupportedError as exc:
            return SendResult("retry", None, None, f"SMTP relay: {exc}")
        except (smtplib.SMTPException, OSError) as exc:  # timeouts, refused, TLS, cut off
            return SendResult("retry", None, None, f"SMTP relay {cfg.host}:{cfg.port}: "
                              f"{type(exc).__name__}: {exc}")

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        if cfg.security == "ssl":
            return smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout,
                                    context=cfg.tls_context())
        return smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)

    @staticmethod
    def _refused(code: int, text: bytes | str, what: str) -> SendResult:
        return SendResult(_smtp_outcome(code), code, _reply(code, text),
                          f"SMTP {what}: {_reply(code, text)}")


# -- HTTP: Slack, Teams, generic webhooks --------------------------------------------------

Request = Callable[[Message], tuple[bytes, dict[str, str]]]


def slack_request(message: Message) -> tuple[bytes, dict[str, str]]:
    return _json.encode(render.slack_body(render.content(message))), {}


def teams_request(message: Message) -> tuple[bytes, dict[str, str]]:
    return _json.encode(render.teams_body(render.content(message))), {}


def webhook_request(message: Message, *, now: float) -> tuple[bytes, dict[str, str]]:
    if not message.secret:
        raise DestinationRefused("this webhook destination has no signing secret: give it "
                                 "one with  webleads outbox secret URL --rotate")
    body = render.webhook_body(message)
    stamp = int(now)
    return body, {
        signature.HEADER: signature.sign(message.secret, stamp, body),
        signature.TIMESTAMP_HEADER: str(stamp),
        "X-Webleads-Event": message.kind,
    }


def classify(status: int, headers: httpx.Headers, reply: str) -> SendResult:
    if 200 <= status < 300:
        return SendResult("delivered", status, reply)
    if status in (408, 429) or status >= 500:
        return SendResult("retry", status, reply, f"HTTP {status}",
                          retry_after=_retry_after(headers.get("retry-after")))
    if 300 <= status < 400:
        return SendResult("permanent", status, reply, f"HTTP {status}: redirects are not "
                          f"followed (to {headers.get('location', '?')}); give the final URL")
    return SendResult("permanent", status, reply, f"HTTP {status}: refused by the receiver")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def http_client(timeout: float = 10.0) -> httpx.Client:
    """The client of the HTTP senders: no redirects, no proxies from the environment, and
    no kept-alive connections (requests go to pinned addresses, see ssrf.py)."""
    return httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False,
                        trust_env=False, limits=httpx.Limits(max_keepalive_connections=0))


class HttpSender:
    """POSTs the JSON that ``request`` builds to the message's URL, through the guard."""

    def __init__(self, request: Request, *, guard: Guard, client: httpx.Client) -> None:
        self.request = request
        self.guard = guard
        self.client = client

    def __call__(self, message: Message) -> SendResult:
        try:
            pinned = self.guard.pin(message.destination)
            body, extra = self.request(message)
        except DestinationRefused as exc:
            return SendResult("permanent", None, None, f"refused destination: {exc}")
        except DestinationUnresolved as exc:
            return SendResult("retry", None, None, str(exc))
        headers = {"Host": pinned.host_header, "Content-Type": "application/json",
                   "User-Agent": USER_AGENT, "Idempotency-Key": message.event_id,
                   "X-Webleads-Attempt": str(message.attempt), **extra}
        extensions = {"sni_hostname": pinned.sni_hostname} if pinned.sni_hostname else {}
        try:
            with self.client.stream("POST", pinned.url, content=body, headers=headers,
                                    extensions=extensions) as response:
                first = next(response.iter_bytes(REPLY_MAX), b"")
                reply = first[:REPLY_MAX].decode("utf-8", "replace")
                return classify(response.status_code, response.headers, reply)
        except httpx.TimeoutException as exc:
            return SendResult("retry", None, None, f"timeout: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return SendResult("retry", None, None, f"{type(exc).__name__}: {exc}")


def make_senders(*, guard: Guard, smtp: SmtpConfig | None = None,
                 client: httpx.Client | None = None,
                 clock: Callable[[], float] = time.time) -> dict[str, Sender]:
    """The four channels (e-mail only when ``smtp`` is given)."""
    http = client or http_client()
    senders: dict[str, Sender] = {
        "slack": HttpSender(slack_request, guard=guard, client=http),
        "teams": HttpSender(teams_request, guard=guard, client=http),
        "webhook": HttpSender(lambda m: webhook_request(m, now=clock()), guard=guard,
                              client=http),
    }
    if smtp is not None:
        senders["email"] = EmailSender(smtp)
    return senders

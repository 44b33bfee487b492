"""Real receivers for the outbox tests, and tests of the receivers themselves.

``HttpReceiver``: an ``http.server`` on 127.0.0.1 in a thread that records every request,
can fail the next N requests or all of them, verifies webhook signatures like a real
receiver would (recomputing the HMAC), and deduplicates events on their id.
``SmtpSink``: an aiosmtpd server on 127.0.0.1 that records every e-mail and can refuse.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy.engine import Engine

from tests.conftest import free_port
from webleads.db.sites import ensure_workspace
from webleads.outbox import signature
from webleads.outbox.model import Channel, Language
from webleads.outbox.queue import enqueue

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PAYLOAD = {"account": {"id": 7, "name": "Acme Industries", "domain": "acme.fr",
                       "country": "FR"},
           "score": 72, "grade": "A", "stage": "mql", "owner": "Jeanne Martin",
           "reasons": ["+20 pricing page ×2", "+15 came back 3 times this week"],
           "url": "https://webleads.example.com/accounts/7"}


def new_workspace(engine: Engine, name: str = "Acme") -> int:
    with engine.begin() as conn:
        return ensure_workspace(conn, name, now=T0)


def put(engine: Engine, workspace_id: int, destination: str, *, key: str = "event-1",
        channel: Channel = "webhook", kind: str = "mql", language: Language = "en",
        payload: dict[str, Any] | None = None, now: datetime = T0,
        allow_private: bool = True) -> int | None:
    """Enqueue one message in its own transaction."""
    with engine.begin() as conn:
        return enqueue(conn, workspace_id=workspace_id, channel=channel,
                       destination=destination, kind=kind,
                       payload=PAYLOAD if payload is None else payload, language=language,
                       idempotency_key=key, now=now, allow_private=allow_private)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    signature_ok: bool | None  # None: no secret to check with

    @property
    def event_id(self) -> str:
        return self.headers.get("idempotency-key", "")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Answers ``status`` (after ``failures`` answers of ``failure_status``)."""

    secret: str | None = None
    status: int = 200
    failures: int = 0
    failure_status: int = 503
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    on_request: Callable[[Received], None] | None = None
    requests: list[Received] = field(default_factory=list)
    events: dict[str, Received] = field(default_factory=dict)  # first request of each id
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, n: int, status: int = 503) -> None:
        self.failures, self.failure_status = n, status

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        ok: bool | None = None
        if self.secret is not None:
            ok = signature.verify(self.secret, headers.get("x-webleads-signature", ""), body,
                                  now=time.time())
        got = Received(path, headers, body, ok)
        with self._lock:
            self.requests.append(got)
            failing = self.failures > 0
            if failing:
                self.failures -= 1
        if self.on_request is not None:
            self.on_request(got)
        if self.delay:
            time.sleep(self.delay)
        if failing:
            return self.failure_status, b"try later"
        if ok is False:
            return 401, b"bad signature"
        if 200 <= self.status < 300:
            with self._lock:  # a receiver that deduplicates: one event per id
                duplicate = got.event_id in self.events
                self.events.setdefault(got.event_id, got)
            return self.status, b"duplicate" if duplicate else b"ok"
        return self.status, b"no"


@contextmanager
def http_receiver(**options: Any) -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(**options)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = receiver.handle(self.path, headers, body)
            self.send_response(status)
            for name, value in receiver.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _SinkHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,  # noqa: N802
                          address: str, rcpt_options: list[str]) -> str:
        with self.sink.lock:
            self.sink.attempts += 1
            if self.sink.failures > 0:
                self.sink.failures -= 1
                return self.sink.failure_reply
        if self.sink.refuse is not None:
            return self.sink.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session,  # noqa: N802
                          envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.sink.lock:
            self.sink.messages.append(parsed)
            self.sink.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 2.0.0 queued"


@dataclass
class SmtpSink:
    port: int = 0
    failures: int = 0
    failure_reply: str = "451 4.3.0 try again later"
    refuse: str | None = None  # e.g. "550 5.1.1 no such user"
    attempts: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def smtp_sink(*, user: tuple[str, str] | None = None, **tls: Any) -> Iterator[SmtpSink]:
    """``tls``: ``tls_context=`` (STARTTLS offered) or ``ssl_context=`` (implicit TLS)."""
    sink = SmtpSink(port=free_port())

    def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                     data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and user is not None and (
            data.login.decode(), data.password.decode()) == user
        return AuthResult(success=ok, handled=False)

    options: dict[str, Any] = {}
    if user is not None:
        # Required only with STARTTLS: aiosmtpd warns about AUTH required in clear, and
        # does not count implicit TLS as TLS for AUTH.
        starttls = "tls_context" in tls
        options.update(authenticator=authenticate, auth_required=starttls,
                       auth_require_tls=starttls)
    if "tls_context" in tls:
        options.update(tls_context=tls["tls_context"], require_starttls=True)
    controller = Controller(_SinkHandler(sink), hostname="127.0.0.1", port=sink.port,
                            server_hostname="localhost", ready_timeout=10,
                            ssl_context=tls.get("ssl_context"), **options)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


# -- the receivers work as the other tests assume ------------------------------------------

def test_http_receiver_fails_then_recovers_and_deduplicates() -> None:
    with http_receiver() as receiver:
        receiver.fail_next(2)
        codes = [httpx.post(receiver.url, content=b"{}", headers={"Idempotency-Key": "a"})
                 .status_code for _ in range(4)]
        assert codes == [503, 503, 200, 200]
        assert len(receiver.requests) == 4
        assert list(receiver.events) == ["a"]


def test_http_receiver_checks_signatures() -> None:
    with http_receiver(secret="s3cret") as receiver:
        body = b'{"id": "x"}'
        now = int(time.time())
        good = httpx.post(receiver.url, content=body, headers={
            "X-Webleads-Signature": signature.sign("s3cret", now, body)})
        bad = httpx.post(receiver.url, content=body, headers={
            "X-Webleads-Signature": signature.sign("other", now, body)})
        old = httpx.post(receiver.url, content=body, headers={
            "X-Webleads-Signature": signature.sign("s3cret", now - 3600, body)})
        assert (good.status_code, bad.status_code, old.status_code) == (200, 401, 401)
        assert [r.signature_ok for r in receiver.requests] == [True, False, False]


def test_smtp_sink_records_and_refuses() -> None:
    import smtplib

    with smtp_sink() as sink:
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
            smtp.sendmail("a@example.com", ["b@example.org"],
                          b"Subject: hi\r\n\r\nhello\r\n")
        sink.refuse = "550 5.1.1 no such user"
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                smtp.sendmail("a@example.com", ["c@example.org"], b"Subject: x\r\n\r\nx\r\n")
    assert [m["Subject"] for m in sink.messages] == ["hi"]
    assert sink.envelopes == [("a@example.com", ["b@example.org"])]

"""Destinations on private, loopback, link-local ... addresses are refused unless allowed:
when enqueued (no DNS) and again at every send (DNS, pinned to the checked address)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.test_outbox_receivers import T0, http_receiver, new_workspace, put
from webleads.db import outbox as db
from webleads.outbox.channels import http_client, make_senders
from webleads.outbox.ssrf import (
    DestinationRefused,
    DestinationUnresolved,
    Guard,
    check_destination,
    check_email,
    check_url,
)
from webleads.outbox.worker import deliver_due

REFUSED = [
    ("http://10.0.0.1/hook", "10.0.0.1 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://[::1]:8080/hook", "::1 is a loopback address"),
    ("http://127.0.0.1/", "127.0.0.1 is a loopback address"),
    ("https://192.168.1.20/", "192.168.1.20 is a private address"),
    ("https://172.16.5.4/", "172.16.5.4 is a private address"),
    ("http://100.64.0.1/", "100.64.0.1 is a shared (CGNAT) address"),
    ("http://[fe80::1]/", "fe80::1 is a link-local address"),
    ("http://[fd00::1]/", "fd00::1 is a private address"),
    ("http://[::ffff:10.0.0.1]/", "is a private address (10.0.0.1 inside)"),
    ("http://[64:ff9b::a9fe:a9fe]/", "is a link-local address (169.254.169.254 inside)"),
    ("http://0.0.0.0:8000/", "0.0.0.0 is an unspecified address"),
    ("http://240.0.0.1/", "240.0.0.1 is a reserved address"),
    ("http://localhost:8000/", "localhost resolves to 127.0.0.1, which is a loopback"),
    ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
]


@pytest.mark.parametrize("url, reason", REFUSED)
def test_private_destinations_are_refused_unless_allowed(url: str, reason: str) -> None:
    with pytest.raises(DestinationRefused) as refused:
        check_url(url, allow_private=False)
    assert reason in str(refused.value)
    assert "WEBLEADS_ALLOW_PRIVATE_DESTINATIONS" in str(refused.value)
    if "multicast" in reason:
        with pytest.raises(DestinationRefused):
            check_url(url, allow_private=True)
    else:
        check_url(url, allow_private=True)


@pytest.mark.parametrize("url, reason", [
    ("ftp://files.example.com/x", "URL scheme 'ftp'"),
    ("file:///etc/passwd", "URL scheme 'file'"),
    ("https:///path", "without a host"),
    ("https://hooks.example.com/a b", "spaces or control characters"),
    ("https://hooks.example.com/\r\nX-Evil: 1", "spaces or control characters"),
    ("https://hooks.example.com/" + "a" * 2000, "longer than 2000 bytes"),
    ("https://hooks.example.com/" + "é" * 1000, "longer than 2000 bytes"),
    ("not a url", "spaces"),
])
def test_malformed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(DestinationRefused, match=reason):
        check_url(url, allow_private=True)


def test_public_addresses_and_names_pass() -> None:
    check_url("https://93.184.216.34/hook", allow_private=False)
    check_url("https://hooks.example.com/services/T0/B0/x", allow_private=False)
    check_destination("email", "jeanne.martin@client.example", allow_private=False)


@pytest.mark.parametrize("address", ["", "no-at-sign", "a@", "@b.fr", "a b@c.fr",
                                     "a@b.fr\r\nBcc: x@y.fr", "Jeanne <j@b.fr>"])
def test_bad_email_addresses(address: str) -> None:
    with pytest.raises(DestinationRefused):
        check_email(address)


def test_every_dns_answer_must_be_public() -> None:
    mixed = Guard(resolve=lambda host, port: ["93.184.216.34", "10.1.2.3"])
    with pytest.raises(DestinationRefused, match="resolves to 10.1.2.3, which is a private"):
        mixed.pin("https://hooks.example.com/x")
    public = Guard(resolve=lambda host, port: ["93.184.216.34"])
    pinned = public.pin("https://hooks.example.com:8443/x?a=1")
    assert str(pinned.url) == "https://93.184.216.34:8443/x?a=1"
    assert pinned.host_header == "hooks.example.com:8443"
    assert pinned.sni_hostname == "hooks.example.com"  # the certificate is checked for it
    v6 = Guard(resolve=lambda host, port: ["2606:2800:220:1::1"]).pin("http://h.example.com/")
    assert str(v6.url) == "http://[2606:2800:220:1::1]/" and v6.sni_hostname is None


def test_unresolvable_host_is_temporary() -> None:
    def nothing(host: str, port: int) -> list[str]:
        raise DestinationUnresolved(f"cannot resolve {host}")

    with pytest.raises(DestinationUnresolved):
        Guard(resolve=nothing).pin("https://hooks.example.com/")
    with pytest.raises(DestinationUnresolved):
        Guard(resolve=lambda host, port: []).pin("https://hooks.example.com/")


@pytest.fixture
def workspace(engine: Engine) -> int:
    return new_workspace(engine)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with http_client(timeout=10) as made:
        yield made


@pytest.mark.parametrize("url", ["http://10.0.0.1/hook", "http://169.254.169.254/latest",
                                 "http://[::1]:9/hook"])
def test_refused_at_enqueue_is_dead_without_any_attempt(engine: Engine, workspace: int,
                                                        client: httpx.Client,
                                                        url: str) -> None:
    message_id = put(engine, workspace, url, allow_private=False)
    senders = make_senders(guard=Guard(allow_private=True), client=client)
    assert deliver_due(engine, now=T0, worker_id="w", limit=5, senders=senders) == 0
    with engine.connect() as conn:
        assert message_id is not None
        message = db.get_message(conn, message_id)
        assert db.get_webhook_secret(conn, workspace_id=workspace, url=url) is None
    assert message is not None and message.state == "dead" and message.history == ()
    assert message.last_error is not None
    assert message.last_error.startswith(f"refused destination: {httpx.URL(url).host} is a")


def test_dns_rebinding_is_refused_at_send_time(engine: Engine, workspace: int,
                                               client: httpx.Client) -> None:
    """The name looked public when enqueued; at send time it resolves to 10.0.0.1."""
    message_id = put(engine, workspace, "https://hooks.example.com/x", allow_private=False)
    guard = Guard(resolve=lambda host, port: ["10.0.0.1"])
    assert deliver_due(engine, now=T0, worker_id="w", limit=5,
                       senders=make_senders(guard=guard, client=client)) == 1
    with engine.connect() as conn:
        assert message_id is not None
        message = db.get_message(conn, message_id)
    assert message is not None and message.state == "dead"
    assert message.last_error == (
        "refused destination: hooks.example.com resolves to 10.0.0.1, which is a private "
        "address: refused (set WEBLEADS_ALLOW_PRIVATE_DESTINATIONS=true to allow private "
        "destinations)")
    assert [a.outcome for a in message.history] == ["permanent"]


def test_send_time_check_applies_the_current_setting(engine: Engine, workspace: int,
                                                     client: httpx.Client) -> None:
    with http_receiver() as receiver:
        message_id = put(engine, workspace, receiver.url, allow_private=True)
        deliver_due(engine, now=T0, worker_id="w", limit=5,
                    senders=make_senders(guard=Guard(allow_private=False), client=client))
    assert receiver.requests == []
    with engine.connect() as conn:
        assert message_id is not None
        message = db.get_message(conn, message_id)
    assert message is not None and message.state == "dead"
    assert message.last_error is not None and "127.0.0.1 is a loopback" in message.last_error


def test_requests_go_to_the_checked_address(engine: Engine, workspace: int,
                                            client: httpx.Client) -> None:
    """A name that exists only in the (fake) DNS answer: reaching the receiver proves the
    request used the checked address, and the Host header keeps the name."""
    with http_receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        url = f"http://alerts.webleads.test:{port}/hook"
        put(engine, workspace, url, allow_private=False)
        guard = Guard(allow_private=True, resolve=lambda host, p: ["127.0.0.1"])
        deliver_due(engine, now=T0, worker_id="w", limit=5,
                    senders=make_senders(guard=guard, client=client))
    [request] = receiver.requests
    assert request.headers["host"] == f"alerts.webleads.test:{port}"
    assert request.path == "/hook"

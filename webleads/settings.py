"""Settings: the only module that reads ``os.environ``.

Every setting is declared here once, with its help text; ``docs/configuration.md``
lists them all and a test fails when one is missing there.  ``Settings`` is frozen
and passed to ``create_app`` and the CLI commands; nothing reads it at import time.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEBLEADS_", frozen=True, extra="ignore")

    database_url: str = Field(
        "sqlite:///webleads.db",
        description="SQLAlchemy URL of the database: sqlite:///FILE (default, a file in the "
        "working directory) or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB.",
    )
    secret_key: str = Field(
        DEFAULT_SECRET,
        description="Secret used to sign sessions and derive keys. Set a long random value "
        "in production; the server warns when it is left at its default.",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated CIDRs of reverse proxies whose X-Forwarded-For / "
        "Forwarded headers are believed. Empty: the socket address is the client IP.",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL",
        description="SQLite synchronous mode. FULL survives power loss; NORMAL survives a "
        "process crash only, and is faster.",
    )
    writer_batch_max: int = Field(
        2000, ge=1, le=100_000,
        description="Largest number of hits committed in one transaction by the writer.",
    )
    writer_delay_ms: float | None = Field(
        None, ge=0, le=1000,
        description="How long the writer waits for more hits before committing a batch, "
        "in milliseconds (group commit). Unset: 2 with the inline processor, 1 with the "
        "separate one, whose commits are short.",
    )
    writer_queue_max: int = Field(
        20_000, ge=1,
        description="Hits waiting for the writer above which collect answers 503 with "
        "Retry-After instead of queueing more.",
    )
    processor: Literal["separate", "inline"] = Field(
        "separate",
        description="Where hits are sessionised and stored. separate: collect answers once "
        "the enriched hits are durably committed to the hit queue, and a processor process "
        "(started by webleads serve, or webleads process) stores them moments later; the "
        "server's core only serves HTTP. inline: collect answers once the hits are stored "
        "in every table, in one process (slower, but a 2xx means they are in the reports).",
    )
    hit_queue_max: int = Field(
        1_000_000, ge=1,
        description="Acknowledged hits waiting for the processor (separate mode) above "
        "which collect answers 503 with Retry-After.",
    )
    processor_batch_max: int = Field(
        2000, ge=1, le=100_000,
        description="Largest number of queued hits the processor stores in one transaction.",
    )
    collect_max_body: int = Field(
        256 * 1024, ge=1024,
        description="Largest accepted body of POST /api/collect, in bytes.",
    )
    quarantine_max_payload: int = Field(
        16 * 1024, ge=256,
        description="Rejected payloads are kept in the quarantine table up to this many bytes.",
    )
    collect_rate_per_ip: float = Field(
        50.0, ge=0,
        description="Collect requests (POST /api/collect, GET /p.gif) accepted per second "
        "from one client address (IPv6: per /64), per server process, with bursts of 10 "
        "seconds' worth; above it, 429 with Retry-After. Loopback senders are not limited. "
        "0: no limit.",
    )
    collect_rate_per_site: float = Field(
        1000.0, ge=0,
        description="Collect requests accepted per second for one site, per server "
        "process, with bursts of 10 seconds' worth; above it, 429 with Retry-After. "
        "0: no limit.",
    )
    data_dir: str = Field(
        "webleads-data",
        description="Folder of imported data (webleads import networks writes its MMDB files "
        "under networks/). Relative paths start from the working directory.",
    )
    network_data: Literal["shipped", "none"] = Field(
        "shipped",
        description="shipped: identify networks with the data shipped in the package plus "
        "your imports (offline). none: no identification at all (every network unknown).",
    )
    asn_database: str = Field(
        "",
        description="Path of an extra MMDB file with ASN data (GeoLite2-ASN, DB-IP or IPinfo "
        "layout), consulted before the shipped ASN snapshot. Empty: none.",
    )
    country_database: str = Field(
        "",
        description="Path of an MMDB file with country data (GeoLite2-Country layout). "
        "Empty: the country comes from the network resolver, if any.",
    )
    network_ranges: str = Field(
        "",
        description="Path of a CSV of network ranges (cidr,asn,as_org,org_name,org_domain,"
        "category,country) checked before every other source except overrides.",
    )
    enrich_disable: str = Field(
        "",
        description="Comma-separated enrichment steps to switch off, e.g. put_geo,put_device "
        "(see docs/enrichment.md). put_visitor and put_anonymised_ip cannot be switched off.",
    )
    lang: str = Field(
        "en",
        validation_alias=AliasChoices("WEBLEADS_LANG", "LANG"),
        description="Language of command-line messages: fr or en (WEBLEADS_LANG, else the "
        "LANG locale, e.g. fr_FR.UTF-8).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Log level of the server."
    )
    metrics_dir: str = Field(
        "", description="Where the server processes of webleads serve --workers N publish "
        "their counters, so that /metrics adds up all of them. Set by serve itself (a "
        "temporary directory); leave it unset.",
    )
    # Outward messages (alerts, digests): the outbox and its channels (docs/alerts.md).
    smtp_host: str = Field("", description="SMTP relay for e-mail alerts. Empty: no e-mail.")
    smtp_port: int = Field(587, ge=1, le=65535, description="Port of the SMTP relay.")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="How to connect to the relay: STARTTLS, implicit TLS, or plain.")
    smtp_username: str = Field("", description="Relay login. Empty: no login.")
    smtp_password: str = Field("", description="Relay password (never logged).")
    smtp_from: str = Field("", description="Sender address of e-mails. Empty: no e-mail.")
    smtp_from_name: str = Field("webleads", description="Sender name of e-mails.")
    smtp_timeout: float = Field(30.0, gt=0, description="SMTP timeout, in seconds.")
    smtp_ca_file: str = Field("", description="Extra CA file to trust the relay's certificate.")
    allow_private_destinations: bool = Field(
        False, description="Allow webhooks to private, loopback or link-local addresses "
        "(refused by default against SSRF).")
    outbox_worker: bool = Field(
        True, description="Run a delivery worker inside webleads serve (else run "
        "webleads outbox work).")
    outbox_max_attempts: int = Field(8, ge=1, le=100,
                                     description="Attempts before a message is dead.")
    outbox_backoff_seconds: float = Field(
        30.0, gt=0, description="First wait after a failure, doubled after each one.")
    outbox_backoff_max_seconds: float = Field(21600.0, gt=0, description="Longest wait.")
    outbox_lease_seconds: float = Field(
        300.0, gt=0, description="How long a worker holds a message it is sending.")
    outbox_batch: int = Field(20, ge=1, le=1000, description="Messages claimed per round.")
    outbox_poll_seconds: float = Field(2.0, gt=0, description="Pause of an idle worker.")
    outbox_http_timeout: float = Field(
        10.0, gt=0, description="Timeout of Slack, Teams and webhook calls, in seconds.")

    @field_validator("trusted_proxies")
    @classmethod
    def _check_cidrs(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError as exc:
                raise ValueError(f"not a CIDR: {part!r}") from exc
        return value

    @field_validator("enrich_disable")
    @classmethod
    def _check_steps(cls, value: str) -> str:
        from webleads.enrich.pipeline import check_disabled

        check_disabled(_names(value))
        return value

    @property
    def disabled_steps(self) -> frozenset[str]:
        return _names(self.enrich_disable)

    @property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        parts = (p.strip() for p in self.trusted_proxies.split(","))
        return tuple(ipaddress.ip_network(p, strict=False) for p in parts if p)


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; keyword arguments win (used by tests and the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]


def _names(value: str) -> frozenset[str]:
    return frozenset(p.strip() for p in value.split(",") if p.strip())

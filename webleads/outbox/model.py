"""Value types of the outbox: messages, send results, attempts, the retry policy."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, get_args

Channel = Literal["email", "slack", "teams", "webhook"]
State = Literal["pending", "sending", "delivered", "dead"]
Language = Literal["fr", "en"]
# What a sender says about one attempt: delivered, worth retrying, or never deliverable.
Outcome = Literal["delivered", "retry", "permanent"]
# What the attempts log says: the outcomes, "sending" while in flight, and "lost" when
# the worker's lease expired before it recorded anything (killed, frozen, cut off).
AttemptOutcome = Literal["sending", "delivered", "retry", "permanent", "lost"]

CHANNELS: tuple[Channel, ...] = get_args(Channel)
STATES: tuple[State, ...] = get_args(State)
LANGUAGES: tuple[Language, ...] = get_args(Language)

# Fixed forever: receivers deduplicate on the ids derived from it.
_EVENT_NAMESPACE = uuid.UUID("5b0f4c1e-7a4e-4f57-9d3a-2f2b8e1c6a10")


def event_id(workspace_id: int, idempotency_key: str) -> str:
    """The id receivers see for an event: the same on every attempt and every worker."""
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{workspace_id}:{idempotency_key}"))


@dataclass(frozen=True, slots=True)
class Message:
    """A message as a sender sees it: one claimed attempt at delivering it."""

    id: int
    workspace_id: int
    channel: Channel
    destination: str
    kind: str
    payload: Mapping[str, Any]
    language: Language
    idempotency_key: str
    created_at: datetime
    attempt: int = 1                # 1 for the first attempt of this message
    secret: str | None = None       # the webhook destination's signing secret

    @property
    def event_id(self) -> str:
        return event_id(self.workspace_id, self.idempotency_key)


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    status_code: int | None = None  # HTTP status or SMTP reply code
    reply: str | None = None        # start of the HTTP body, or the SMTP reply text
    error: str | None = None        # why it failed, for people
    retry_after: float | None = None  # seconds asked by the receiver (Retry-After)


class Sender(Protocol):
    """Delivers one message; never raises for a delivery problem (returns the outcome)."""

    def __call__(self, message: Message) -> SendResult: ...


Senders = Mapping[str, Sender]


@dataclass(frozen=True, slots=True)
class Policy:
    """Retries, backoff and leases of the delivery workers.

    The n-th failed attempt waits ``base × 2^(n-1)`` (at most ``cap``), spread by
    ±``jitter``; after ``max_attempts`` attempts the message is dead.  A worker holds a
    claimed message for ``lease``: longer than any send may take (timeouts included).
    """

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=6)
    jitter: float = 0.2
    lease: timedelta = timedelta(minutes=5)
    batch: int = 20
    poll: timedelta = timedelta(seconds=2)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    def backoff(self, attempt: int, random: Callable[[], float],
                retry_after: float | None = None) -> timedelta:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        delay = min(self.cap.total_seconds(),
                    self.base.total_seconds() * 2 ** min(max(attempt - 1, 0), 40))
        delay *= 1 + self.jitter * (2 * random() - 1)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.cap.total_seconds()))
        return timedelta(seconds=delay)


@dataclass(frozen=True, slots=True)
class Attempt:
    id: int
    outbox_id: int
    attempt: int
    worker: str
    started_at: datetime
    finished_at: datetime | None
    outcome: AttemptOutcome
    status_code: int | None
    reply: str | None
    error: str | None
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class Stored:
    """A row of the outbox, for lists and ``show``."""

    id: int
    workspace_id: int
    channel: Channel
    destination: str
    kind: str
    payload: Mapping[str, Any]
    language: Language
    idempotency_key: str
    state: State
    attempts: int
    next_attempt_at: datetime
    claimed_by: str | None
    claimed_until: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    history: tuple[Attempt, ...] = field(default=())

    @property
    def event_id(self) -> str:
        return event_id(self.workspace_id, self.idempotency_key)

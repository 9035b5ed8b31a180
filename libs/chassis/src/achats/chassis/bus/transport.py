"""What the relay and the consumers need from a broker, whatever the broker is."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol


class TransportError(Exception):
    """The broker could not be reached or refused a message; the caller retries later."""


class Outcome(Enum):
    ACK = "ack"  # done (applied, duplicate, or nothing to do)
    RETRY = "retry"  # failed; try again after the next delay
    DEAD = "dead"  # never going to work: park it in the dead-letter queue


@dataclass(frozen=True)
class OutgoingMessage:
    routing_key: str
    body: bytes
    message_id: str
    content_type: str = "application/cloudevents+json"


@dataclass(frozen=True)
class Delivery:
    body: bytes
    routing_key: str
    message_id: str | None
    attempt: int  # 1 for the first delivery, n after n-1 failures
    redelivered: bool = False
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class QueueSpec:
    """A consuming service's durable queue, the keys it is bound to, and its retry policy."""

    name: str
    bindings: tuple[str, ...]
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0, 600.0)
    prefetch: int = 50
    # At most this many messages already received are handled together (one database commit).
    batch_size: int = 50

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.name}.dlq"

    def retry_queue(self, attempt: int) -> str:
        """Where a message waits after its ``attempt``-th failure.

        Named by the delay, not the attempt number: a queue's TTL cannot change once declared,
        so a new retry policy gets new queues while messages waiting in the old ones still return.
        """
        return f"{self.name}.retry.{int(self.retry_delays[attempt - 1] * 1000)}ms"

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays) + 1


# Handles the messages that arrived together; returns one outcome per message, in order.
Handler = Callable[[list[Delivery]], list[Outcome]]


class Publisher(Protocol):
    def publish_batch(self, messages: list[OutgoingMessage]) -> list[bool]:
        """Publish persistently and wait for the broker's confirms.

        Returns, per message, whether some queue took it (False: unroutable). Raises
        TransportError when the batch may not have been stored; the caller republishes it all.
        """

    def keepalive(self) -> None:
        """Let the connection breathe (heartbeats) while the publisher is idle."""

    def close(self) -> None: ...


class Transport(ABC):
    def __init__(self, exchange: str):
        self.exchange = exchange

    @abstractmethod
    def publisher(self) -> Publisher:
        """A publisher for the calling thread (AMQP connections are not thread-safe)."""

    @abstractmethod
    def declare(self, spec: QueueSpec) -> None:
        """Create the exchange, the queue, its bindings, retry queues and dead-letter queue."""

    @abstractmethod
    def consume(self, spec: QueueSpec, handler: Handler, stop: threading.Event) -> None:
        """Deliver messages to ``handler`` until ``stop`` is set, reconnecting after outages.

        Messages already received are passed together (up to ``spec.batch_size``); a batch never
        waits for more messages to arrive.
        """

    @abstractmethod
    def dead_letters(self, spec: QueueSpec) -> list[bytes]:
        """The bodies parked in the dead-letter queue (they stay there)."""

    def dead_letter_count(self, spec: QueueSpec) -> int:
        """How many messages wait in the dead-letter queue (0 when it does not exist yet)."""
        return len(self.dead_letters(spec))

    @abstractmethod
    def replay_dead_letters(self, spec: QueueSpec) -> int:
        """Move every dead letter back to the queue for a fresh set of attempts."""

    @abstractmethod
    def delete(self, spec: QueueSpec) -> None:
        """Remove the queue and its retry and dead-letter queues (tests, decommissioning)."""

    def close(self) -> None:
        """Release what the transport holds."""


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: ``*`` is one word, ``#`` zero or more words."""
    return _match(pattern.split("."), key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])

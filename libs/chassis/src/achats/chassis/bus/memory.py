"""In-process broker with the semantics of the AMQP transport: for the embedded mode and unit tests."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import structlog

from .transport import (
    Delivery,
    Handler,
    Outcome,
    OutgoingMessage,
    QueueSpec,
    Transport,
    topic_matches,
)

log = structlog.get_logger(__name__)


@dataclass
class _Message:
    body: bytes
    routing_key: str
    message_id: str
    attempt: int = 1
    redelivered: bool = False


class _Queue:
    def __init__(self) -> None:
        self.items: deque[_Message] = deque()
        self.ready = threading.Condition()

    def put(self, message: _Message) -> None:
        with self.ready:
            self.items.append(message)
            self.ready.notify()

    def put_front(self, message: _Message) -> None:
        with self.ready:
            self.items.appendleft(message)
            self.ready.notify()

    def get(self, timeout: float) -> _Message | None:
        with self.ready:
            if not self.items:
                self.ready.wait(timeout)
            return self.items.popleft() if self.items else None


class MemoryBroker:
    """Exchanges and queues shared by every transport opened on the same ``memory://name``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.bindings: dict[str, list[tuple[str, str]]] = {}  # exchange -> [(pattern, queue)]
        self.queues: dict[str, _Queue] = {}
        self.timers: set[threading.Timer] = set()

    def queue(self, name: str) -> _Queue:
        with self.lock:
            return self.queues.setdefault(name, _Queue())

    def route(self, exchange: str, message: _Message) -> bool:
        with self.lock:
            bound = self.bindings.get(exchange, [])
            targets = {q for pattern, q in bound if topic_matches(pattern, message.routing_key)}
        for name in targets:
            self.queue(name).put(_Message(message.body, message.routing_key, message.message_id))
        return bool(targets)

    def later(self, delay: float, action) -> None:
        timer: threading.Timer

        def run() -> None:
            with self.lock:
                self.timers.discard(timer)
            action()

        timer = threading.Timer(delay, run)
        timer.daemon = True
        with self.lock:
            self.timers.add(timer)
        timer.start()


_brokers: dict[str, MemoryBroker] = {}
_brokers_lock = threading.Lock()


def broker_for(url: str) -> MemoryBroker:
    with _brokers_lock:
        return _brokers.setdefault(url, MemoryBroker())


class _MemoryPublisher:
    def __init__(self, broker: MemoryBroker, exchange: str):
        self.broker = broker
        self.exchange = exchange

    def publish_batch(self, messages: list[OutgoingMessage]) -> list[bool]:
        return [self.broker.route(self.exchange, _Message(m.body, m.routing_key, m.message_id))
                for m in messages]

    def keepalive(self) -> None:
        pass

    def close(self) -> None:
        pass


class MemoryTransport(Transport):
    def __init__(self, url: str, *, exchange: str):
        super().__init__(exchange)
        self.broker = broker_for(url)

    def publisher(self) -> _MemoryPublisher:
        return _MemoryPublisher(self.broker, self.exchange)

    def declare(self, spec: QueueSpec) -> None:
        with self.broker.lock:
            bound = self.broker.bindings.setdefault(self.exchange, [])
            for key in spec.bindings:
                if (key, spec.name) not in bound:
                    bound.append((key, spec.name))
            self.broker.queue(spec.name)
            self.broker.queue(spec.dead_letter_queue)

    def consume(self, spec: QueueSpec, handler: Handler, stop: threading.Event) -> None:
        self.declare(spec)
        queue = self.broker.queue(spec.name)
        while not stop.is_set():
            first = queue.get(timeout=0.2)
            if first is None:
                continue
            batch = [first]
            while len(batch) < spec.batch_size and (more := queue.get(timeout=0)) is not None:
                batch.append(more)
            deliveries = [Delivery(body=m.body, routing_key=m.routing_key, message_id=m.message_id,
                                   attempt=m.attempt, redelivered=m.redelivered) for m in batch]
            try:
                outcomes = handler(deliveries)
            except Exception:
                # Like unacked AMQP messages on a dying channel: they come back.
                log.exception("bus.memory.handler_crashed", queue=spec.name)
                for message in reversed(batch):
                    message.redelivered = True
                    queue.put_front(message)
                stop.wait(0.5)
                continue
            for message, outcome in zip(batch, outcomes, strict=True):
                self._settle(spec, message, outcome)

    def _settle(self, spec: QueueSpec, message: _Message, outcome: Outcome) -> None:
        if outcome is Outcome.RETRY and message.attempt < spec.max_attempts:
            delay = spec.retry_delays[message.attempt - 1]
            retry = _Message(message.body, message.routing_key, message.message_id, message.attempt + 1)
            self.broker.later(delay, lambda: self.broker.queue(spec.name).put(retry))
        elif outcome is not Outcome.ACK:
            self.broker.queue(spec.dead_letter_queue).put(message)

    def dead_letters(self, spec: QueueSpec) -> list[bytes]:
        queue = self.broker.queue(spec.dead_letter_queue)
        with queue.ready:
            return [m.body for m in queue.items]

    def replay_dead_letters(self, spec: QueueSpec) -> int:
        dlq, target = self.broker.queue(spec.dead_letter_queue), self.broker.queue(spec.name)
        count = 0
        while (message := dlq.get(timeout=0)) is not None:
            target.put(_Message(message.body, message.routing_key, message.message_id))
            count += 1
        return count

    def delete(self, spec: QueueSpec) -> None:
        with self.broker.lock:
            self.broker.queues.pop(spec.name, None)
            self.broker.queues.pop(spec.dead_letter_queue, None)
            for exchange, bound in self.broker.bindings.items():
                self.broker.bindings[exchange] = [b for b in bound if b[1] != spec.name]

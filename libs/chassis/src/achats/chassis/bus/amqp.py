"""RabbitMQ transport (pika): confirmed persistent publishing, quorum queues, retry and dead-letter queues.

pika is not thread-safe: every publisher and every consumer loop owns its connection, and each
reconnects on its own after a broker restart or a network cut.
"""

from __future__ import annotations

import threading
import time

import pika
import pika.exceptions as pex
import structlog

from .transport import (
    Delivery,
    Handler,
    Outcome,
    OutgoingMessage,
    QueueSpec,
    Transport,
    TransportError,
)

log = structlog.get_logger(__name__)

ATTEMPT_HEADER = "x-achats-attempt"
# Everything pika raises when the broker or the network goes away under us.
CONNECTION_ERRORS = (pex.AMQPError, ConnectionError, OSError)


def connection_parameters(url: str) -> pika.URLParameters:
    params = pika.URLParameters(url)
    # Explicit defaults unless the URL says otherwise: fail fast on a dead broker, detect a dead
    # peer within ~2 heartbeats, never block forever on a broker under memory alarm.
    if "heartbeat" not in url:
        params.heartbeat = 30
    if "socket_timeout" not in url:
        params.socket_timeout = 5
    if "blocked_connection_timeout" not in url:
        params.blocked_connection_timeout = 30
    params.connection_attempts = 1
    return params


class _AmqpPublisher:
    """Publishes a batch, then waits once for the broker's confirms of the whole batch.

    pika's BlockingChannel waits for each confirm before the next publish (about 1,500 messages/s
    here); pipelining a batch needs the confirm and return callbacks of the channel underneath it.
    """

    confirm_timeout = 30.0

    def __init__(self, transport: AmqpTransport):
        self.transport = transport
        self.connection: pika.BlockingConnection | None = None
        self.channel = None
        self._last_tag = 0
        self._unconfirmed: set[int] = set()
        self._nacked = False
        self._returned: set[str] = set()

    def _ensure(self):
        if self.connection is None or self.connection.is_closed or self.channel is None or self.channel.is_closed:
            self.close()
            self.connection = pika.BlockingConnection(self.transport.params)
            self.channel = self.connection.channel()
            self.channel.exchange_declare(self.transport.exchange, "topic", durable=True)
            impl = self.channel._impl
            impl.add_on_return_callback(self._on_return)
            selected = []
            impl.confirm_delivery(ack_nack_callback=self._on_confirm, callback=selected.append)
            while not selected:
                self.connection.process_data_events(time_limit=0.001)
            self._last_tag = 0
        return self.channel

    def _on_confirm(self, frame) -> None:
        method = frame.method
        if isinstance(method, pika.spec.Basic.Nack):
            self._nacked = True
        if method.multiple:
            self._unconfirmed = {tag for tag in self._unconfirmed if tag > method.delivery_tag}
        else:
            self._unconfirmed.discard(method.delivery_tag)

    def _on_return(self, _channel, _method, properties, _body) -> None:
        # The broker returns an unroutable message before it confirms it.
        self._returned.add(properties.message_id)

    def publish_batch(self, messages: list[OutgoingMessage]) -> list[bool]:
        try:
            channel = self._ensure()
            self._nacked = False
            self._returned = set()
            now = int(time.time())
            for message in messages:
                properties = pika.BasicProperties(
                    content_type=message.content_type, delivery_mode=2, message_id=message.message_id,
                    type=message.routing_key, timestamp=now)
                channel._impl.basic_publish(self.transport.exchange, message.routing_key, message.body,
                                            properties, mandatory=True)
                self._last_tag += 1
                self._unconfirmed.add(self._last_tag)
            deadline = time.monotonic() + self.confirm_timeout
            while self._unconfirmed:
                if time.monotonic() > deadline:
                    raise TransportError("no confirm from the broker in time")
                # Confirms delivered to the underlying channel do not end the blocking adapter's wait
                # early, so wait in short slices.
                self.connection.process_data_events(time_limit=0.001)
        except CONNECTION_ERRORS as exc:
            self.close()
            raise TransportError(f"broker unreachable: {exc!r}") from exc
        except TransportError:
            self.close()
            raise
        if self._nacked:
            self.close()
            raise TransportError("the broker refused a message of the batch")
        return [message.message_id not in self._returned for message in messages]

    def keepalive(self) -> None:
        if self.connection is not None and self.connection.is_open:
            try:
                self.connection.process_data_events(0)
            except CONNECTION_ERRORS:
                self.close()

    def close(self) -> None:
        connection, self.connection, self.channel = self.connection, None, None
        self._unconfirmed = set()
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except CONNECTION_ERRORS:
                pass


def _delivery(method, properties, body: bytes) -> Delivery:
    headers = dict(properties.headers or {})
    return Delivery(body=body, routing_key=method.routing_key, message_id=properties.message_id,
                    attempt=int(headers.get(ATTEMPT_HEADER, 1)), redelivered=method.redelivered, headers=headers)


class AmqpTransport(Transport):
    def __init__(self, url: str, *, exchange: str, reconnect_delay_max: float = 5.0):
        super().__init__(exchange)
        self.url = url
        self.params = connection_parameters(url)
        self.reconnect_delay_max = reconnect_delay_max

    def publisher(self) -> _AmqpPublisher:
        return _AmqpPublisher(self)

    def _declare_on(self, channel, spec: QueueSpec) -> None:
        channel.exchange_declare(self.exchange, "topic", durable=True)
        channel.queue_declare(spec.name, durable=True, arguments={"x-queue-type": "quorum"})
        for key in spec.bindings:
            channel.queue_bind(spec.name, self.exchange, key)
        for attempt, delay in enumerate(spec.retry_delays, start=1):
            # A message waits here for its delay, then dead-letters back into the main queue.
            channel.queue_declare(spec.retry_queue(attempt), durable=True, arguments={
                "x-message-ttl": int(delay * 1000),
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": spec.name,
            })
        channel.queue_declare(spec.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"})

    def _with_channel(self, action):
        connection = pika.BlockingConnection(self.params)
        try:
            return action(connection.channel())
        finally:
            if connection.is_open:
                connection.close()

    def declare(self, spec: QueueSpec) -> None:
        self._with_channel(lambda channel: self._declare_on(channel, spec))

    def consume(self, spec: QueueSpec, handler: Handler, stop: threading.Event) -> None:
        delay = 0.2
        while not stop.is_set():
            try:
                self._consume_once(spec, handler, stop)
                delay = 0.2
            except CONNECTION_ERRORS as exc:
                log.warning("bus.amqp.consumer_disconnected", queue=spec.name, error=repr(exc),
                            retry_in=delay)
                stop.wait(delay)
                delay = min(delay * 2, self.reconnect_delay_max)

    def _consume_once(self, spec: QueueSpec, handler: Handler, stop: threading.Event) -> None:
        connection = pika.BlockingConnection(self.params)
        try:
            channel = connection.channel()
            self._declare_on(channel, spec)
            channel.basic_qos(prefetch_count=spec.prefetch)
            channel.confirm_delivery()
            log.info("bus.amqp.consuming", queue=spec.name)
            messages = channel.consume(spec.name, inactivity_timeout=0.5)
            for first in messages:
                if stop.is_set():
                    break
                if first[0] is None:
                    continue
                batch = [first]
                while len(batch) < spec.batch_size and channel.get_waiting_message_count() > 0:
                    batch.append(next(messages))
                deliveries = [_delivery(method, properties, body) for method, properties, body in batch]
                try:
                    outcomes = handler(deliveries)
                except Exception:
                    log.exception("bus.amqp.handler_crashed", queue=spec.name)
                    outcomes = [Outcome.RETRY] * len(batch)
                for (method, properties, body), delivery, outcome in zip(batch, deliveries, outcomes, strict=True):
                    self._settle(channel, spec, method, properties, body, delivery.attempt, outcome)
            # Unacked prefetched messages go back to the queue when the channel closes.
            channel.cancel()
        finally:
            if connection.is_open:
                try:
                    connection.close()
                except CONNECTION_ERRORS:
                    pass

    def _settle(self, channel, spec: QueueSpec, method, properties, body: bytes, attempt: int,
                outcome: Outcome) -> None:
        if outcome is not Outcome.ACK:
            retry = outcome is Outcome.RETRY and attempt < spec.max_attempts
            target = spec.retry_queue(attempt) if retry else spec.dead_letter_queue
            headers = dict(properties.headers or {})
            headers[ATTEMPT_HEADER] = attempt + 1 if retry else attempt
            headers.pop("x-death", None)
            copy = pika.BasicProperties(
                content_type=properties.content_type, delivery_mode=2, message_id=properties.message_id,
                type=properties.type, timestamp=properties.timestamp, headers=headers)
            # Confirmed before the original is acked: a crash in between duplicates, never loses.
            channel.basic_publish("", target, body, copy, mandatory=True)
            if not retry:
                log.error("bus.dead_lettered", queue=spec.name, message_id=properties.message_id,
                          attempts=attempt)
        channel.basic_ack(method.delivery_tag)

    def dead_letters(self, spec: QueueSpec) -> list[bytes]:
        def peek(channel) -> list[bytes]:
            bodies = []
            while True:
                method, _props, body = channel.basic_get(spec.dead_letter_queue, auto_ack=False)
                if method is None:
                    return bodies
                bodies.append(body)
            # Closing the channel without acking puts every peeked message back.

        return self._with_channel(peek)

    def dead_letter_count(self, spec: QueueSpec) -> int:
        """The broker's count (a passive declare: nothing is read or moved); 0 before the queue exists."""
        def count(channel) -> int:
            return channel.queue_declare(spec.dead_letter_queue, passive=True).method.message_count

        try:
            return self._with_channel(count)
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 404:
                return 0
            raise

    def replay_dead_letters(self, spec: QueueSpec) -> int:
        def replay(channel) -> int:
            channel.confirm_delivery()
            count = 0
            while True:
                method, properties, body = channel.basic_get(spec.dead_letter_queue, auto_ack=False)
                if method is None:
                    return count
                headers = dict(properties.headers or {})
                headers[ATTEMPT_HEADER] = 1
                channel.basic_publish("", spec.name, body, pika.BasicProperties(
                    content_type=properties.content_type, delivery_mode=2,
                    message_id=properties.message_id, type=properties.type, headers=headers))
                channel.basic_ack(method.delivery_tag)
                count += 1

        return self._with_channel(replay)

    def delete(self, spec: QueueSpec) -> None:
        def drop(channel) -> None:
            for attempt in range(1, spec.max_attempts):
                channel.queue_delete(spec.retry_queue(attempt))
            channel.queue_delete(spec.dead_letter_queue)
            channel.queue_delete(spec.name)

        self._with_channel(drop)

    def delete_exchange(self) -> None:
        self._with_channel(lambda channel: channel.exchange_delete(self.exchange))

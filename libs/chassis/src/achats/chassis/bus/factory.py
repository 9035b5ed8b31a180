"""A transport from its URL. Apart from transport.py, which both transports import: the factory imports them,
so transport.py no longer imports its own importers (the cycle the lazy imports here used to hide)."""

from __future__ import annotations

from .amqp import AmqpTransport
from .memory import MemoryTransport
from .transport import Transport


def transport_from_url(url: str, *, exchange: str) -> Transport:
    if url.startswith("memory://"):
        return MemoryTransport(url, exchange=exchange)
    if url.startswith(("amqp://", "amqps://")):
        return AmqpTransport(url, exchange=exchange)
    raise ValueError(f"unsupported bus URL {url!r}: use amqp://, amqps:// or memory://")

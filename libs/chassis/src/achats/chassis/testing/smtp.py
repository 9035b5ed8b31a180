"""In-process SMTP server that records every message it receives, for tests of outgoing mail."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Awaitable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, NamedTuple, Self

from aiosmtpd.controller import Controller

__all__ = ["Envelope", "SmtpSink"]


class Envelope(NamedTuple):
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _BoundController(Controller):
    """Controller that binds its socket itself, so ``port=0`` yields a real free port.

    Binding first and handing the socket to asyncio avoids the race of "find a free port,
    close it, hope nobody takes it before aiosmtpd binds it".
    """

    def _create_server(self) -> Awaitable[Any]:
        family = socket.getaddrinfo(self.hostname, self.port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.hostname, self.port))
        except BaseException:
            sock.close()
            raise
        # Set before start() calls _trigger_server(), which connects to self.port.
        self.port = sock.getsockname()[1]
        return self.loop.create_server(self._factory_invoker, sock=sock, ssl=self.ssl_context)


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        # SMTP's CRLF line endings are wire format; Python's email API expects "\n", and without
        # this get_content() would return "\r\n"-terminated text.
        message = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
        self._sink._record(Envelope(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpSink:
    """SMTP server on ``host:port`` (``port=0``: any free port) keeping received messages."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._controller: _BoundController | None = None
        self._envelopes: list[Envelope] = []
        self._cond = threading.Condition()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("SmtpSink is not started")
        return self._port

    @property
    def envelopes(self) -> list[Envelope]:
        """Snapshot of (mail_from, rcpt_tos, message) for every message received so far."""
        with self._cond:
            return list(self._envelopes)

    @property
    def messages(self) -> list[EmailMessage]:
        """Snapshot of the messages received so far, parsed with ``email.policy.default``."""
        with self._cond:
            return [env.message for env in self._envelopes]

    def start(self) -> Self:
        """Start serving; after stop(), a restart reuses the same port."""
        if self._controller is not None:
            raise RuntimeError("SmtpSink already started")
        # A Controller closes its event loop on stop, so every start needs a fresh one.
        controller = _BoundController(
            _Handler(self), hostname=self.host, port=self._port or self._requested_port
        )
        controller.start()
        self._controller = controller
        self._port = controller.port
        return self

    def stop(self) -> None:
        """Stop the server and join its thread; idempotent. Received messages are kept."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def clear(self) -> None:
        with self._cond:
            self._envelopes.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Block until at least ``count`` messages arrived; return them all or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._envelopes) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {count} message(s) on SMTP port {self._port} within {timeout}s,"
                        f" got {len(self._envelopes)}"
                    )
                self._cond.wait(remaining)
            return [env.message for env in self._envelopes]

    def _record(self, envelope: Envelope) -> None:
        with self._cond:
            self._envelopes.append(envelope)
            self._cond.notify_all()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<SmtpSink {self.host}:{self._port} messages={len(self._envelopes)}>"

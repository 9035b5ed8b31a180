"""Tests of the test tools themselves: TcpProxy (outage simulation) and SmtpSink (mail capture)."""

from __future__ import annotations

import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from achats.chassis.testing import wait_until
from achats.chassis.testing.smtp import SmtpSink
from achats.chassis_testing.tcpproxy import TcpProxy


class EchoServer:
    """Echoes every byte back; closes its side when the client half-closes."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)  # lets the accept loop notice close() without platform tricks
        self.port = self.sock.getsockname()[1]
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="echo-accept", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), name="echo-conn", daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        conn.settimeout(None)
        with conn:
            try:
                while data := conn.recv(65536):
                    conn.sendall(data)
            except OSError:
                pass

    def close(self) -> None:
        self._closed.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    return sock


def _roundtrip(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    received = bytearray()
    while len(received) < len(payload):
        chunk = sock.recv(65536)
        assert chunk, "connection closed during round trip"
        received += chunk
    return bytes(received)


def _assert_closed(sock: socket.socket) -> None:
    try:
        data = sock.recv(1024)
    except (ConnectionResetError, ConnectionAbortedError):
        return
    assert data == b""


def test_proxy_forwards_bytes_both_ways(echo: EchoServer) -> None:
    with TcpProxy("127.0.0.1", echo.port) as proxy, _connect(proxy.port) as sock:
        assert _roundtrip(sock, b"hello") == b"hello"
        big = bytes(range(256)) * 8192  # 2 MiB: exercises partial sends and backpressure
        assert _roundtrip(sock, big) == big
        assert proxy.connections == 1
        # A half-close travels through: the echo server sees EOF and closes, so do we.
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(1024) == b""
        assert wait_until(lambda: proxy.connections == 0, timeout=5.0)


def test_cut_resets_live_connections_and_refuses_new_ones(echo: EchoServer) -> None:
    with TcpProxy("127.0.0.1", echo.port) as proxy:
        port = proxy.port
        live = [_connect(port) for _ in range(3)]
        for sock in live:
            assert _roundtrip(sock, b"ping") == b"ping"
        assert proxy.connections == 3

        proxy.cut()

        assert proxy.connections == 0
        for sock in live:
            _assert_closed(sock)
            sock.close()
        with pytest.raises(ConnectionRefusedError):
            _connect(port).close()

        proxy.restore()

        assert proxy.port == port
        with _connect(port) as sock:
            assert _roundtrip(sock, b"back") == b"back"
            assert proxy.connections == 1
        proxy.restore()  # already listening: no-op


def test_upstream_down_resets_client() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        dead_port = probe.getsockname()[1]
    with TcpProxy("127.0.0.1", dead_port) as proxy:
        try:
            sock = _connect(proxy.port)
        except ConnectionResetError:
            # On loopback the proxy can accept, fail upstream and reset us before connect()
            # returns to this thread: the same outcome, seen earlier.
            pass
        else:
            with sock:
                _assert_closed(sock)
        assert wait_until(lambda: proxy.connections == 0, timeout=5.0)


def test_stop_leaves_no_threads(echo: EchoServer) -> None:
    before = set(threading.enumerate())
    proxy = TcpProxy("127.0.0.1", echo.port)
    proxy.start()
    sock = _connect(proxy.port)
    assert _roundtrip(sock, b"x") == b"x"
    proxy.cut()
    proxy.restore()
    sock2 = _connect(proxy.port)
    assert _roundtrip(sock2, b"y") == b"y"

    proxy.stop()
    proxy.stop()  # idempotent

    _assert_closed(sock2)
    sock.close()
    sock2.close()
    # Only the echo server's own per-connection threads may still be winding down.
    leaked = [t for t in set(threading.enumerate()) - before if not t.name.startswith("echo")]
    assert leaked == []
    with pytest.raises(RuntimeError):
        proxy.cut()

    port = proxy.port
    with proxy, _connect(proxy.port) as sock:  # a restart keeps the port, like a restarted server
        assert proxy.port == port
        assert _roundtrip(sock, b"z") == b"z"


SUBJECT = "Votre demande d'assistance n°42 a été créée"
BODY = "Bonjour Hélène,\n\nVotre demande « imprimante du 3ᵉ étage » est enregistrée.\n"


def _send(port: int, to: str = "helene@example.org") -> None:
    msg = EmailMessage()
    msg["From"] = "assistance@achats.example"
    msg["To"] = to
    msg["Subject"] = SUBJECT
    msg.set_content(BODY)
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        client.send_message(msg)


def test_smtp_sink_receives_utf8_message() -> None:
    with SmtpSink() as sink:
        assert sink.port > 0
        _send(sink.port)
        [message] = sink.wait_for(1)
        assert message["Subject"] == SUBJECT
        assert message.get_content() == BODY
        [(mail_from, rcpt_tos, same)] = sink.envelopes
        assert mail_from == "assistance@achats.example"
        assert rcpt_tos == ["helene@example.org"]
        assert same is message

        _send(sink.port, to="marc@example.org")
        assert len(sink.wait_for(2)) == 2
        sink.clear()
        assert sink.messages == []


def test_smtp_sink_wait_for_times_out() -> None:
    with SmtpSink() as sink:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            sink.wait_for(1, timeout=0.3)
        assert 0.25 <= time.monotonic() - started < 3


def test_wait_until_returns_at_once_times_out_and_gives_up() -> None:
    calls = []
    assert wait_until(lambda: calls.append(1) or len(calls) >= 3, timeout=5, interval=0.001)
    assert len(calls) == 3
    started = time.monotonic()
    assert not wait_until(lambda: False, timeout=0.2, interval=0.01)
    assert 0.2 <= time.monotonic() - started < 2
    started = time.monotonic()
    assert not wait_until(lambda: False, timeout=30, interval=0.01, give_up=lambda: True)
    assert time.monotonic() - started < 1

"""Threaded TCP forwarder that reliability tests use to simulate a broker or database outage."""

from __future__ import annotations

import errno
import logging
import selectors
import socket
import struct
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Self

__all__ = ["TcpProxy"]

log = logging.getLogger(__name__)

_CHUNK = 65536
# Stop reading from one side while this much is still queued for the other side (backpressure).
_HIGH_WATER = 1 << 20
# SO_LINGER on with a zero timeout makes close() send RST, like a crashed server would.
_LINGER_RESET = struct.pack("ii", 1, 0)


def _other(side: str) -> str:
    return "u" if side == "c" else "c"


class _Pair:
    """One accepted client connection ("c") and its upstream connection ("u")."""

    __slots__ = ("connecting", "eof", "events", "out", "shut", "socks")

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.socks = {"c": client, "u": upstream}
        self.out = {"c": bytearray(), "u": bytearray()}  # bytes waiting to be written TO that side
        self.eof = {"c": False, "u": False}  # that side sent FIN
        self.shut = {"c": False, "u": False}  # we forwarded the FIN to that side
        self.connecting = True  # non-blocking connect to the target still in progress
        self.events = {"c": 0, "u": 0}  # what each socket is currently registered for


class TcpProxy:
    """Forward ``listen_host:port`` to ``target_host:target_port``; ``cut()`` simulates an outage.

    A single selector thread owns every socket, so ``cut()``/``restore()``/``stop()`` never
    close a socket another thread is blocked on: they are queued and run by that thread.
    """

    def __init__(
        self,
        target_host: str,
        target_port: int,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.listen_host = listen_host
        self._requested_port = listen_port
        self._port: int | None = None
        self._listener: socket.socket | None = None
        self._pairs: set[_Pair] = set()
        self._sel: selectors.BaseSelector | None = None
        self._thread: threading.Thread | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._commands: deque[Callable[[], None]] = deque()
        self._lock = threading.Lock()  # serialises start/stop and command submission
        self._stopping = False

    # -- public API ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the proxy listens on (known once started)."""
        if self._port is None:
            raise RuntimeError("TcpProxy is not started")
        return self._port

    @property
    def connections(self) -> int:
        """Number of live forwarded connection pairs."""
        return len(self._pairs)

    @property
    def is_cut(self) -> bool:
        return self._listener is None

    def start(self) -> Self:
        """Listen and forward; after stop(), a restart reuses the same port."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("TcpProxy already started")
            self._sel = selectors.DefaultSelector()
            self._wake_r, self._wake_w = socket.socketpair()
            self._wake_r.setblocking(False)
            self._wake_w.setblocking(False)
            self._sel.register(self._wake_r, selectors.EVENT_READ, (self._on_wake, ()))
            try:
                self._open_listener(self._port or self._requested_port)
            except BaseException:
                self._close_loop_resources()
                raise
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, name=f"tcpproxy-{self._port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Close everything and join the proxy thread; idempotent."""
        with self._lock:
            thread = self._thread
            if thread is None:
                return
            self._submit(self._request_stop)
            thread.join()
            self._thread = None
            self._close_loop_resources()

    def cut(self) -> None:
        """Refuse new connections and reset every live forwarded connection on both sides."""
        self._call(self._do_cut)

    def restore(self) -> None:
        """Listen again on the same port after ``cut()``; no-op if already listening."""
        self._call(self._do_restore)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"<TcpProxy :{self._port} -> {self.target_host}:{self.target_port}"
            f" cut={self.is_cut} connections={self.connections}>"
        )

    # -- cross-thread plumbing ----------------------------------------------------------------

    def _submit(self, fn: Callable[[], None]) -> None:
        self._commands.append(fn)
        assert self._wake_w is not None
        try:
            self._wake_w.send(b"\0")
        except BlockingIOError:
            pass  # a wake-up byte is already pending; the loop drains every queued command

    def _call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the proxy thread and return its result (or raise its exception)."""
        done = threading.Event()
        box: dict[str, Any] = {}

        def wrapped() -> None:
            try:
                box["result"] = fn()
            except Exception as exc:
                box["error"] = exc
            finally:
                done.set()

        with self._lock:
            thread = self._thread
            if thread is None:
                raise RuntimeError("TcpProxy is not started")
            self._submit(wrapped)
            # The loop thread runs leftover commands on exit, so this cannot hang forever.
            while not done.wait(0.5):
                if not thread.is_alive():
                    break
        if "error" in box:
            raise box["error"]
        if not done.is_set():
            raise RuntimeError("TcpProxy thread died")
        return box.get("result")

    # -- loop thread ----------------------------------------------------------------------------

    def _loop(self) -> None:
        assert self._sel is not None
        try:
            while not self._stopping:
                for key, mask in self._sel.select():
                    if self._stopping:
                        break
                    callback, pair_side = key.data
                    try:
                        callback(mask, *pair_side)
                    except Exception:
                        # A bug, not a network error (those are handled in the callbacks):
                        # report it once and drop only the affected connection.
                        log.exception("TcpProxy: unexpected error")
                        if pair_side:
                            self._abort(pair_side[0])
        finally:
            self._stopping = True
            for pair in list(self._pairs):
                self._abort(pair)
            self._close_listener()
            self._run_commands()  # unblock any caller still waiting in _call()

    def _request_stop(self) -> None:
        self._stopping = True

    def _on_wake(self, mask: int) -> None:
        assert self._wake_r is not None
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass
        self._run_commands()

    def _run_commands(self) -> None:
        while self._commands:
            self._commands.popleft()()

    def _do_cut(self) -> None:
        self._close_listener()
        for pair in list(self._pairs):
            self._abort(pair)

    def _do_restore(self) -> None:
        if self._listener is None:
            self._open_listener(self._port or self._requested_port)

    def _open_listener(self, port: int) -> None:
        family = socket.getaddrinfo(self.listen_host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            # Lets restore() rebind the same port although cut connections may linger in TIME_WAIT.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.listen_host, port))
            sock.listen(128)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        assert self._sel is not None
        self._sel.register(sock, selectors.EVENT_READ, (self._on_accept, ()))
        self._listener = sock
        self._port = sock.getsockname()[1]

    def _close_listener(self) -> None:
        sock, self._listener = self._listener, None
        if sock is not None:
            assert self._sel is not None
            self._sel.unregister(sock)
            # Closing the listener also resets connections still in its accept backlog.
            sock.close()

    def _close_loop_resources(self) -> None:
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._wake_r = self._wake_w = None
        if self._sel is not None:
            self._sel.close()
            self._sel = None
        self._commands.clear()

    def _on_accept(self, mask: int) -> None:
        while self._listener is not None:  # None if cut by an earlier event of the same batch
            try:
                client, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # e.g. the client reset before we accepted it
            client.setblocking(False)
            self._connect_upstream(client)

    def _connect_upstream(self, client: socket.socket) -> None:
        try:
            family, type_, proto, _, addr = socket.getaddrinfo(
                self.target_host, self.target_port, type=socket.SOCK_STREAM
            )[0]
            upstream = socket.socket(family, type_, proto)
        except OSError:
            self._reset(client)
            return
        upstream.setblocking(False)
        for sock in (client, upstream):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        pair = _Pair(client, upstream)
        self._pairs.add(pair)
        err = upstream.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
            self._abort(pair)  # target down: the client sees a reset, as with a dead server
            return
        self._update(pair)

    def _on_io(self, mask: int, pair: _Pair, side: str) -> None:
        if pair not in self._pairs:
            return  # closed by an earlier event of the same select() batch
        sock = pair.socks[side]
        if side == "u" and pair.connecting:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._abort(pair)
                return
            pair.connecting = False  # the WRITE event below flushes what the client sent meanwhile
        try:
            if mask & selectors.EVENT_READ:
                data = sock.recv(_CHUNK)
                if data:
                    pair.out[_other(side)] += data
                else:
                    pair.eof[side] = True
            if mask & selectors.EVENT_WRITE and pair.out[side]:
                sent = sock.send(pair.out[side])
                del pair.out[side][:sent]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            # Reset or broken pipe on one side: pass the failure on as a reset to the other side.
            self._abort(pair)
            return
        self._progress(pair)

    def _progress(self, pair: _Pair) -> None:
        """Forward half-closes once their side's queue is flushed; close finished pairs."""
        for side in ("c", "u"):
            if (
                pair.eof[_other(side)]
                and not pair.out[side]
                and not pair.shut[side]
                and not (side == "u" and pair.connecting)
            ):
                pair.shut[side] = True
                try:
                    pair.socks[side].shutdown(socket.SHUT_WR)
                except OSError:
                    self._abort(pair)
                    return
        if all(pair.eof.values()) and all(pair.shut.values()):
            self._close_pair(pair, reset=False)
        else:
            self._update(pair)

    def _update(self, pair: _Pair) -> None:
        """(Re)register both sockets for exactly the events they can act on now."""
        assert self._sel is not None
        for side in ("c", "u"):
            events = 0
            if side == "u" and pair.connecting:
                events = selectors.EVENT_WRITE
            else:
                if not pair.eof[side] and len(pair.out[_other(side)]) < _HIGH_WATER:
                    events |= selectors.EVENT_READ
                if pair.out[side]:
                    events |= selectors.EVENT_WRITE
            if events == pair.events[side]:
                continue
            sock = pair.socks[side]
            data = (self._on_io, (pair, side))
            if pair.events[side] == 0:
                self._sel.register(sock, events, data)
            elif events == 0:
                self._sel.unregister(sock)
            else:
                self._sel.modify(sock, events, data)
            pair.events[side] = events

    def _abort(self, pair: _Pair) -> None:
        self._close_pair(pair, reset=True)

    def _close_pair(self, pair: _Pair, *, reset: bool) -> None:
        if pair not in self._pairs:
            return
        self._pairs.discard(pair)
        for side in ("c", "u"):
            sock = pair.socks[side]
            if pair.events[side] and self._sel is not None:
                self._sel.unregister(sock)
                pair.events[side] = 0
            if reset:
                self._reset(sock)
            else:
                sock.close()

    @staticmethod
    def _reset(sock: socket.socket) -> None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        except OSError:
            pass
        sock.close()

"""Serve an ASGI app over real HTTP from a thread, for tests that cross service boundaries."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from achats.chassis.cli import EmbeddedServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _TestServer(EmbeddedServer):
    """uvicorn looks at ``should_exit`` every 100 ms; a test stopping a dozen servers would wait that long for
    each. ``stop()`` wakes the main loop at once instead (it still ticks every 100 ms, as uvicorn does)."""

    _loop: asyncio.AbstractEventLoop | None = None
    _stopped: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._stopped = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), 0.1)

    def stop(self) -> None:
        self.should_exit = True
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)


@contextlib.contextmanager
def serving(app: object, port: int | None = None) -> Iterator[str]:
    """``with serving(app) as base_url:`` — uvicorn on 127.0.0.1, stopped and joined on exit."""
    port = port or free_port()
    server = _TestServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                                    lifespan="on", timeout_graceful_shutdown=2,
                                    # The app decides whom it trusts for X-Forwarded-For, not uvicorn.
                                    proxy_headers=False))
    thread = threading.Thread(target=server.run, name=f"serving-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the app did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        thread.join(timeout=10)

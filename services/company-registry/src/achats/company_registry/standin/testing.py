"""Test helpers: run the INSEE stand-in in a background thread, and drive any running stand-in over HTTP."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import uvicorn

from achats.company_registry.standin.app import DEFAULT_API_KEY, DEFAULT_BASE_PATH, create_app


class StandinControl:
    """Client of the `/_standin` control API of a stand-in (in-process or started by `make run`)."""

    def __init__(self, base_url: str, api_key: str | None = DEFAULT_API_KEY) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        parts = urlsplit(self.base_url)
        self.root_url = f"{parts.scheme}://{parts.netloc}"

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the stand-in's, built by us
            f"{self.root_url}/_standin/{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return json.load(response)

    def set_mode(
        self, mode: str, delay: float | None = None, count: int | None = None, retry_after: int | None = None
    ) -> dict[str, Any]:
        """`mode` for the next `count` INSEE requests (for ever if None), then back to normal."""
        body: dict[str, Any] = {"mode": mode}
        for key, value in (("delay", delay), ("count", count), ("retry_after", retry_after)):
            if value is not None:
                body[key] = value
        return self._call("PUT", "mode", body)

    def mode(self) -> dict[str, Any]:
        return self._call("GET", "mode")

    def calls(self) -> dict[str, Any]:
        """{"total": n, "by_path": {"/siret/26570134200148": 1, ...}}, INSEE endpoints only."""
        return self._call("GET", "calls")

    def reset(self) -> dict[str, Any]:
        """Counters to zero, mode back to normal, hanging requests released."""
        return self._call("POST", "reset")

    def headers(self) -> dict[str, str]:
        """Headers a well-behaved client sends."""
        return {"X-INSEE-Api-Key-Integration": self.api_key or "", "Accept": "application/json"}


class RunningStandin(StandinControl):
    """A stand-in served in this process; `.app.state.standin` gives direct access to its state."""

    def __init__(self, base_url: str, api_key: str | None, app: Any, server: uvicorn.Server) -> None:
        super().__init__(base_url, api_key)
        self.app = app
        self.server = server
        self.port = server.config.port


@contextlib.contextmanager
def running_standin(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    api_key: str | None = DEFAULT_API_KEY,
    base_path: str = DEFAULT_BASE_PATH,
    **app_kwargs: Any,
) -> Iterator[RunningStandin]:
    """Serve the stand-in with uvicorn in a thread on `port` (0: a free one); stop it and join the thread on exit."""
    app = create_app(api_key=api_key, base_path=base_path, **app_kwargs)
    # Binding here rather than in uvicorn gives the real port at once when port is 0.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"insee-standin-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the INSEE stand-in did not start")
            time.sleep(0.01)
        yield RunningStandin(f"http://{host}:{port}{app.state.base_path}", api_key, app, server)
    finally:
        # Release requests hanging in outage/slow mode first, so that the graceful shutdown has nothing to wait for.
        app.state.standin.reset()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        if thread.is_alive():
            raise RuntimeError("the INSEE stand-in did not stop")

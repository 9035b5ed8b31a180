"""Per-request context (request id, traceparent) shared by logs, the HTTP client and the bus."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("achats_request_id", default=None)
traceparent_var: ContextVar[str | None] = ContextVar("achats_traceparent", default=None)
# When the request arrived (time.monotonic()), before it waited for a worker thread: a budget promised
# to users (« answers within 3.5 s ») is counted from there, not from when a handler got to run.
request_started_var: ContextVar[float | None] = ContextVar("achats_request_started", default=None)

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def new_request_id() -> str:
    return str(uuid.uuid4())


def accept_request_id(value: str | None) -> str:
    """Keep a caller's request id when it is safe to log and echo, else make a new one."""
    if value and _SAFE_REQUEST_ID.match(value):
        return value
    return new_request_id()


def current_request_id() -> str | None:
    return request_id_var.get()


def current_traceparent() -> str | None:
    return traceparent_var.get()


def request_started() -> float | None:
    """The monotonic instant the current request arrived, or None outside a request."""
    return request_started_var.get()

"""Request id, access log, Prometheus metrics and the body-size limit, as one ASGI middleware."""

from __future__ import annotations

import json
import os
import time
import typing as t

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

from .context import accept_request_id, request_id_var, request_started_var, traceparent_var
from .problems import PROBLEM_JSON, Problem
from .security import request_verifier

log = structlog.get_logger("achats.access")

REQUESTS = Counter("http_requests_total", "HTTP requests answered",
                   ["service", "method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "Time to answer an HTTP request",
                    ["service", "method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
# Endpoints of the chassis itself: named as they are, everything else by operationId.
OWN_ROUTES = {"/healthz", "/readyz", "/metrics"}


def metrics_payload() -> tuple[bytes, str]:
    """Exposition text for /metrics; aggregates every worker's samples under gunicorn."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(DEFAULT_REGISTRY), CONTENT_TYPE_LATEST


def _route(scope: dict) -> str:
    routing = scope.get("extensions", {}).get("connexion_routing", {})
    if routing.get("operation_id"):
        return routing["operation_id"]
    path = scope.get("path", "")
    return path if path in OWN_ROUTES else "unmatched"


class RequestContextMiddleware:
    """Outermost layer: sees every request and every final status, error responses included."""

    def __init__(self, app: t.Any, service: str = "", max_body_bytes: int = 1_048_576,
                 verifier: t.Any = None, buffer_chunked: bool = True, route_of: t.Callable | None = None):
        self.app = app
        self.service = service
        self.max_body_bytes = max_body_bytes
        self.verifier = verifier
        # A proxy streams bodies and enforces its own limits per route: it reads nothing ahead.
        self.buffer_chunked = buffer_chunked
        self.route_of = route_of or _route

    async def __call__(self, scope: dict, receive: t.Callable, send: t.Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # connexion's router records the operation in scope["extensions"]; created here, the dict is
        # shared with the copies of the scope made downstream, so the route is known on the way out.
        scope.setdefault("extensions", {})
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        request_id = accept_request_id(headers.get("x-request-id"))
        rid_token = request_id_var.set(request_id)
        # Always set, None included: a request never authenticates with another app's verifier.
        verifier_token = request_verifier.set(self.verifier)
        tp_token = traceparent_var.set(headers.get("traceparent"))
        started_token = request_started_var.set(time.monotonic())
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            declared = headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                await self._too_large(scope, send_with_id)
                return
            if (self.buffer_chunked and declared is None
                    and "chunked" in headers.get("transfer-encoding", "").lower()):
                # connexion validates only bodies with a Content-Length (a chunked one would skip
                # validation): read it here, within the limit, and pass it on with its length.
                body = await self._read_chunked(receive)
                if body is None:
                    await self._too_large(scope, send_with_id)
                    return
                scope, receive = _with_body(scope, body)
            await self.app(scope, self._limited(receive) if self.buffer_chunked else receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route, method = self.route_of(scope), scope.get("method", "")
            REQUESTS.labels(self.service, method, route, str(status_holder["status"])).inc()
            LATENCY.labels(self.service, method, route).observe(elapsed)
            log.info("http.request", service=self.service, method=method, path=scope.get("path"),
                     route=route, status=status_holder["status"], duration_ms=round(elapsed * 1000, 2))
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(rid_token)
            request_verifier.reset(verifier_token)
            traceparent_var.reset(tp_token)
            request_started_var.reset(started_token)

    def _limited(self, receive: t.Callable) -> t.Callable:
        seen = 0
        limit = self.max_body_bytes

        async def wrapped() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise Problem(status=413, code="payload_too_large", detail=_too_large_detail(limit))
            return message

        return wrapped

    async def _read_chunked(self, receive: t.Callable) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _too_large(self, scope: dict, send: t.Callable) -> None:
        body = json.dumps(Problem(status=413, code="payload_too_large",
                                  detail=_too_large_detail(self.max_body_bytes)).to_dict(scope.get("path")),
                          ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", PROBLEM_JSON.encode()),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _with_body(scope: dict, body: bytes) -> tuple[dict, t.Callable]:
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in (b"transfer-encoding",
                                                                                  b"content-length")]
    headers.append((b"content-length", str(len(body)).encode()))
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return {**scope, "headers": headers}, receive


def _too_large_detail(limit: int) -> str:
    return f"Le contenu envoyé dépasse la taille maximale autorisée ({human_size(limit)})."


def human_size(size: int) -> str:
    for unit, factor in (("Go", 1 << 30), ("Mo", 1 << 20), ("Ko", 1 << 10)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}".replace(".", ",")
    return f"{size} octets"

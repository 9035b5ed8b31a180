"""Tests of the service-to-service HTTP client against a real local HTTP server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from achats.chassis import http as chttp
from achats.chassis.context import request_id_var, traceparent_var
from achats.chassis.http import (
    CircuitBreaker,
    CircuitOpenError,
    ServiceClient,
    ServiceTimeout,
    ServiceUnavailable,
)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]


class Stub:
    """Scripted server state: replies are consumed in order, then ``default`` is used."""

    def __init__(self) -> None:
        self.url = ""
        self.hits: list[Hit] = []
        self.script: list[Reply] = []
        self.default = Reply()
        self.release = threading.Event()  # cuts sleeps short at teardown
        self._lock = threading.Lock()

    def reply(self, *replies: Reply) -> None:
        with self._lock:
            self.script = list(replies)

    def next(self, hit: Hit) -> Reply:
        with self._lock:
            self.hits.append(hit)
            return self.script.pop(0) if self.script else self.default


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            reply = stub.next(Hit(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
            if reply.delay and stub.release.wait(reply.delay):
                return
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except OSError:
                pass  # the client gave up (timeout): nothing to answer to

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def stub() -> Iterator[Stub]:
    state = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client_for(stub: Stub, **kwargs: Any) -> ServiceClient:
    kwargs.setdefault("service", "catalogue")
    kwargs.setdefault("backoff", 0.0)
    return ServiceClient(stub.url, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- timeouts -------------------------------------------------------------------------------


def test_read_timeout_raises_service_timeout_without_retry_for_post(stub: Stub) -> None:
    stub.default = Reply(delay=1.0)
    client = client_for(stub, read_timeout=0.2, retries=2)

    started = time.monotonic()
    with pytest.raises(ServiceTimeout) as excinfo:
        client.post("/orders", json={"a": 1})
    assert time.monotonic() - started < 0.9  # well before the server's 1 s answer
    assert excinfo.value.service == "catalogue"
    assert "catalogue" in str(excinfo.value)
    assert len(stub.hits) == 1


def test_read_timeout_on_get_is_retried_then_raises_service_timeout(stub: Stub) -> None:
    stub.default = Reply(delay=1.0)
    client = client_for(stub, read_timeout=0.2, retries=1)

    started = time.monotonic()
    with pytest.raises(ServiceTimeout):
        client.get("/slow")
    assert time.monotonic() - started < 3.0
    assert len(stub.hits) == 2


# --- retries --------------------------------------------------------------------------------


def test_get_retried_on_503_then_succeeds(stub: Stub) -> None:
    stub.reply(Reply(503), Reply(503), Reply(200, b'{"id": 7}'))
    response = client_for(stub, retries=2).get("/items/7")
    assert response.status_code == 200
    assert response.json() == {"id": 7}
    assert len(stub.hits) == 3


@pytest.mark.parametrize("status", [502, 503, 504])
def test_get_exhausting_retries_raises_with_last_status(stub: Stub, status: int) -> None:
    stub.default = Reply(status)
    with pytest.raises(ServiceUnavailable) as excinfo:
        client_for(stub, retries=2).get("/items")
    assert type(excinfo.value) is ServiceUnavailable
    assert excinfo.value.status == status
    assert len(stub.hits) == 3


def test_500_is_not_retried_but_raises(stub: Stub) -> None:
    stub.default = Reply(500)
    with pytest.raises(ServiceUnavailable) as excinfo:
        client_for(stub, retries=2).get("/items")
    assert excinfo.value.status == 500
    assert len(stub.hits) == 1


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_non_idempotent_write_on_503_is_not_retried(stub: Stub, method: str) -> None:
    stub.reply(Reply(503), Reply(200))
    with pytest.raises(ServiceUnavailable) as excinfo:
        client_for(stub, retries=2).request(method, "/orders", json={"a": 1})
    assert excinfo.value.status == 503
    assert len(stub.hits) == 1


def test_post_with_idempotency_key_is_retried(stub: Stub) -> None:
    stub.reply(Reply(503), Reply(201, b'{"id": 1}'))
    response = client_for(stub, retries=2).post(
        "/orders", json={"a": 1}, headers={"Idempotency-Key": "k-123"}
    )
    assert response.status_code == 201
    assert len(stub.hits) == 2
    assert [hit.headers.get("idempotency-key") for hit in stub.hits] == ["k-123", "k-123"]


def test_put_is_retried_on_503(stub: Stub) -> None:
    stub.reply(Reply(503), Reply(200))
    assert client_for(stub, retries=2).put("/items/1", json={}).status_code == 200
    assert len(stub.hits) == 2


def test_retry_after_is_honoured_but_capped(stub: Stub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chttp, "MAX_RETRY_AFTER", 0.05)
    stub.reply(Reply(503, headers={"Retry-After": "3"}), Reply(200))
    started = time.monotonic()
    assert client_for(stub, retries=1).get("/items").status_code == 200
    assert time.monotonic() - started < 2.5  # the uncapped 3 s would be slept otherwise
    assert len(stub.hits) == 2


def test_connection_refused_raises_service_unavailable() -> None:
    client = ServiceClient(f"http://127.0.0.1:{free_port()}", service="identity", retries=1, backoff=0.0)
    with pytest.raises(ServiceUnavailable) as excinfo:
        client.get("/users/me")
    assert type(excinfo.value) is ServiceUnavailable
    assert excinfo.value.service == "identity"
    assert excinfo.value.status is None
    assert str(excinfo.value) == "Le service identity est momentanément indisponible."


# --- circuit breaker ------------------------------------------------------------------------


def test_breaker_opens_after_threshold_and_stops_calling(stub: Stub) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=30.0, clock=clock)
    client = client_for(stub, retries=0, breaker=breaker)
    stub.default = Reply(500)

    for _ in range(3):
        with pytest.raises(ServiceUnavailable):
            client.get("/items")
    assert breaker.state == CircuitBreaker.OPEN
    assert len(stub.hits) == 3

    clock.now += 29.0
    for _ in range(2):
        with pytest.raises(CircuitOpenError) as excinfo:
            client.get("/items")
    assert excinfo.value.service == "catalogue"
    assert len(stub.hits) == 3  # never reached the server


def test_breaker_half_open_success_closes(stub: Stub) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30.0, clock=clock)
    client = client_for(stub, retries=0, breaker=breaker)
    stub.default = Reply(500)
    for _ in range(2):
        with pytest.raises(ServiceUnavailable):
            client.get("/items")
    assert breaker.state == CircuitBreaker.OPEN

    stub.default = Reply(200)
    clock.now += 30.0
    assert client.get("/items").status_code == 200
    assert breaker.state == CircuitBreaker.CLOSED
    assert client.get("/items").status_code == 200
    assert len(stub.hits) == 4


def test_breaker_half_open_failure_reopens(stub: Stub) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30.0, clock=clock)
    client = client_for(stub, retries=0, breaker=breaker)
    stub.default = Reply(500)
    for _ in range(2):
        with pytest.raises(ServiceUnavailable):
            client.get("/items")

    clock.now += 30.0
    with pytest.raises(ServiceUnavailable) as excinfo:
        client.get("/items")  # the trial call reaches the server and fails
    assert not isinstance(excinfo.value, CircuitOpenError)
    assert len(stub.hits) == 3
    assert breaker.state == CircuitBreaker.OPEN
    with pytest.raises(CircuitOpenError):
        client.get("/items")
    assert len(stub.hits) == 3


def test_connection_errors_count_as_breaker_failures() -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30.0, clock=FakeClock())
    client = ServiceClient(
        f"http://127.0.0.1:{free_port()}", service="identity", retries=0, breaker=breaker
    )
    for _ in range(2):
        with pytest.raises(ServiceUnavailable) as excinfo:
            client.get("/x")
        assert not isinstance(excinfo.value, CircuitOpenError)
    with pytest.raises(CircuitOpenError):
        client.get("/x")


def test_timeouts_count_as_breaker_failures(stub: Stub) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=30.0, clock=FakeClock())
    client = client_for(stub, retries=0, read_timeout=0.2, breaker=breaker)
    stub.default = Reply(delay=1.0)
    with pytest.raises(ServiceTimeout):
        client.get("/slow")
    with pytest.raises(CircuitOpenError):
        client.get("/slow")
    assert len(stub.hits) == 1


def test_4xx_returned_as_is_and_not_a_breaker_failure(stub: Stub) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=30.0, clock=FakeClock())
    client = client_for(stub, retries=2, breaker=breaker)
    stub.default = Reply(404, b'{"code": "not_found"}')
    for _ in range(3):
        response = client.get("/items/missing")
        assert response.status_code == 404
        assert response.json() == {"code": "not_found"}
    assert breaker.state == CircuitBreaker.CLOSED
    assert len(stub.hits) == 3


def test_breaker_counts_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=30.0, clock=FakeClock())
    for _ in range(2):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state == CircuitBreaker.CLOSED
    breaker.record_failure()
    assert breaker.state == CircuitBreaker.OPEN


def test_breaker_half_open_admits_a_single_trial() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=10.0, clock=clock)
    breaker.record_failure()
    assert breaker.allow_request() is False
    clock.now += 10.0
    assert breaker.allow_request() is True
    assert breaker.state == CircuitBreaker.HALF_OPEN
    assert breaker.allow_request() is False  # concurrent callers wait for the trial
    clock.now += 10.0
    assert breaker.allow_request() is True  # a trial that never reported back is replaced


def test_each_client_has_its_own_breaker(stub: Stub) -> None:
    first, second = client_for(stub), client_for(stub)
    assert first.breaker is not second.breaker


# --- propagation ----------------------------------------------------------------------------


def test_request_id_and_traceparent_propagated(stub: Stub) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    rid_token = request_id_var.set("req-42")
    tp_token = traceparent_var.set(traceparent)
    try:
        client_for(stub).get("/items")
    finally:
        request_id_var.reset(rid_token)
        traceparent_var.reset(tp_token)
    client_for(stub).get("/items")

    with_context, without_context = stub.hits
    assert with_context.headers["x-request-id"] == "req-42"
    assert with_context.headers["traceparent"] == traceparent
    assert "x-request-id" not in without_context.headers
    assert "traceparent" not in without_context.headers


def test_bearer_token_from_provider(stub: Stub) -> None:
    tokens = iter(["tok-1", None])
    client = client_for(stub, token_provider=lambda: next(tokens))
    client.get("/a")
    client.get("/b")
    assert stub.hits[0].headers["authorization"] == "Bearer tok-1"
    assert "authorization" not in stub.hits[1].headers


def test_caller_headers_win_over_propagated_ones(stub: Stub) -> None:
    client = client_for(stub, token_provider=lambda: "service-token")
    client.get("/a", headers={"authorization": "Bearer user-token"})
    assert stub.hits[0].headers["authorization"] == "Bearer user-token"


def test_path_joined_to_base_url_with_prefix_and_user_agent(stub: Stub) -> None:
    client = ServiceClient(f"{stub.url}/catalogue/v1/", service="catalogue", user_agent="achats-helpdesk")
    client.get("/items/1")
    client.delete("items/2")
    client.get("//evil.example/x")
    assert [(hit.method, hit.path) for hit in stub.hits] == [
        ("GET", "/catalogue/v1/items/1"),
        ("DELETE", "/catalogue/v1/items/2"),
        ("GET", "/catalogue/v1/evil.example/x"),
    ]
    assert stub.hits[0].headers["user-agent"] == "achats-helpdesk"


def test_a_problem_document_with_a_5xx_is_the_callee_s_answer_not_an_outage():
    import json as _json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            body = _json.dumps({"status": 503, "code": "insee_unavailable", "detail": "INSEE en panne"}).encode()
            self.send_response(503)
            self.send_header("Content-Type", "application/problem+json")
            self.send_header("Retry-After", "60")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = ServiceClient(f"http://127.0.0.1:{server.server_address[1]}", service="registry",
                               breaker=CircuitBreaker(failure_threshold=1))
        response = client.post("/x", json={}, retry=False, headers={"Idempotency-Key": "k"})
        assert response.status_code == 503
        assert response.json()["code"] == "insee_unavailable"
        assert hits == ["/x"]  # not retried
        assert client.breaker.state == CircuitBreaker.CLOSED  # the callee is up
    finally:
        server.shutdown()
        server.server_close()

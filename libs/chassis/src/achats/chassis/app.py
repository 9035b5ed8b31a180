"""The app factory: a connexion 3 FlaskApp with problem+json errors, probes, metrics and security."""

from __future__ import annotations

import copy
import functools
import io
import json
import threading
import time
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import connexion
import flask
import structlog
import yaml
from connexion.exceptions import ProblemException
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import RelativeResolver
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import busadmin, security
from .bus.factory import transport_from_url
from .bus.transport import QueueSpec, Transport
from .db import Database
from .logging import configure_logging
from .observability import RequestContextMiddleware, metrics_payload
from .problems import PROBLEM_JSON, Problem
from .settings import ServiceSettings
from .validation import validator_map

log = structlog.get_logger(__name__)

ReadinessCheck = Callable[[], None]


@dataclass
class Runtime:
    """What one service's handlers need, built once per process: the composition root.

    ``verifier`` checks the bearer tokens of the service's requests (the JWKS of identity, or identity's own
    key ring); ``deps`` is the service's typed dependencies object (``<service>.deps.Dependencies``: its
    clients, stores, timers), built once by its ``ServiceDefinition``.
    """

    settings: ServiceSettings
    db: Database | None = None
    transport: Transport | None = None
    verifier: security.TokenVerifier | None = None
    deps: Any = None

    @property
    def source(self) -> str:
        """CloudEvents ``source`` of the events this service publishes."""
        return f"/{self.settings.service}"


class JsonResolver(RelativeResolver):
    """Resolves handlers; gives them UUIDs for parameters annotated ``uuid.UUID``, and makes JSON
    the default type of what they return.

    Specs document error responses as application/problem+json next to the JSON of the success;
    connexion then refuses a handler's plain ``(body, status)`` because the operation has two
    content types. Errors never come from handlers' return values (they raise), so JSON it is.
    """

    def resolve_function_from_operation_id(self, operation_id: str) -> Callable:
        return _json_by_default(super().resolve_function_from_operation_id(operation_id))


def _json_by_default(handler: Callable) -> Callable:
    uuid_params = _uuid_parameters(handler)

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for name in uuid_params.intersection(kwargs):
            # The spec already checked the format (format: uuid); hand the handler a UUID.
            if isinstance(kwargs[name], str):
                kwargs[name] = uuid.UUID(kwargs[name])
        result = handler(*args, **kwargs)
        if isinstance(result, tuple) and result and isinstance(result[0], dict | list):
            body, status, headers = (*result, {}) if len(result) == 2 else (*result[:3],)
            if not any(key.lower() == "content-type" for key in headers):
                headers = {**headers, "Content-Type": "application/json"}
            return body, status, headers
        if isinstance(result, dict | list):
            return result, 200, {"Content-Type": "application/json"}
        return result

    return wrapper


def _uuid_parameters(handler: Callable) -> set[str]:
    try:
        hints = typing.get_type_hints(handler)
    except Exception:  # unresolvable annotations: nothing to convert
        return set()
    return {name for name, hint in hints.items()
            if hint is uuid.UUID or uuid.UUID in typing.get_args(hint)}  # UUID, or UUID | None


def current_runtime() -> Runtime:
    return flask.current_app.extensions["achats"]


def problem_response(problem: Problem, path: str | None = None) -> ConnexionResponse:
    body = json.dumps(problem.to_dict(instance=path), ensure_ascii=False).encode()
    return ConnexionResponse(status_code=problem.status, body=body, content_type=PROBLEM_JSON,
                             headers=dict(problem.headers))


def _on_problem(request: ConnexionRequest, exc: Problem) -> ConnexionResponse:
    if exc.status >= 500:
        log.error("http.problem", status=exc.status, code=exc.code)
    return problem_response(exc, request.url.path)


# connexion's own problems carry English details; users get the French generic text instead
# (the English original goes to the log for developers).
def _on_connexion_problem(request: ConnexionRequest, exc: ProblemException) -> ConnexionResponse:
    log.info("http.connexion_problem", status=exc.status, detail=str(exc.detail))
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    return problem_response(Problem(status=exc.status, headers=headers), request.url.path)


def _on_http_exception(request: ConnexionRequest, exc: StarletteHTTPException) -> ConnexionResponse:
    return problem_response(Problem(status=exc.status_code, headers=dict(exc.headers or {})),
                            request.url.path)


def _on_unhandled(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.error("http.unhandled_exception", path=request.url.path, exc_info=exc)
    return problem_response(Problem(status=500), request.url.path)


class ReadinessProbe:
    """Runs the checks; caches a success for a second so a busy probe never loads the database."""

    def __init__(self, checks: dict[str, ReadinessCheck], cache_seconds: float = 1.0):
        self.checks = checks
        self.cache_seconds = cache_seconds
        self._ok_until = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> tuple[bool, dict[str, str]]:
        if time.monotonic() < self._ok_until:
            return True, {name: "ok" for name in self.checks}
        results: dict[str, str] = {}
        for name, check in self.checks.items():
            try:
                check()
                results[name] = "ok"
            except Exception as exc:  # each failing dependency is reported, none hides another
                log.warning("readiness.failed", check=name, error=repr(exc))
                results[name] = "indisponible"
        ok = all(v == "ok" for v in results.values())
        if ok:
            with self._lock:
                self._ok_until = time.monotonic() + self.cache_seconds
        return ok, results


def broker_check(transport: Transport) -> ReadinessCheck:
    def check() -> None:
        publisher = transport.publisher()
        try:
            # An empty batch still opens (or reuses) the connection and declares the exchange.
            publisher.publish_batch([])
        finally:
            publisher.close()

    return check


class InMemoryUploadsRequest(flask.Request):
    """Uploaded files are parsed into memory, not into temporary files on disk.

    The body is already whole in memory (the validator reads it to check it) and bounded by
    ``MAX_BODY_BYTES`` (413 beyond), so a disk file only adds a write and a read back: a third of the
    handler's parse of a 20 MB upload.
    """

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return io.BytesIO()


@functools.lru_cache(maxsize=64)
def _parsed_spec(path: Path, mtime_ns: int) -> dict:
    # libyaml's parser (PyYAML's C loader): connexion's pure-Python safe_load of a service's contract is
    # 0.3 s per app, paid again by each app a process builds (tests build hundreds). Our contracts use no
    # Jinja2 template syntax, which connexion would render when it reads the file itself.
    with path.open("rb") as source:
        return yaml.load(source, Loader=yaml.CSafeLoader)  # the C twin of yaml.safe_load


def load_spec(spec: Path) -> dict:
    """The service's OpenAPI contract as a new dict (connexion fills defaults into the one it is given), read
    once per process and version of the file."""
    return copy.deepcopy(_parsed_spec(spec.resolve(), spec.stat().st_mtime_ns))


def create_app(settings: ServiceSettings, *, spec: Path | str, runtime: Runtime | None = None,
               db: Database | None = None, transport: Transport | None = None,
               readiness: dict[str, ReadinessCheck] | None = None, validate_responses: bool = False,
               api_module: str | None = None, configure_logs: bool = True,
               queue_spec: QueueSpec | None = None) -> connexion.FlaskApp:
    """Build a service's app from its OpenAPI contract; handlers resolve as ``<package>.api``.

    ``runtime``: the service's composition root (``ServiceDefinition.runtime``); without one, a runtime of
    ``db``, ``transport`` and the verifier the settings name. ``queue_spec``: the service's consumer queue,
    whose dead letters ``/admin/bus`` counts and replays (busadmin)."""
    if configure_logs:
        configure_logging(settings.log_level, settings.log_json)
    spec = Path(spec)
    if runtime is None:
        if transport is None and settings.amqp_url:
            transport = transport_from_url(settings.amqp_url, exchange=settings.events_exchange)
        runtime = Runtime(settings=settings, db=db, transport=transport,
                          verifier=security.verifier_from_settings(settings))
    db, transport = runtime.db, runtime.transport

    api_module = api_module or _api_module(spec)
    # Flask's root path given explicitly: a service name may also be a folder of the working directory.
    app = connexion.FlaskApp(api_module.rpartition(".")[0] or api_module, specification_dir=str(spec.parent),
                             validator_map=validator_map(), server_args={"root_path": str(spec.parent)})
    app.add_api(load_spec(spec), resolver=JsonResolver(api_module),
                # Compact UTF-8 JSON: smaller and faster than connexion's indented ASCII default.
                jsonifier=Jsonifier(json, ensure_ascii=False, separators=(",", ":")),
                validate_responses=validate_responses, pythonic_params=True,
                swagger_ui_options=SwaggerUIOptions(swagger_ui=settings.expose_docs, serve_spec=settings.expose_docs))
    app.add_error_handler(Problem, _on_problem)
    app.add_error_handler(ProblemException, _on_connexion_problem)
    app.add_error_handler(StarletteHTTPException, _on_http_exception)
    app.add_error_handler(Exception, _on_unhandled)
    app.add_middleware(RequestContextMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION,
                       service=settings.service, max_body_bytes=settings.max_body_bytes,
                       verifier=runtime.verifier)

    flask_app = app.app
    flask_app.extensions["achats"] = runtime
    flask_app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    flask_app.request_class = InMemoryUploadsRequest

    checks: dict[str, ReadinessCheck] = {}
    if db is not None:
        checks["database"] = db.ping
    if transport is not None:
        checks["broker"] = broker_check(transport)
    checks.update(readiness or {})
    probe = ReadinessProbe(checks)

    def healthz() -> tuple[dict, int]:
        return {"status": "ok", "service": settings.service}, 200

    def readyz() -> tuple[dict, int]:
        ok, results = probe()
        return {"status": "ok" if ok else "indisponible", "checks": results}, 200 if ok else 503

    def metrics() -> flask.Response:
        payload, content_type = metrics_payload()
        return flask.Response(payload, content_type=content_type)

    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    app.add_url_rule("/readyz", "readyz", readyz, methods=["GET"])
    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
    busadmin.install(app, runtime=runtime, spec=queue_spec)
    return app


def _api_module(spec: Path) -> str:
    """``.../src/achats/helpdesk/openapi.yaml`` -> ``achats.helpdesk.api``."""
    parts = spec.resolve().parent.parts
    if "achats" in parts:
        index = len(parts) - 1 - parts[::-1].index("achats")
        return ".".join(parts[index:]) + ".api"
    return spec.parent.name + ".api"



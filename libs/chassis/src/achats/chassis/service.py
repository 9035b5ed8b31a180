"""One service's definition, and the composition root that builds its app and its worker from it.

Each service declares a ``SERVICE = ServiceDefinition(...)`` in its ``app.py``; the console script,
gunicorn, the all-in-one launcher and the tests all build the service from that one object.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import connexion
import structlog

from .app import Runtime, create_app
from .bus import EventConsumer, EventHandler, OutboxRelay
from .bus.factory import transport_from_url
from .db import Database
from .migrations import migrate
from .security import TokenVerifier, verifier_from_settings
from .settings import ServiceSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    port: int
    # The service's OpenAPI contract; None for a service that builds its own app (``build_app``: the gateway).
    spec: Path | None = None
    settings_class: type[ServiceSettings] = ServiceSettings
    migrations: Path | None = None
    # Builds the service's typed dependencies object (its ``deps.Dependencies``: clients, stores, timers...),
    # once per process; handlers and workers read it as ``runtime.deps``.
    dependencies: Callable[[Runtime], Any] | None = None
    # The verifier of the service's bearer tokens when it is not identity's JWKS at ``JWKS_URL`` (identity
    # verifies with its own key ring); called after ``dependencies``.
    verifier: Callable[[Runtime], TokenVerifier] | None = None
    # Event handlers by event type, for the service's consumer; empty when it consumes nothing.
    handlers: Callable[[Runtime], dict[str, EventHandler]] | None = None
    # Further loops of the worker process (a mail sender, a daily job...): each runs in its own
    # thread until the stop event is set.
    background: Callable[[Runtime], list[Callable[[threading.Event], None]]] | None = None
    # A service that is not a connexion app (the gateway) builds its own ASGI app from these.
    build_app: Callable[[ServiceSettings, Runtime], Any] | None = None
    # Settings of the embedded mode (`make run`), ``{var}`` standing for the state folder.
    embedded: dict[str, str] = field(default_factory=dict)
    uses_database: bool = True

    def load_settings(self, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServiceSettings:
        if not self.uses_database:
            overrides.setdefault("database_url", "")
        return self.settings_class.from_env(self.name, environ, **overrides)

    def runtime(self, settings: ServiceSettings) -> Runtime:
        db = Database(settings.database_url) if settings.database_url else None
        transport = (transport_from_url(settings.amqp_url, exchange=settings.events_exchange)
                     if settings.amqp_url else None)
        runtime = Runtime(settings=settings, db=db, transport=transport)
        if self.dependencies is not None:
            runtime.deps = self.dependencies(runtime)
        runtime.verifier = (self.verifier(runtime) if self.verifier is not None
                            else verifier_from_settings(settings))
        return runtime

    def create_app(self, settings: ServiceSettings, runtime: Runtime | None = None,
                   **kwargs: Any) -> connexion.FlaskApp:
        runtime = runtime or self.runtime(settings)
        if self.build_app is not None:
            return self.build_app(settings, runtime)
        if self.spec is None:
            raise ValueError(f"{self.name}: a service without build_app needs its OpenAPI contract (spec)")
        consumer = self.consumer(runtime)
        kwargs.setdefault("queue_spec", consumer.spec if consumer is not None else None)
        return create_app(settings, spec=self.spec, runtime=runtime, **kwargs)

    def migrate(self, settings: ServiceSettings) -> None:
        if settings.database_url:
            migrate(settings.database_url, self.migrations)

    def consumer(self, runtime: Runtime) -> EventConsumer | None:
        handlers = self.handlers(runtime) if self.handlers else {}
        if not handlers or runtime.db is None or runtime.transport is None:
            return None
        s = runtime.settings
        return EventConsumer(name=self.name, db=runtime.db, transport=runtime.transport, handlers=handlers,
                             queue_prefix=s.queue_prefix, retry_delays=s.retry_delays, prefetch=s.consumer_prefetch)

    def start_worker(self, runtime: Runtime, stop: threading.Event) -> list[threading.Thread]:
        """Start the outbox relay and the consumer (when the service has them) in threads."""
        threads: list[threading.Thread] = []
        s = runtime.settings
        if runtime.db is not None and runtime.transport is not None:
            relay = OutboxRelay(runtime.db, runtime.transport, batch_size=s.relay_batch_size,
                                poll_interval=s.relay_poll_interval)
            threads.append(threading.Thread(target=relay.run, args=(stop,), name=f"{self.name}-relay", daemon=True))
        consumer = self.consumer(runtime)
        if consumer is not None:
            runtime.transport.declare(consumer.spec)
            threads.append(threading.Thread(target=consumer.run, args=(stop,), name=f"{self.name}-consumer",
                                            daemon=True))
        for index, loop in enumerate(self.background(runtime) if self.background else []):
            threads.append(threading.Thread(target=loop, args=(stop,), name=f"{self.name}-background-{index}",
                                            daemon=True))
        for thread in threads:
            thread.start()
        log.info("worker.started", service=self.name, threads=[t.name for t in threads])
        return threads


def every(interval: float, job: Callable[[], object], name: str) -> Callable[[threading.Event], None]:
    """A background loop running ``job`` every ``interval`` seconds until stopped; a failure is logged
    and the loop goes on (the next run may succeed: the database was down, say)."""

    def loop(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                job()
            except Exception:
                log.exception("service.job_failed", job=name)
            stop.wait(interval)

    return loop


def load_definition(path: str) -> ServiceDefinition:
    """``"achats.helpdesk.app:SERVICE"`` -> the object."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute or "SERVICE")


def asgi_app(path: str) -> connexion.FlaskApp:
    """Factory for gunicorn: ``gunicorn -k uvicorn_worker.UvicornWorker 'achats.chassis.service:asgi_app("...")'``."""
    definition = load_definition(path)
    return definition.create_app(definition.load_settings())

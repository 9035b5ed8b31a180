"""The console script every service exposes: serve | worker | migrate | dlq."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator

import uvicorn

from .logging import configure_logging
from .service import ServiceDefinition
from .settings import SettingsError


def service_main(definition: ServiceDefinition, definition_path: str) -> Callable:
    """Build ``main()`` for ``[project.scripts] achats-helpdesk = "achats.helpdesk.cli:main"``."""

    def main(argv: list[str] | None = None) -> int:
        parser = argparse.ArgumentParser(prog=f"achats-{definition.name}")
        commands = parser.add_subparsers(dest="command", required=True)
        serve = commands.add_parser("serve", help="answer HTTP (uvicorn, or gunicorn with --workers > 1)")
        serve.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))  # noqa: S104 (containers)
        serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", definition.port)))
        serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
        commands.add_parser("worker", help="run the outbox relay and the event consumer")
        commands.add_parser("migrate", help="bring the database schema up to date")
        dlq = commands.add_parser("dlq", help="inspect or replay the dead-letter queue")
        dlq.add_argument("action", choices=["list", "replay"])
        args = parser.parse_args(argv)

        try:
            settings = definition.load_settings()
        except SettingsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        configure_logging(settings.log_level, settings.log_json)

        if args.command == "migrate":
            definition.migrate(settings)
            return 0
        if args.command == "serve":
            return _serve(definition, definition_path, settings, args)
        runtime = definition.runtime(settings)
        if args.command == "worker":
            stop = threading.Event()
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
            threads = definition.start_worker(runtime, stop)
            stop.wait()
            for thread in threads:
                thread.join(timeout=30)
            return 0
        consumer = definition.consumer(runtime)
        if consumer is None:
            print(f"{definition.name} consumes no events", file=sys.stderr)
            return 1
        if args.action == "list":
            for body in runtime.transport.dead_letters(consumer.spec):
                print(json.dumps(json.loads(body), ensure_ascii=False))
        else:
            print(f"{runtime.transport.replay_dead_letters(consumer.spec)} message(s) replayed")
        return 0

    return main


def _serve(definition: ServiceDefinition, definition_path: str, settings, args) -> int:
    if args.workers > 1:
        # Several processes, one uvicorn event loop each: connexion's thread pool is fixed at 10
        # per process (DESIGN §10), so processes are how a service scales on one machine.
        factory = f'achats.chassis.service:asgi_app("{definition_path}")'
        os.execv(sys.executable, [sys.executable, "-m", "gunicorn", "-k", "uvicorn_worker.UvicornWorker",  # noqa: S606
                                  "-w", str(args.workers), "-b", f"{args.host}:{args.port}",
                                  "-c", "python:achats.chassis.gunicorn_conf", factory])
    server = GracefulServer(uvicorn.Config(definition.create_app(settings), host=args.host, port=args.port,
                                            log_config=None, access_log=False))
    server.run()
    return 0


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves the signals to its owner (the all-in-one launcher runs several in
    one loop and stops them all on one Ctrl-C; tests stop theirs themselves)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class GracefulServer(uvicorn.Server):
    """uvicorn drains on SIGTERM, then re-raises the signal (exit status 143), which an orchestrator
    reads as a crash: drain, then exit 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

"""All-in-one launcher behind `make run`: every service in one process, embedded defaults, no server needed.

Each service listens on its own port (DESIGN §7), with a SQLite file under var/, the in-memory
bus, and its outbox relay and consumer in threads. Environment variables override any default.
Ctrl-C (or SIGTERM) stops the HTTP servers, then the workers, cleanly.

``launcher.py command <service> <args...>`` runs a service's own console command (``achats-identity
create-agent ...``) against that same embedded state, with the same defaults: `make agent` and
`make admin` are this.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.metadata
import os
import signal
import sys
import threading
from pathlib import Path

import structlog
import uvicorn

from achats.chassis.cli import EmbeddedServer
from achats.chassis.logging import configure_logging
from achats.chassis.service import ServiceDefinition
from achats.chassis.settings import env_prefix

# One line per service: a service plugs itself into `make run` here.
SERVICES = [
    "achats.gateway.app:SERVICE",
    "achats.identity.app:SERVICE",
    "achats.company_registry.app:SERVICE",
    "achats.notifier.app:SERVICE",
    "achats.helpdesk.app:SERVICE",
    "achats.signature.app:SERVICE",
    "achats.consultations.app:SERVICE",
    "achats.web.app:SERVICE",
]

# Stand-ins for the outside world (DESIGN §9): (name, ASGI app factory, port).
STANDINS = [
    ("insee-standin", "achats.company_registry.standin.app:create_app", 8190),
    ("signature-pki-standin", "achats.signature.testpki.standins:pki_app", 8191),
    ("signature-tsa-standin", "achats.signature.testpki.standins:tsa_app", 8192),
    ("signature-trust-lists-standin", "achats.signature.testpki.standins:trust_lists_app", 8193),
]

ROOT = Path(__file__).resolve().parents[2]
log = structlog.get_logger("achats.local")


def embedded_defaults(definition: ServiceDefinition, var: Path, present: list[ServiceDefinition]) -> dict[str, str]:
    """The environment a service gets in the embedded mode, unless the caller set it already."""
    defaults = {
        "DATABASE_URL": f"sqlite:///{var / definition.name}.db" if definition.uses_database else "",
        "AMQP_URL": "memory://local" if definition.uses_database else "",
        "LOG_JSON": "false",
        "RELAY_POLL_INTERVAL": "2",
    }
    if any(d.name == "identity" for d in present):
        defaults["JWKS_URL"] = "http://127.0.0.1:8101/identity/.well-known/jwks.json"
        defaults["JWT_ISSUER"] = "http://localhost:8080/identity"
        defaults["JWT_AUDIENCE"] = "achats"
    defaults.update({key: value.format(var=var) for key, value in definition.embedded.items()})
    if definition.name == "gateway":
        defaults["UPSTREAMS"] = ",".join(f"{d.name}=http://127.0.0.1:{d.port}" for d in present
                                         if d.name != "gateway")
    prefix = env_prefix(definition.name)
    return {prefix + key: value for key, value in defaults.items()
            if prefix + key not in os.environ and key not in os.environ}


def load_factory(path: str):
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def load_present() -> list[ServiceDefinition]:
    present = []
    for path in SERVICES:
        module, _, attribute = path.partition(":")
        try:
            present.append(getattr(importlib.import_module(module), attribute))
        except ModuleNotFoundError as exc:
            print(f"skipping {path}: {exc}", file=sys.stderr)
    return present


async def serve(servers: list[EmbeddedServer], start_workers) -> None:
    loop = asyncio.get_running_loop()

    def stop_all() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_all)

    async def when_listening() -> None:
        # Workers start once every server answers: a job's first run (trusted lists fetched from
        # their stand-in, a consumer calling a service) finds its peers up.
        while not all(server.started for server in servers):
            if any(server.should_exit for server in servers):
                return
            await asyncio.sleep(0.05)
        start_workers()

    await asyncio.gather(when_listening(), *(server.serve() for server in servers))


def default_var() -> Path:
    return Path(os.environ.get("ACHATS_VAR", ROOT / "var"))


def run_command(argv: list[str]) -> int:
    """A service's console command on the embedded platform's state: the environment `make run` gives
    the service (embedded_defaults), the schema brought up to date, then ``achats-<service> <args>``."""
    parser = argparse.ArgumentParser(prog="launcher.py command",
                                     description="run a service's command against the `make run` platform")
    parser.add_argument("--var", type=Path, default=default_var())
    parser.add_argument("service", help="identity, helpdesk...")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    present = load_present()
    definition = next((d for d in present if d.name == args.service), None)
    scripts = importlib.metadata.entry_points(group="console_scripts", name=f"achats-{args.service}")
    if definition is None or not scripts:
        print(f"launcher.py : service inconnu ou non installé : {args.service}", file=sys.stderr)
        return 2
    args.var.mkdir(parents=True, exist_ok=True)
    os.environ.update(embedded_defaults(definition, args.var, present))
    definition.migrate(definition.load_settings())  # as at `make run`'s start: works before the first run too
    (script,) = scripts
    return script.load()(args.args)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["command"]:
        return run_command(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--var", type=Path, default=default_var())
    args = parser.parse_args(argv)

    args.var.mkdir(parents=True, exist_ok=True)
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"), json=False)
    present = load_present()
    stop = threading.Event()
    servers: list[EmbeddedServer] = []
    workers: list[threading.Thread] = []
    runtimes = []
    for name, factory, port in STANDINS:
        try:
            app = load_factory(factory)()
        except ModuleNotFoundError as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
            continue
        config = uvicorn.Config(app, host=args.host, port=port, log_config=None, access_log=False)
        servers.append(EmbeddedServer(config))
        log.info("standin.ready", standin=name, url=f"http://{args.host}:{port}")
    for definition in present:
        environ = {**os.environ, **embedded_defaults(definition, args.var, present)}
        settings = definition.load_settings(environ)
        definition.migrate(settings)
        runtime = definition.runtime(settings)
        app = definition.create_app(settings, runtime, configure_logs=False)
        runtimes.append((definition, runtime))
        config = uvicorn.Config(app, host=args.host, port=definition.port, log_config=None, access_log=False,
                                lifespan="on", proxy_headers=False)
        servers.append(EmbeddedServer(config))
        log.info("service.ready", service=definition.name, url=f"http://{args.host}:{definition.port}")
    print(f"Plateforme des achats: http://{args.host}:8080/api/platform (Ctrl-C to stop)", flush=True)
    def start_workers() -> None:
        for definition, runtime in runtimes:
            workers.extend(definition.start_worker(runtime, stop))

    try:
        asyncio.run(serve(servers, start_workers))
    finally:
        stop.set()
        for thread in workers:
            thread.join(timeout=10)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

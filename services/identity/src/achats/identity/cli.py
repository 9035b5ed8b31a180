"""``achats-identity serve | worker | migrate | dlq | create-agent | create-admin | create-client | rotate-keys``."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy.exc import DBAPIError

from achats.chassis.cli import service_main
from achats.chassis.logging import configure_logging
from achats.chassis.problems import Problem
from achats.chassis.settings import SettingsError, env_prefix

from .administration import create_staff
from .app import SERVICE
from .sessions import create_client

_service_main = service_main(SERVICE, "achats.identity.app:SERVICE")
ADMIN_COMMANDS = {"create-agent", "create-admin", "create-client", "rotate-keys"}
SERVICE_COMMANDS = {"serve", "worker", "migrate", "dlq"}
PREFIX = env_prefix(SERVICE.name)
EMBEDDED_HINT = "avec `make run`, créez les comptes par `make agent` ou `make admin` (deploy/local/README.md)"


def settings_problem(exc: SettingsError) -> str:
    """One line, in French, naming what is missing: what a person at a terminal needs, not a traceback."""
    if exc.missing:
        names = ", ".join(f"{name} (ou {name.removeprefix(PREFIX)})" for name in exc.missing)
        what = "variable d'environnement manquante" if len(exc.missing) == 1 else "variables d'environnement manquantes"
        return f"achats-identity : {what} : {names} ; {EMBEDDED_HINT}."
    return f"achats-identity : configuration invalide : {exc}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ADMIN_COMMANDS | SERVICE_COMMANDS and "-h" not in argv and "--help" not in argv:
        try:
            SERVICE.load_settings()
        except SettingsError as exc:
            print(settings_problem(exc), file=sys.stderr)
            return 2
    if not argv or argv[0] not in ADMIN_COMMANDS:
        return _service_main(argv)
    try:
        return _admin(argv)
    except DBAPIError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        print(f"achats-identity : base de données inaccessible ou pas à jour (`achats-identity migrate`) : {first}",
              file=sys.stderr)
        return 1


def _admin(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="achats-identity")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, role in (("create-agent", "support_agent"), ("create-admin", "platform_admin")):
        command = commands.add_parser(name, help=f"create a {role} account")
        command.add_argument("--login", required=True)
        command.add_argument("--email", required=True)
        command.add_argument("--first-name", required=True)
        command.add_argument("--last-name", required=True)
        command.add_argument("--password", help="read from the terminal when omitted")
        command.set_defaults(role=role)
    client = commands.add_parser("create-client", help="create (or reset) an OAuth2 client of a service")
    client.add_argument("--client-id", required=True)
    client.add_argument("--secret", help="read from the terminal when omitted")
    commands.add_parser("rotate-keys", help="make a new signing key active now")
    args = parser.parse_args(argv)

    settings = SERVICE.load_settings()
    configure_logging(settings.log_level, settings.log_json)
    runtime = SERVICE.runtime(settings)
    identity = runtime.deps.identity
    if args.command == "rotate-keys":
        print(f"active key: {identity.keys.rotate().kid}")
        return 0
    if args.command == "create-client":
        secret = args.secret or getpass.getpass("Client secret: ")
        create_client(runtime.db.unit_of_work(), identity, args.client_id, secret)
        print(f"client {args.client_id} ready")
        return 0
    password = args.password or getpass.getpass("Mot de passe : ")
    body = {"role": args.role, "login": args.login, "password": password, "email": args.email,
            "first_name": args.first_name, "last_name": args.last_name}
    try:
        # The same rules as the administrators' page; the audit log names « cli » as the actor.
        create_staff(runtime.db.unit_of_work(), identity, None, body)
    except Problem as problem:
        # The password policy's every complaint (the first is the detail); otherwise the detail alone.
        more = [error.message for error in problem.errors[1:]] if problem.code == "password_rejected" else []
        print("\n".join([problem.detail, *more]), file=sys.stderr)
        return 1 if problem.status == 409 else 2
    print(f"{args.role} {args.login} created")
    return 0

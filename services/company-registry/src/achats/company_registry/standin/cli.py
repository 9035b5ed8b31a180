"""`achats-insee-standin`: serve the INSEE Sirene 3.11 stand-in with uvicorn (port 8190 by default)."""

from __future__ import annotations

import argparse
import os

import uvicorn

from achats.chassis.cli import GracefulServer
from achats.company_registry.standin.app import DEFAULT_API_KEY, DEFAULT_BASE_PATH, create_app

DEFAULT_PORT = 8190


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="achats-insee-standin", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("INSEE_STANDIN_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("INSEE_STANDIN_PORT", DEFAULT_PORT)))
    parser.add_argument(
        "--api-key",
        default=os.environ.get("INSEE_STANDIN_API_KEY", DEFAULT_API_KEY),
        help="expected X-INSEE-Api-Key-Integration value; an empty string accepts any caller",
    )
    parser.add_argument("--base-path", default=os.environ.get("INSEE_STANDIN_BASE_PATH", DEFAULT_BASE_PATH))
    parser.add_argument("--log-level", default="info")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    app = create_app(api_key=args.api_key or None, base_path=args.base_path)
    # A short graceful timeout: a request hanging in outage mode must not hold Ctrl-C for 30 s.
    # Drained, then exit 0 on SIGTERM (plain uvicorn.run re-raises the signal: status 143).
    GracefulServer(uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level,
                                  timeout_graceful_shutdown=2)).run()


if __name__ == "__main__":
    main()

"""``achats-signature-testpki generate | serve``: the test PKI and its stand-ins, outside `make run`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

import uvicorn

from . import generate, standins


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):
        yield


async def _serve(servers: list[_Server]) -> None:
    await asyncio.gather(*(server.serve() for server in servers))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="achats-signature-testpki", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write a fresh test PKI into a folder")
    gen.add_argument("folder", type=Path)
    gen.add_argument("--pki-url", default="http://127.0.0.1:8191")
    gen.add_argument("--tsa-url", default="http://127.0.0.1:8192/tsa")
    gen.add_argument("--tl-url", default="http://127.0.0.1:8193")
    serve = commands.add_parser("serve", help="serve OCSP/CRL (8191), the TSA (8192) and the trusted lists (8193)")
    serve.add_argument("--pki", type=Path, default=None, help="PKI folder (default: the one shipped for make run)")
    serve.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    if args.command == "generate":
        generate.generate(args.folder, pki_url=args.pki_url, tsa_url=args.tsa_url, tl_url=args.tl_url)
        print(f"test PKI written to {args.folder}")
        return 0
    apps = [(standins.pki_app(args.pki), 8191), (standins.tsa_app(args.pki), 8192),
            (standins.trust_lists_app(args.pki), 8193)]
    servers = [_Server(uvicorn.Config(app, host=args.host, port=port, log_config=None, access_log=False))
               for app, port in apps]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(servers))
    return 0

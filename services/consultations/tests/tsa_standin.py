"""The test TSA: the signature service's stand-in (RFC 3161 over HTTP, its test PKI shipped in testpki/local),
whose clock a test can move — a TSA a few seconds ahead of our clock is what the deadline race is about."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from achats.chassis.testing.server import serving
from achats.signature.testpki.pki import TestPki
from achats.signature.testpki.standins import LOCAL_PKI


@dataclass
class Tsa:
    url: str
    certificate: str
    offset: timedelta = field(default_factory=timedelta)
    fixed: datetime | None = None
    down: bool = False
    calls: int = 0

    def at(self, moment: datetime | None) -> None:
        """Stamp this time (None: the clock again)."""
        self.fixed = moment

    def reset(self) -> None:
        self.offset, self.fixed, self.down, self.calls = timedelta(), None, False, 0


@contextlib.contextmanager
def running_tsa() -> Iterator[Tsa]:
    pki = TestPki(LOCAL_PKI)
    state: dict[str, Tsa] = {}

    async def stamp(request: Request) -> Response:
        tsa = state["tsa"]
        if tsa.down:
            return Response(status_code=503)
        if request.headers.get("content-type") != "application/timestamp-query":
            return Response(status_code=415)
        tsa.calls += 1
        now = tsa.fixed or datetime.now(UTC) + tsa.offset
        return Response(pki.timestamp(await request.body(), now=now), media_type="application/timestamp-reply")

    with serving(Starlette(routes=[Route("/tsa", stamp, methods=["POST"])])) as base:
        state["tsa"] = Tsa(url=f"{base}/tsa", certificate=str(pki.cert_path("tsa")))
        yield state["tsa"]

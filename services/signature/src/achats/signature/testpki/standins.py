"""Stand-ins for the outside world of signatures (DESIGN §9), speaking the real protocols over HTTP.

- ``pki_app``: the certificate authorities' repository: OCSP (RFC 6960, POST and GET), CRLs
  (RFC 5280, DER) and CA certificates (AIA « caIssuers »);
- ``tsa_app``: a timestamp authority (RFC 3161 over HTTP: application/timestamp-query/-reply);
- ``trust_lists_app``: the list of the lists and the French trusted list (ETSI TS 119 612, signed XML),
  with a switch to serve an expired, badly signed or missing list.

Without arguments they serve the test PKI shipped in ``testpki/local`` (the one `make run` uses);
tests pass the folder of a PKI generated for the session.
"""

from __future__ import annotations

import base64
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import trustlists
from .pki import TestPki

LOCAL_PKI = Path(__file__).parent / "local"
MAX_REQUEST = 64 * 1024
LIST_MODES = ("normal", "expired", "tampered", "missing")


def _pki(folder: Path | str | None) -> TestPki:
    return TestPki(folder or LOCAL_PKI)


async def _small_body(request: Request) -> bytes | None:
    body = await request.body()
    return body if len(body) <= MAX_REQUEST else None


class _PkiStandin:
    """The test PKI's OCSP responder, CRLs and CA certificates, and the calls each received."""

    def __init__(self, pki) -> None:
        self.pki = pki
        self.calls: Counter[str] = Counter()
        self.state = {"mode": "normal"}

    def _known_ca(self, request: Request) -> str | None:
        ca = request.path_params["ca"]
        return ca if ca in self.pki.manifest["cas"] else None

    def _refusal(self, ca: str | None) -> Response | None:
        """404 for a CA it does not have, 503 while « unavailable »."""
        if ca is None:
            return Response(status_code=404)
        if self.state["mode"] == "unavailable":
            return Response(status_code=503)
        return None

    def _ocsp(self, ca: str, der: bytes) -> Response:
        self.calls["ocsp"] += 1
        return Response(self.pki.ocsp(ca, der), media_type="application/ocsp-response")

    async def ocsp_post(self, request: Request) -> Response:
        ca = self._known_ca(request)
        body = await _small_body(request)
        refused = self._refusal(ca if body is not None else None)
        return refused or self._ocsp(ca, body)

    async def ocsp_get(self, request: Request) -> Response:
        ca = self._known_ca(request)
        refused = self._refusal(ca)
        if refused:
            return refused
        try:
            der = base64.b64decode(request.path_params["encoded"], validate=False)
        except ValueError:
            der = b""
        return self._ocsp(ca, der)

    async def crl(self, request: Request) -> Response:
        ca = self._known_ca(request)
        refused = self._refusal(ca)
        if refused:
            return refused
        self.calls["crl"] += 1
        return Response(self.pki.crl(ca), media_type="application/pkix-crl")

    async def certificate(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        if slug not in self.pki.manifest["cas"]:
            return Response(status_code=404)
        self.calls["certs"] += 1
        return Response(self.pki.cert(slug).public_bytes(serialization.Encoding.DER),
                        media_type="application/pkix-cert")

    async def stats(self, _request: Request) -> JSONResponse:
        return JSONResponse(dict(self.calls))

    async def set_mode(self, request: Request) -> JSONResponse:
        body = await request.json()
        if body.get("mode") not in ("normal", "unavailable"):
            return JSONResponse({"error": "mode: normal | unavailable"}, status_code=400)
        self.state["mode"] = body["mode"]
        return JSONResponse(self.state)


def pki_app(pki_dir: Path | str | None = None) -> Starlette:
    """OCSP, CRL and CA certificates; ``PUT /_standin/mode {"mode": "unavailable"}`` makes OCSP and CRL
    answer 503 (a revocation service down), ``normal`` restores them."""
    standin = _PkiStandin(_pki(pki_dir))
    app = Starlette(routes=[
        Route("/_standin/mode", standin.set_mode, methods=["PUT"]),
        Route("/ocsp/{ca}", standin.ocsp_post, methods=["POST"]),
        Route("/ocsp/{ca}/{encoded:path}", standin.ocsp_get, methods=["GET"]),
        Route("/crl/{ca}.crl", standin.crl, methods=["GET"]),
        Route("/certs/{slug}.cer", standin.certificate, methods=["GET"]),
        Route("/_standin/calls", standin.stats, methods=["GET"]),
    ])
    app.state.pki = standin.pki
    app.state.calls = standin.calls
    return app


def tsa_app(pki_dir: Path | str | None = None) -> Starlette:
    pki = _pki(pki_dir)
    calls: Counter[str] = Counter()

    async def stamp(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/timestamp-query":
            return Response(status_code=415)
        body = await _small_body(request)
        if body is None:
            return Response(status_code=413)
        calls["timestamps"] += 1
        return Response(pki.timestamp(body), media_type="application/timestamp-reply")

    async def stats(_request: Request) -> JSONResponse:
        return JSONResponse(dict(calls))

    app = Starlette(routes=[Route("/tsa", stamp, methods=["POST"]),
                            Route("/_standin/calls", stats, methods=["GET"])])
    app.state.pki = pki
    app.state.calls = calls
    return app


class TrustListPublisher:
    """Signs the lists once per state (signing costs), and serves the current bytes of each."""

    def __init__(self, pki: TestPki):
        self.pki = pki
        self.modes = {"lotl": "normal", "fr": "normal"}
        self.sequence = 1
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._cache: dict[str, bytes | None] = {}

    def set_mode(self, name: str, mode: str) -> None:
        if name not in self.modes or mode not in LIST_MODES:
            raise ValueError(f"unknown list or mode: {name}, {mode}")
        with self._lock:
            self.modes[name] = mode
            self.sequence += 1
            self._cache.clear()

    def reset(self) -> None:
        with self._lock:
            self.modes = {"lotl": "normal", "fr": "normal"}
            self.sequence += 1
            self._cache.clear()
            self.calls.clear()

    def current(self, name: str) -> bytes | None:
        with self._lock:
            self.calls[name] += 1
            if name not in self._cache:
                self._cache[name] = self._build(name, self.modes[name])
            return self._cache[name]

    def _build(self, name: str, mode: str) -> bytes | None:
        if mode == "missing":
            return None
        build = trustlists.list_of_the_lists if name == "lotl" else trustlists.national_list
        if mode == "expired":
            now = datetime.now(UTC)
            return build(self.pki, sequence=self.sequence, issued=now - timedelta(days=200),
                         validity=timedelta(days=180))
        signed = build(self.pki, sequence=self.sequence)
        return trustlists.tampered(signed) if mode == "tampered" else signed


def trust_lists_app(pki_dir: Path | str | None = None) -> Starlette:
    publisher = TrustListPublisher(_pki(pki_dir))

    def serve(name: str):
        async def endpoint(_request: Request) -> Response:
            content = publisher.current(name)
            if content is None:
                return Response(status_code=404)
            return Response(content, media_type=trustlists.TSL_MIME)

        return endpoint

    async def set_mode(request: Request) -> JSONResponse:
        try:
            body = await request.json()
            publisher.set_mode(request.path_params["name"], body.get("mode", ""))
        except (ValueError, AttributeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"modes": publisher.modes})

    async def reset(_request: Request) -> JSONResponse:
        publisher.reset()
        return JSONResponse({"modes": publisher.modes})

    async def stats(_request: Request) -> JSONResponse:
        return JSONResponse({"modes": publisher.modes, "calls": dict(publisher.calls)})

    app = Starlette(routes=[
        Route("/lotl.xml", serve("lotl"), methods=["GET"]),
        Route("/tl-fr.xml", serve("fr"), methods=["GET"]),
        Route("/_standin/lists/{name}", set_mode, methods=["PUT"]),
        Route("/_standin/reset", reset, methods=["POST"]),
        Route("/_standin/calls", stats, methods=["GET"]),
    ])
    app.state.publisher = publisher
    return app

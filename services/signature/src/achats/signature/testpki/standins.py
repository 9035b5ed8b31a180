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


def pki_app(pki_dir: Path | str | None = None) -> Starlette:
    """OCSP, CRL and CA certificates; ``PUT /_standin/mode {"mode": "unavailable"}`` makes OCSP and CRL
    answer 503 (a revocation service down), ``normal`` restores them."""
    pki = _pki(pki_dir)
    calls: Counter[str] = Counter()
    state = {"mode": "normal"}

    def known_ca(request: Request) -> str | None:
        ca = request.path_params["ca"]
        return ca if ca in pki.manifest["cas"] else None

    async def ocsp_post(request: Request) -> Response:
        ca = known_ca(request)
        body = await _small_body(request)
        if ca is None or body is None:
            return Response(status_code=404)
        if state["mode"] == "unavailable":
            return Response(status_code=503)
        calls["ocsp"] += 1
        return Response(pki.ocsp(ca, body), media_type="application/ocsp-response")

    async def ocsp_get(request: Request) -> Response:
        ca = known_ca(request)
        if ca is None:
            return Response(status_code=404)
        if state["mode"] == "unavailable":
            return Response(status_code=503)
        try:
            der = base64.b64decode(request.path_params["encoded"], validate=False)
        except ValueError:
            der = b""
        calls["ocsp"] += 1
        return Response(pki.ocsp(ca, der), media_type="application/ocsp-response")

    async def crl(request: Request) -> Response:
        ca = known_ca(request)
        if ca is None:
            return Response(status_code=404)
        if state["mode"] == "unavailable":
            return Response(status_code=503)
        calls["crl"] += 1
        return Response(pki.crl(ca), media_type="application/pkix-crl")

    async def certificate(request: Request) -> Response:
        slug = request.path_params["slug"]
        if slug not in pki.manifest["cas"]:
            return Response(status_code=404)
        calls["certs"] += 1
        return Response(pki.cert(slug).public_bytes(serialization.Encoding.DER), media_type="application/pkix-cert")

    async def stats(_request: Request) -> JSONResponse:
        return JSONResponse(dict(calls))

    async def set_mode(request: Request) -> JSONResponse:
        body = await request.json()
        if body.get("mode") not in ("normal", "unavailable"):
            return JSONResponse({"error": "mode: normal | unavailable"}, status_code=400)
        state["mode"] = body["mode"]
        return JSONResponse(state)

    app = Starlette(routes=[
        Route("/_standin/mode", set_mode, methods=["PUT"]),
        Route("/ocsp/{ca}", ocsp_post, methods=["POST"]),
        Route("/ocsp/{ca}/{encoded:path}", ocsp_get, methods=["GET"]),
        Route("/crl/{ca}.crl", crl, methods=["GET"]),
        Route("/certs/{slug}.cer", certificate, methods=["GET"]),
        Route("/_standin/calls", stats, methods=["GET"]),
    ])
    app.state.pki = pki
    app.state.calls = calls
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

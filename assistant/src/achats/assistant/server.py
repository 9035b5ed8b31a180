"""The browser link: a local HTTP server on 127.0.0.1 that answers the platform's pages only.

Every request must come from the platform's configured origin (``Origin``, checked exactly) to the
loopback address (``Host``, against DNS rebinding); anything else gets 403 and an empty body, without
CORS headers, so another site's page can read nothing and do nothing. The pages pair once: the page
shows a code, the assistant shows the same code with the page's origin and the person accepts it in
the assistant; the page then gets a random key, in memory only, needed for the certificates, the
signatures and the report. The PIN is typed into the assistant only, which also shows what is signed.
Chrome's Private Network Access preflight (``Access-Control-Request-Private-Network``) is answered for
the configured origin only."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hmac
import json
import re
import secrets
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import __version__
from .errors import AssistantError
from .qualification import annotate
from .report import build_report
from .service import SignatureService
from .tokens import Keystore, PinProvider

DEFAULT_PORT = 47311
MAX_BODY = 64 * 1024  # a data to be signed is a few hundred bytes; documents never come here
PAIRING_CODE = re.compile(r"^[0-9]{6}$")

ConfirmPairing = Callable[[str, str], bool]
"""``confirm(origin, code)``: the person accepts (True) or refuses the pairing, in the assistant."""


def normalise_origin(origin: str) -> str:
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"not an origin: {origin!r}")
    default = {"https": 443, "http": 80}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


class Assistant:
    """What the endpoints do, apart from HTTP."""

    def __init__(self, *, keystore: Keystore, origin: str, pin_provider: PinProvider, confirm: ConfirmPairing,
                 platform: str, signature: SignatureService, tsa_url: str | None = None) -> None:
        self.keystore = keystore
        self.origin = normalise_origin(origin)
        self.pin_provider = pin_provider
        self.confirm = confirm
        self.platform = platform
        self.signature = signature
        self.tsa_url = tsa_url
        self._keys: set[str] = set()
        self._pairing = threading.Lock()  # one pairing question at a time
        self._prompt = threading.Lock()  # one PIN prompt at a time: two pages' requests never mix their prompts

    def paired(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        given = authorization[7:].strip()
        return any(hmac.compare_digest(given, key) for key in list(self._keys))

    def pair(self, code: str) -> str:
        if not PAIRING_CODE.match(code or ""):
            raise AssistantError("pairing_code_invalid", "Code d'association invalide (6 chiffres attendus).",
                                 status=400)
        with self._pairing:
            if not self.confirm(self.origin, code):
                raise AssistantError("pairing_refused", "Association refusée dans l'assistant.", status=403)
        key = secrets.token_urlsafe(32)
        self._keys.add(key)
        return key

    def sign(self, body: dict) -> dict:
        try:
            data = base64.b64decode(body["data_to_be_signed"], validate=True)
            ref = str(body["certificate"])
        except (KeyError, TypeError, binascii.Error, ValueError):
            raise AssistantError("validation_failed", "Requête de signature incomplète (certificat et données à "
                                                      "signer attendus).", status=400) from None
        documents = [str(d)[:200] for d in body.get("documents") or []][:50]
        info = self.keystore.certificate(ref)
        if not info.usable:
            warning = next(w for w in info.warnings() if w["code"] in ("expired", "not_yet_valid",
                                                                        "not_for_signing"))
            raise AssistantError(f"certificate_{warning['code']}", warning["message"])

        def ask(certificate):
            # The prompt names what is signed and for whom: the person consents by typing the PIN.
            with self._prompt:
                return self.pin_provider(dataclasses.replace(certificate, purpose={"origin": self.origin,
                                                                                    "documents": documents}))

        value = self.keystore.sign(ref, data, ask, algorithm=body.get("signature_algorithm") or
                                   "rsa_pkcs1v15_sha256")
        return {"signature_value": base64.b64encode(value).decode(), "certificate": ref}

    def report(self, *, with_signature: bool, certificate: str | None) -> dict:
        return build_report(keystore=self.keystore, platform=self.platform, signature=self.signature,
                            tsa_url=self.tsa_url, pin_provider=self.pin_provider if with_signature else None,
                            certificate_ref=certificate)


class Handler(BaseHTTPRequestHandler):
    server_version = f"MonAssistantMarchesPublics/{__version__}"
    protocol_version = "HTTP/1.1"

    @property
    def assistant(self) -> Assistant:
        return self.server.assistant  # type: ignore[attr-defined]

    def log_message(self, format, *args):  # no access log: the pages' requests are not the user's business
        pass

    # --- the gate ------------------------------------------------------------------------------------

    def _allowed(self) -> bool:
        host = (self.headers.get("Host") or "").lower()
        port = self.server.server_address[1]
        if host not in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
            return False  # DNS rebinding: a hostile name resolving to 127.0.0.1
        origin = self.headers.get("Origin")
        try:
            return origin is not None and normalise_origin(origin) == self.assistant.origin
        except ValueError:
            return False

    def _refuse(self) -> None:
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", self.assistant.origin)
        self.send_header("Vary", "Origin")

    def _json(self, status: int, payload: dict, content_type: str = "application/json") -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self._cors()
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _problem(self, exc: AssistantError) -> None:
        self._json(exc.status, exc.as_problem(), "application/problem+json")

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise AssistantError("too_large", "Requête trop volumineuse.", status=413)
        if "application/json" not in (self.headers.get("Content-Type") or ""):
            raise AssistantError("json_required", "Corps JSON attendu.", status=415)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            raise AssistantError("json_invalid", "Corps JSON invalide.", status=400) from None
        if not isinstance(body, dict):
            raise AssistantError("json_invalid", "Corps JSON invalide.", status=400)
        return body

    # --- verbs ---------------------------------------------------------------------------------------

    def do_OPTIONS(self):
        if not self._allowed():
            return self._refuse()
        self.send_response(204)
        self._cors()
        self.send_header("Access-Control-Allow-Methods", "GET, POST")
        self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type")
        self.send_header("Access-Control-Max-Age", "600")
        if self.headers.get("Access-Control-Request-Private-Network") == "true":
            self.send_header("Access-Control-Allow-Private-Network", "true")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_PUT(self):
        self._refuse()

    def do_DELETE(self):
        self._refuse()

    def do_PATCH(self):
        self._refuse()

    def _route(self, method: str) -> None:
        if not self._allowed():
            return self._refuse()
        path, _, query = self.path.partition("?")
        try:
            if (method, path) == ("GET", "/v1/status"):
                return self._json(200, {"name": "Mon Assistant Marchés Publics", "version": __version__,
                                        "paired": self.assistant.paired(self.headers.get("Authorization")),
                                        "origin": self.assistant.origin})
            if (method, path) == ("POST", "/v1/pairings"):
                key = self.assistant.pair(str(self._body().get("code", "")))
                return self._json(201, {"key": key})
            if not self.assistant.paired(self.headers.get("Authorization")):
                raise AssistantError("pairing_required", "Associez d'abord cette page à l'assistant.", status=401)
            if (method, path) == ("GET", "/v1/certificates"):
                found = self.assistant.keystore.certificates(refresh="refresh=1" in query)
                shown = annotate([c.as_dict() for c in found], found, self.assistant.signature)
                return self._json(200, {"certificates": shown,
                                        "problems": self.assistant.keystore.problems})
            if (method, path) == ("POST", "/v1/signatures"):
                return self._json(200, self.assistant.sign(self._body()))
            if (method, path) == ("POST", "/v1/report"):
                body = self._body()
                return self._json(200, self.assistant.report(with_signature=bool(body.get("test_signature")),
                                                             certificate=body.get("certificate")))
            raise AssistantError("not_found", "Adresse inconnue de l'assistant.", status=404)
        except AssistantError as exc:
            return self._problem(exc)


class AssistantServer:
    """``with AssistantServer(assistant) as server: server.url``."""

    def __init__(self, assistant: Assistant, *, port: int = DEFAULT_PORT) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.assistant = assistant  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="assistant-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> AssistantServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

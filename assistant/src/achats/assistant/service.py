"""The signature service's API as the assistant uses it: the two-step signing and the (public) verification."""

from __future__ import annotations

import re
from urllib.parse import unquote

import requests

from .errors import AssistantError


class SignatureService:
    """``base_url``: the service's API root, e.g. ``https://marches.example/api/signature`` (through the gateway)
    or ``http://127.0.0.1:8104/signature``; ``token``: the user's access token (signing needs a logged-in user)."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 120,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.http = session or requests.Session()

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            response = self.http.request(method, f"{self.base_url}{path}", headers=self._headers(),
                                         timeout=self.timeout, **kwargs)
        except requests.RequestException:
            raise AssistantError("service_unreachable", "Le service de signature de la plateforme ne répond pas : "
                                                        "vérifiez votre connexion à Internet, puis recommencez.",
                                 status=502) from None
        if response.status_code >= 400:
            raise problem_error(response)
        return response

    def open_session(self, document: bytes, filename: str, certificate_pem: bytes, *, format: str,
                     level: str) -> dict:
        """Step 1: the data to be signed of ``document`` for this certificate."""
        return self._call("POST", "/signing-sessions", data={"format": format, "level": level}, files={
            "file": (filename, document, "application/octet-stream"),
            "certificate": ("certificate.pem", certificate_pem, "application/x-pem-file")}).json()

    def complete(self, session_id: str, signature_value: str) -> tuple[bytes, str | None]:
        """Step 2: the value made by the token; answers the signed document and its file name."""
        response = self._call("POST", f"/signing-sessions/{session_id}/signature",
                              json={"signature_value": signature_value})
        return response.content, attachment_name(response.headers.get("Content-Disposition", ""))

    def cancel(self, session_id: str) -> None:
        try:
            self._call("DELETE", f"/signing-sessions/{session_id}")
        except AssistantError:
            pass  # it expires anyway (SIGNING_SESSION_TTL)

    def verify(self, document: bytes, filename: str, signature: bytes | None = None) -> dict:
        files = {"file": (filename, document, "application/octet-stream")}
        if signature is not None:
            files["signature"] = ("signature.p7s", signature, "application/octet-stream")
        return self._call("POST", "/verifications", files=files).json()


def problem_error(response: requests.Response) -> AssistantError:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if response.status_code == 401:
        return AssistantError("login_required", "Votre session sur la plateforme a expiré : reconnectez-vous, puis "
                                                "recommencez.", status=401)
    detail = problem.get("detail") or f"Le service de signature a répondu {response.status_code}."
    return AssistantError(problem.get("code") or f"http_{response.status_code}", detail, status=response.status_code)


def attachment_name(disposition: str) -> str | None:
    """The file name of a Content-Disposition (RFC 6266: ``filename*`` first)."""
    extended = re.search(r"filename\*\s*=\s*UTF-8''([^;]+)", disposition, re.IGNORECASE)
    if extended:
        return unquote(extended.group(1).strip())
    plain = re.search(r'filename\s*=\s*"([^"]*)"', disposition) or re.search(r"filename\s*=\s*([^;]+)", disposition)
    return plain.group(1).strip() if plain else None

"""« Tester la configuration »: what the assistant sees of the workstation, for the web page and the helpdesk."""

from __future__ import annotations

import hashlib
import os
import platform as host
import secrets
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import requests
from asn1crypto import tsp
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID

from . import __version__
from .cms import detached_cades
from .errors import AssistantError
from .service import SignatureService
from .tokens import Keystore, PinProvider

SAMPLE = ("Document de test de « Mon Assistant Marchés Publics » : signature de vérification du poste, "
          "sans valeur d'engagement.\n").encode()


def system() -> dict:
    return {"assistant_version": __version__, "os": host.system(), "os_release": host.release(),
            "os_version": host.version(), "machine": host.machine(), "python": host.python_version()}


def probe(url: str, *, method: str = "GET", timeout: float = 5, **kwargs) -> dict:
    """Reachable means an HTTP answer came back (any status): the network path and TLS work."""
    started, sent = time.perf_counter(), datetime.now(UTC)
    try:
        response = requests.request(method, url, timeout=timeout, **kwargs)
    except requests.RequestException as exc:
        return {"url": url, "reachable": False, "error": type(exc).__name__}
    trip = time.perf_counter() - started
    # The server wrote its Date somewhere between our sending and our receiving: in the middle, give or take half
    # the round trip.
    return {"url": url, "reachable": True, "status": response.status_code, "elapsed_ms": round(trip * 1000, 1),
            "date": response.headers.get("Date"), "_response": response,
            "_middle": sent + timedelta(seconds=trip / 2), "_half_trip": trip / 2}


def ocsp_urls(certificates: list[x509.Certificate]) -> list[str]:
    urls = []
    for cert in certificates:
        try:
            access = cert.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
        except x509.ExtensionNotFound:
            continue
        urls += [d.access_location.value for d in access if d.access_method == AuthorityInformationAccessOID.OCSP]
    return sorted(set(urls))


def timestamp_query() -> bytes:
    return tsp.TimeStampReq({"version": "v1", "message_imprint": {
        "hash_algorithm": {"algorithm": "sha256"}, "hashed_message": hashlib.sha256(SAMPLE).digest()},
        "nonce": int.from_bytes(secrets.token_bytes(8), "big"), "cert_req": True}).dump()


def build_report(*, keystore: Keystore, platform: str, signature: SignatureService, tsa_url: str | None,
                 pin_provider: PinProvider | None = None, certificate_ref: str | None = None) -> dict:
    """Version, OS, tokens and certificates, a test signature verified by the signature service, the clock
    skew, and whether the platform, the timestamping service and the certificates' OCSP responders answer."""
    certificates = keystore.certificates(refresh=True)
    report: dict = {"generated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"), **system(),
                    "pkcs11_modules": keystore.modules, "tokens": keystore.tokens(),
                    "certificates": [c.as_dict() for c in certificates], "problems": keystore.problems}
    checks = {}
    skews = []
    checks["platform"] = _public(probe(f"{platform}/api/platform"), skews)
    if tsa_url:
        checks["timestamping"] = _public(probe(tsa_url, method="POST", data=timestamp_query(), headers={
            "Content-Type": "application/timestamp-query"}), skews)
    else:
        checks["timestamping"] = {"url": None, "reachable": None, "message": "Aucun service d'horodatage configuré."}
    checks["revocation"] = [_public(probe(url), skews) for url in ocsp_urls([c.certificate for c in certificates])]
    report["reachability"] = checks
    report["clock"] = _clock(skews)
    report["test_signature"] = _test_signature(keystore, signature, pin_provider, certificate_ref, certificates)
    return report


def _public(result: dict, skews: list) -> dict:
    response = result.pop("_response", None)
    middle, half_trip = result.pop("_middle", None), result.pop("_half_trip", 0.0)
    if response is not None and middle is not None and result.get("date"):
        try:
            # A Date header has a one-second resolution: its true time is anywhere in that second, so its middle.
            server = parsedate_to_datetime(result["date"]) + timedelta(seconds=0.5)
        except (TypeError, ValueError):
            return result
        skews.append(((server - middle).total_seconds(), 0.5 + half_trip))
    return result


def _clock(skews: list[tuple[float, float]]) -> dict:
    """The local clock against the servers' Date headers (one-second resolution): beyond 5 minutes, signing
    times and certificate checks go wrong. Each server gives a skew and its uncertainty (half a second for the
    header's resolution, plus half the round trip); the median server's are reported."""
    if not skews:
        return {"skew_seconds": None, "ok": None, "message": "Aucun serveur n'a pu donner l'heure."}
    skew, uncertainty = sorted(skews)[len(skews) // 2]
    ok = abs(skew) <= 300
    message = "L'horloge de votre ordinateur est à l'heure." if ok else (
        f"L'horloge de votre ordinateur a {abs(round(skew))} secondes d'écart avec la plateforme : mettez-la à "
        "l'heure (réglage automatique de la date et de l'heure).")
    return {"skew_seconds": round(skew, 1), "ok": ok, "message": message, "resolution_seconds": 1,
            "uncertainty_seconds": round(uncertainty, 2)}


def _test_signature(keystore, signature, pin_provider, certificate_ref, certificates) -> dict:
    usable = [c for c in certificates if c.usable]
    chosen = next((c for c in certificates if c.ref == certificate_ref), None) if certificate_ref else (
        usable[0] if usable else None)
    if chosen is None:
        return {"status": "skipped", "message": "Aucun certificat utilisable pour la signature de test."}
    if pin_provider is None:
        return {"status": "skipped", "certificate": chosen.ref, "message": "Signature de test non demandée."}
    try:
        signed = detached_cades(SAMPLE, chosen, lambda data: keystore.sign(chosen.ref, data, pin_provider))
        verified = signature.verify(SAMPLE, "document-de-test.txt", signed)
    except AssistantError as exc:
        return {"status": "failed", "certificate": chosen.ref, "code": exc.code, "message": exc.message}
    first = (verified.get("signatures") or [{}])[0]
    passed = verified.get("indication") == "TOTAL_PASSED"
    return {"status": "passed" if passed else "failed", "certificate": chosen.ref,
            "indication": verified.get("indication"),
            "qualification": (first.get("qualification") or {}).get("label"),
            "verdict": (verified.get("verdict") or {}).get("code"), "verification_id": verified.get("id"),
            "message": "La signature de test a été vérifiée par la plateforme." if passed else
            "La signature de test n'a pas été validée par la plateforme : voir le rapport de vérification."}


def environment_tsa() -> str | None:
    return os.environ.get("ACHATS_ASSISTANT_TSA_URL") or None

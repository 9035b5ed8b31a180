"""Each file's signature, as judged by the signature service (its contract: services/signature/openapi.yaml).

Two ways, per file:
- the client verified it already (the page sends the file and its detached ``.p7s``/XAdES to
  ``POST /signature/verifications``) and gives the report's id: we read ``GET /signature/verifications/{id}``
  and keep it if the report is about this very file (its ``document_sha256`` or ``signature_sha256``);
- else, for a file that can carry a signature by itself (a PDF, an enveloping ``.p7m``, an XAdES file), we
  send it to ``POST /signature/verifications``; any other kind of file is « not signed ».

The verdict kept per file: ``compliant``, ``to_verify``, ``non_compliant``, ``not_signed`` — or
``not_verified`` when no signature service is configured (``SIGNATURE_URL`` empty).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import structlog

from achats.chassis.http import ServiceClient, ServiceUnavailable
from achats.chassis.problems import FieldError, Problem

log = structlog.get_logger(__name__)

SIGNABLE = frozenset({"application/pdf", "application/pkcs7-mime", "application/xml"})
# A signature that does not pass: accepted only when the user confirms it (« accept_invalid_signatures »).
INVALID = frozenset({"non_compliant", "not_signed"})
LABELS = {"compliant": "signature conforme", "to_verify": "signature à vérifier",
          "non_compliant": "signature non conforme", "not_signed": "aucune signature électronique",
          "not_verified": "signature non vérifiée"}


@dataclass
class Verdict:
    status: str
    report_id: str | None = None
    indication: str | None = None
    signers: list[dict] = field(default_factory=list)


def _unavailable() -> Problem:
    return Problem(status=503, code="signature_service_unavailable",
                   detail="Le service de vérification des signatures ne répond pas : votre dépôt n'a pas été "
                          "enregistré. Réessayez dans quelques instants.")


def _signers(report: dict) -> list[dict]:
    return [{"name": (s.get("signer") or {}).get("name"), "indication": s.get("indication"),
             "verdict": (s.get("verdict") or {}).get("code")} for s in report.get("signatures") or []]


class SignatureChecker:
    def __init__(self, base_url: str, *, timeout: float = 60.0):
        self.http = (ServiceClient(base_url, service="signature", connect_timeout=2.0, read_timeout=timeout,
                                   retries=1) if base_url else None)

    def report(self, report_id: str) -> dict:
        """The audit record and report of a verification, or a 422 naming the bad id."""
        bad = Problem(status=422, code="signature_report_unknown", detail="Un rapport de vérification de "
                      "signature indiqué n'existe pas ou n'est plus disponible : vérifiez à nouveau la signature.",
                      errors=[FieldError("signature_report_ids", f"Rapport inconnu : {report_id}")])
        try:
            uuid.UUID(report_id)
        except ValueError:
            raise bad from None
        if self.http is None:
            raise Problem(status=422, code="signature_reports_unsupported",
                          detail="La vérification des signatures n'est pas configurée sur ce service.")
        try:
            response = self.http.get(f"/signature/verifications/{report_id}")
        except ServiceUnavailable:
            raise _unavailable() from None
        if response.status_code == 404:
            raise bad
        if response.status_code != 200:
            raise _unavailable()
        return response.json()

    def verify(self, filename: str, content: bytes) -> Verdict:
        if self.http is None:
            return Verdict("not_verified")
        try:
            response = self.http.post("/signature/verifications", files={"file": (filename, content)})
        except ServiceUnavailable:
            raise _unavailable() from None
        if response.status_code == 422:
            return Verdict("not_signed")
        if response.status_code != 201:
            log.warning("consultations.signature_verify_failed", status=response.status_code)
            raise _unavailable()
        report = response.json()
        return _verdict(report)

    def judge(self, files: list[tuple[str, str, str, bytes]], report_ids: list[str]) -> list[Verdict]:
        """The verdict of each ``(filename, media_type, sha256, content)``."""
        by_hash: dict[str, Verdict] = {}
        for report_id in dict.fromkeys(report_ids):
            found = self.report(report_id)
            audit, report = found.get("audit") or {}, found.get("report") or {}
            verdict = Verdict(status=audit.get("verdict") or (report.get("verdict") or {}).get("code"),
                              report_id=report_id, indication=report.get("indication"), signers=_signers(report))
            if verdict.status == "non_compliant" and report.get("indication") == "NO_SIGNATURE_FOUND":
                verdict.status = "not_signed"
            hashes = {audit.get("document_sha256"), audit.get("signature_sha256")} - {None}
            matched = [h for h in hashes if any(f[2] == h for f in files)]
            if not matched:
                raise Problem(status=422, code="signature_report_mismatch",
                              detail="Un rapport de vérification de signature ne concerne aucun des fichiers "
                                     "déposés.", errors=[FieldError("signature_report_ids", report_id)])
            for digest in matched:
                by_hash[digest] = verdict
        verdicts = []
        for filename, media_type, sha256, content in files:
            if sha256 in by_hash:
                verdicts.append(by_hash[sha256])
            elif media_type in SIGNABLE:
                verdicts.append(self.verify(filename, content))
            else:
                verdicts.append(Verdict("not_signed" if self.http is not None else "not_verified"))
        return verdicts


def _verdict(report: dict) -> Verdict:
    status = (report.get("verdict") or {}).get("code") or "to_verify"
    if report.get("indication") == "NO_SIGNATURE_FOUND":
        status = "not_signed"
    return Verdict(status=status, report_id=report.get("id"), indication=report.get("indication"),
                   signers=_signers(report))

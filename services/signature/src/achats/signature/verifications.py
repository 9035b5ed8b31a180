"""Use cases of verification: verify a document, keep its audit record, serve its reports for a while."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from achats.chassis import clock
from achats.chassis.db import UnitOfWork
from achats.chassis.pagination import keyset_page
from achats.chassis.problems import FieldError, Problem

from . import events, uploads
from .deps import Dependencies
from .models import Verification, VerificationReport
from .sandbox import Sandbox, SandboxBusy, SandboxCrashed, SandboxTimeout
from .settings import SignatureSettings
from .trust.lists import TrustListStore, TrustSnapshot
from .validation import DocumentRejected, ValidationConfig, pair

log = structlog.get_logger(__name__)

REPORT_GONE = Problem(status=410, code="report_expired",
                      detail="Ce rapport n'est plus disponible : les rapports sont conservés un temps limité. "
                             "Relancez la vérification du document.")
NOT_FOUND = Problem(status=404, code="verification_not_found", detail="Cette vérification n'existe pas.")


def as_problem(exc: DocumentRejected) -> Problem:
    errors = [FieldError(exc.field, exc.detail)] if exc.field else []
    headers = {"Retry-After": "30"} if exc.status == 503 else {}
    return Problem(status=exc.status, code=exc.code, detail=exc.detail, errors=errors, headers=headers)


def run_job(sandbox: Sandbox, job: str, snapshot: TrustSnapshot | None, settings: SignatureSettings,
            **kwargs: Any) -> Any:
    """A sandbox job, with every failure turned into a French problem (never a 500, never a hang)."""
    seconds = int(settings.validation_timeout)
    try:
        return sandbox.run(job, snapshot.material if snapshot else None, settings.validation_timeout, **kwargs)
    except DocumentRejected as exc:
        raise as_problem(exc) from None
    except SandboxTimeout:
        raise Problem(status=422, code="processing_timeout",
                      detail=f"Le traitement a dépassé le temps maximal autorisé ({seconds} s) : le document est "
                             "trop complexe, ou un service de révocation ou d'horodatage ne répond pas.") from None
    except SandboxBusy:
        raise Problem(status=503, code="service_busy", headers={"Retry-After": "5"},
                      detail="Le service de signature est très sollicité : réessayez dans quelques "
                             "secondes.") from None
    except SandboxCrashed:
        raise Problem(status=422, code="document_unprocessable",
                      detail="Le document n'a pas pu être traité : sa structure n'est pas prise en charge.") from None


def trust_snapshot(store: TrustListStore, settings: SignatureSettings) -> TrustSnapshot:
    snapshot = store.usable_snapshot(settings.trust_lists_wait)
    if not snapshot.usable:
        raise Problem(status=503, code="trust_lists_unavailable", headers={"Retry-After": "60"},
                      detail="Les listes de confiance européennes n'ont pas pu être chargées : la vérification "
                             "est impossible pour le moment. Réessayez plus tard.")
    return snapshot


def trust_summary(snapshot: TrustSnapshot) -> dict:
    return {"status": snapshot.status, "loaded_at": clock.iso(snapshot.loaded_at),
            "lists_in_use": sorted(s.territory for s in snapshot.lists if s.in_use and s.kind == "national"),
            "extra_anchors": len(snapshot.material.anchors)}


def public(report: dict) -> dict:
    """The report without the evidence kept for the ETSI XML report."""
    return {**report, "signatures": [{k: v for k, v in s.items() if k != "evidence"} for s in report["signatures"]]}


def verify(uow: UnitOfWork, deps: Dependencies, settings: SignatureSettings, *,
           files: list[tuple[str, str, bytes]]) -> dict:
    """Verify a document (and its detached signature): the report, the audit record, the event.

    ``files`` are (field, filename, content). Nothing of the document is kept but its hash.
    """
    classified = []
    for field, filename, content in files:
        uploads.check_size(field, content, settings.max_file_bytes)
        classified.append(uploads.classify(field, filename, content))
    try:
        # The signature file is recognised by its content, whichever field it came in.
        document, signature = pair(classified[0], classified[1] if len(classified) > 1 else None)
    except DocumentRejected as exc:
        raise as_problem(exc) from None
    if signature is not None:
        uploads.check_size(signature.field, signature.content, settings.max_signature_file_bytes)
    snapshot = trust_snapshot(deps.trust_lists, settings)
    config = ValidationConfig(revocation_mode=settings.revocation_mode, fetch_timeout=settings.fetch_timeout,
                              max_signatures=settings.max_signatures_per_document,
                              revocation_cache_seconds=settings.revocation_cache_seconds)
    report = run_job(deps.sandbox, "verify", snapshot, settings, document=document,
                     signature=signature, config=config)
    signed_content = report.pop("_signed_content", None)
    verified_at = clock.now()
    report["trust_lists"] = trust_summary(snapshot)
    with uow:
        record = Verification(document_sha256=report["document"]["sha256"],
                              signature_sha256=(report["signature_file"] or {}).get("sha256"),
                              format=report["format"], signature_count=report["signature_count"],
                              verdict=report["verdict"]["code"],
                              indications=[s["indication"] for s in report["signatures"]], created_at=verified_at)
        uow.session.add(record)
        uow.session.flush()
        report["id"] = str(record.id)
        report["verified_at"] = clock.iso(verified_at)
        report["report_expires_at"] = clock.iso(verified_at + timedelta(seconds=settings.report_retention))
        if report.get("signed_content"):
            report["signed_content"]["download"] = f"/signature/verifications/{record.id}/signed-content"
        uow.session.add(VerificationReport(verification_id=record.id, report=report, signed_content=signed_content,
                                           expires_at=verified_at + timedelta(seconds=settings.report_retention)))
        events.verification_completed(uow.session, record)
        uow.commit()
    log.info("signature.verified", verification_id=report["id"], verdict=report["verdict"]["code"],
             signatures=report["signature_count"], format=report["format"])
    return report


def get(session: Session, verification_id: uuid.UUID) -> tuple[Verification, dict | None]:
    record = session.get(Verification, verification_id)
    if record is None:
        raise NOT_FOUND
    stored = session.get(VerificationReport, verification_id)
    if stored is None or stored.expires_at <= clock.now():
        return record, None
    return record, stored.report


def report_of(session: Session, verification_id: uuid.UUID) -> dict:
    _record, report = get(session, verification_id)
    if report is None:
        raise REPORT_GONE
    return report


NO_SIGNED_CONTENT = Problem(status=404, code="signed_content_not_found",
                            detail="Cette vérification ne porte pas sur une signature enveloppante (.p7m, XAdES "
                                   "enveloppante) : il n'y a pas de contenu signé à télécharger, le fichier signé "
                                   "est celui que vous avez envoyé.")


def signed_content_of(session: Session, verification_id: uuid.UUID) -> tuple[dict, bytes]:
    """(description, bytes) of what an enveloping signature signs, while its report is kept."""
    report = report_of(session, verification_id)
    description = report.get("signed_content")
    if not description:
        raise NO_SIGNED_CONTENT
    content = session.execute(select(VerificationReport.signed_content)
                              .where(VerificationReport.verification_id == verification_id)).scalar_one_or_none()
    if content is None:
        raise NO_SIGNED_CONTENT
    return description, content


def audit_entry(record: Verification) -> dict:
    return {"id": str(record.id), "document_sha256": record.document_sha256,
            "signature_sha256": record.signature_sha256, "format": record.format,
            "signature_count": record.signature_count, "verdict": record.verdict, "indications": record.indications,
            "verified_at": clock.iso(record.created_at)}


def list_records(session: Session, *, limit: int, cursor: str | None,
                 document_sha256: str | None = None) -> tuple[list[Verification], str | None]:
    """Newest first, keyset-paginated on (created_at, id)."""
    query = select(Verification)
    if document_sha256:
        query = query.where(Verification.document_sha256 == document_sha256.lower())
    return keyset_page(session, query, keys=(Verification.created_at, Verification.id), limit=limit, cursor=cursor,
                       descending=True)


def purge(session: Session, moment: datetime | None = None) -> int:
    """Delete the reports past their retention (the audit records stay)."""
    result = session.execute(delete(VerificationReport).where(VerificationReport.expires_at <= (moment or clock.now())))
    return result.rowcount or 0

"""« Vérifier la signature électronique d'un document »: public verification and its reports."""

from __future__ import annotations

import uuid

from achats.chassis.app import current_runtime
from achats.chassis.security import require_roles

from .. import report_pdf as pdf_report
from .. import verifications
from ..validation import etsi
from . import files


def create(body: dict | None = None, file=None, signature=None):
    runtime = current_runtime()
    limit = runtime.settings.max_file_bytes
    parts = [("file", *files.read("file", file, limit))]
    detached = files.read("signature", signature, limit, required=False)
    if detached is not None:
        parts.append(("signature", *detached))
    report = verifications.verify(runtime.db.unit_of_work(), runtime.deps, runtime.settings, files=parts)
    return verifications.public(report), 201, {"Location": f"/signature/verifications/{report['id']}"}


def get(verification_id: uuid.UUID):
    with current_runtime().db.session() as session:
        record, report = verifications.get(session, verification_id)
        return {"audit": verifications.audit_entry(record),
                "report": verifications.public(report) if report else None}, 200


def report_pdf(verification_id: uuid.UUID):
    with current_runtime().db.session() as session:
        report = verifications.report_of(session, verification_id)
    return files.attachment(pdf_report.render(verifications.public(report)),
                            f"rapport-verification-{verification_id}.pdf", "application/pdf")


def signed_content(verification_id: uuid.UUID):
    """What an enveloping signature signs, to download: the same capability as the report (its id)."""
    with current_runtime().db.session() as session:
        description, content = verifications.signed_content_of(session, verification_id)
    return files.attachment(content, description["filename"], description["media_type"])


def report_xml(verification_id: uuid.UUID):
    with current_runtime().db.session() as session:
        report = verifications.report_of(session, verification_id)
    return files.attachment(etsi.render(report).encode(), f"rapport-etsi-{verification_id}.xml",
                            "application/xml; charset=utf-8")


def list(token_info: dict, limit: int = 50, cursor: str | None = None, document_sha256: str | None = None):
    require_roles(token_info, "support_agent", "platform_admin")
    with current_runtime().db.session() as session:
        rows, following = verifications.list_records(session, limit=limit, cursor=cursor,
                                                     document_sha256=document_sha256)
        return {"items": [verifications.audit_entry(r) for r in rows], "next_cursor": following}, 200

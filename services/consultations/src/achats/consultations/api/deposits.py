"""Handlers of the deposits: « Déposer », « Mes réponses », a deposit, its sealed files."""

from __future__ import annotations

import uuid
from datetime import datetime

import flask

from achats.chassis import clock
from achats.chassis.app import current_runtime
from achats.chassis.clock import iso
from achats.chassis.files import download_headers
from achats.chassis.pagination import page
from achats.chassis.problems import FieldError, Problem
from achats.chassis.security import Principal

from .. import deposits, deps
from .. import receipt as receipt_pdf
from ..models import Consultation, Deposit, DepositFile
from ..signatures import LABELS

TRUE = ("1", "true", "on", "yes", "oui")


def _depot() -> deposits.Depot:
    return deps.current().depot


def _uploads(settings) -> list[deposits.Upload]:
    """Every file part, tagged by its field (candidature, offre), each read to the limit plus one byte."""
    limit = settings.max_file_bytes + 1
    found = []
    for kind in deposits.KINDS:
        for item in flask.request.files.getlist(kind):
            content = item.read(limit)
            if item.filename or content:  # a file input left empty sends an empty part without a name
                found.append(deposits.Upload(kind=kind, filename=item.filename or kind, content=content))
    return found


def _base(row: Deposit) -> str:
    return f"/consultations/deposits/{row.id}"


def shape_file(row: Deposit, file: DepositFile) -> dict:
    return {"id": str(file.id), "kind": file.kind, "filename": file.filename, "media_type": file.media_type,
            "size": file.size, "sha256": file.sha256,
            "signature": {"status": file.signature_status, "label": LABELS.get(file.signature_status),
                          "report_id": file.signature_report_id, "indication": file.signature_indication,
                          "signers": [*(file.signers or [])]},
            "href": f"{_base(row)}/files/{file.id}"}


def shape(row: Deposit, consultation: Consultation | None, now: datetime) -> dict:
    return {"id": str(row.id), "consultation_id": str(row.consultation_id),
            "reference": consultation.reference if consultation else None,
            "title": consultation.title if consultation else None, "lot_number": row.lot_number,
            "status": row.status, "sealed": deposits.sealed(row, now), "deadline": iso(row.deadline),
            "deposited_at": iso(row.deposited_at), "received_at": iso(row.received_at),
            "timestamp": {"time": iso(row.deposited_at), "serial_number": row.timestamp_serial,
                          "tsa": row.tsa_name, "imprint_sha256": row.manifest_sha256,
                          "token": f"{_base(row)}/timestamp.tst"},
            "replaced_by": str(row.replaced_by) if row.replaced_by else None,
            "replaced_at": iso(row.replaced_at),
            "invalid_signatures_confirmed": row.invalid_signatures_confirmed,
            "company_id": row.company_id, "user_id": row.user_id,
            "receipt": f"{_base(row)}/receipt.pdf",
            "files": [shape_file(row, f) for f in row.files]}


def create(consultation_id: uuid.UUID, lot: int, token_info: dict, body: dict | None = None, **_files):
    depot = _depot()
    who = Principal.from_claims(token_info)
    deposits.company_user(who)
    form = flask.request.form
    report_ids = [v.strip() for value in form.getlist("signature_report_ids") for v in value.split(",") if v.strip()]
    confirm = (form.get("accept_invalid_signatures") or "").strip().lower()
    if confirm and confirm not in (*TRUE, "0", "false", "off", "no", "non"):
        raise Problem(status=400, code="validation_failed", detail="Certaines données sont invalides.",
                      errors=[FieldError("accept_invalid_signatures", "true ou false")])
    key = flask.request.headers.get("Idempotency-Key") or None
    row, created = deposits.deposit(current_runtime().db.unit_of_work(), depot, who, consultation_id, lot,
                                    _uploads(depot.settings),
                                    idempotency_key=key, signature_report_ids=report_ids,
                                    confirm_invalid_signatures=confirm in TRUE)
    with current_runtime().db.session() as session:
        consultation = session.get(Consultation, row.consultation_id)
        answer = shape(row, consultation, clock.now())
    return answer, 201 if created else 200, {"Location": _base(row)}


def list(token_info: dict, consultation_id: str | None = None, status: str | None = None, limit: int = 20,
         cursor: str | None = None):
    who = Principal.from_claims(token_info)
    wanted = uuid.UUID(consultation_id) if consultation_id else None
    limit = min(limit, current_runtime().settings.max_page_size)
    with current_runtime().db.session() as session:
        rows = deposits.company_deposits(session, who, wanted, status)
        chunk, following = page(rows, limit=limit, cursor=cursor)
        known = {c.id: c for c in session.query(Consultation).filter(
            Consultation.id.in_({r.consultation_id for r in chunk}))} if chunk else {}
        now = clock.now()
        return {"count": len(rows), "items": [shape(r, known.get(r.consultation_id), now) for r in chunk],
                "next_cursor": following}, 200


def get(deposit_id: uuid.UUID, token_info: dict):
    who = Principal.from_claims(token_info)
    with current_runtime().db.session() as session:
        row = deposits.visible(session, who, deposit_id)
        return shape(row, session.get(Consultation, row.consultation_id), clock.now()), 200


def _attachment(content: bytes, filename: str, media_type: str) -> flask.Response:
    return flask.Response(content, status=200, headers=download_headers(filename, media_type, len(content)))


def file(deposit_id: uuid.UUID, file_id: uuid.UUID, token_info: dict):
    found, content = deposits.open_file(current_runtime().db.unit_of_work(), _depot(),
                                        Principal.from_claims(token_info), deposit_id, file_id)
    return _attachment(content, found.filename, found.media_type)


def timestamp(deposit_id: uuid.UUID, token_info: dict):
    who = Principal.from_claims(token_info)
    with current_runtime().db.session() as session:
        row = deposits.visible(session, who, deposit_id)
        return _attachment(row.timestamp_token, f"horodatage-{row.id}.tst", "application/octet-stream")


def receipt(deposit_id: uuid.UUID, token_info: dict):
    """The accusé de réception (PDF), at any time, sealed or not."""
    who = Principal.from_claims(token_info)
    with current_runtime().db.session() as session:
        row = deposits.visible(session, who, deposit_id)
        consultation = session.get(Consultation, row.consultation_id)
        content = receipt_pdf.render(consultation, row)
    return _attachment(content, f"accuse-reception-{consultation.reference}-lot{row.lot_number}-{row.id}.pdf",
                       "application/pdf")

"""Handlers of the consultations: list and search, one consultation, its DCE, the company's downloads."""

from __future__ import annotations

import uuid
from datetime import datetime

import flask

from achats.chassis import clock
from achats.chassis.app import current_runtime
from achats.chassis.clock import iso
from achats.chassis.files import download_headers
from achats.chassis.pagination import page
from achats.chassis.security import Principal

from .. import catalogue, dce
from ..models import Consultation, DceDownload


def _shape(consultation: Consultation, now: datetime) -> dict:
    return {
        "id": str(consultation.id), "reference": consultation.reference, "title": consultation.title,
        "buyer": consultation.buyer, "procedure": consultation.procedure,
        "procedure_label": catalogue.PROCEDURES.get(consultation.procedure, consultation.procedure),
        "contract_type": consultation.contract_type,
        "contract_type_label": catalogue.CONTRACT_TYPES.get(consultation.contract_type, consultation.contract_type),
        "summary": consultation.summary, "cpv_codes": list(consultation.cpv_codes),
        "practice": consultation.practice,
        "deadline": iso(catalogue.deadline(consultation, now)),
        "lots": [{"number": lot.number, "title": lot.title, "cpv_codes": list(lot.cpv_codes)}
                 for lot in consultation.lots],
    }


def _documents(consultation: Consultation) -> list[dict]:
    base = f"/consultations/consultations/{consultation.id}/dce"
    return [{"slug": d.slug, "title": d.title, "filename": dce.filename(consultation, d),
             "content_type": "application/pdf", "href": f"{base}/{d.slug}"} for d in dce.DOCUMENTS]


def search(q: str | None = None, cpv: str | None = None, procedure: str | None = None,
           contract_type: str | None = None, limit: int = 20, cursor: str | None = None):
    found = catalogue.criteria(q, cpv, procedure, contract_type)
    limit = min(limit, current_runtime().settings.max_page_size)
    now = clock.now()
    with current_runtime().db.session() as session:
        items = catalogue.search(session, found)
        chunk, following = page(items, limit=limit, cursor=cursor)
        return {"count": len(items), "items": [_shape(c, now) for c in chunk], "next_cursor": following}, 200


def get(consultation_id: uuid.UUID):
    with current_runtime().db.session() as session:
        consultation = catalogue.get(session, consultation_id)
        return {**_shape(consultation, clock.now()), "documents": _documents(consultation)}, 200


def _file(found: dce.Download) -> flask.Response:
    return flask.Response(found.content, status=200,
                          headers=download_headers(found.filename, found.media_type, len(found.content)))


def document(consultation_id: uuid.UUID, slug: str, token_info: dict):
    return _file(dce.download_document(current_runtime().db.unit_of_work(), Principal.from_claims(token_info),
                                       consultation_id, slug))


def archive(consultation_id: uuid.UUID, token_info: dict):
    return _file(dce.download_archive(current_runtime().db.unit_of_work(), Principal.from_claims(token_info),
                                      consultation_id))


def _download(row: DceDownload, references: dict) -> dict:
    return {"id": str(row.id), "consultation_id": str(row.consultation_id),
            "reference": references.get(row.consultation_id), "document": row.document, "user_id": row.user_id,
            "downloaded_at": iso(row.downloaded_at)}


def downloads(token_info: dict, consultation_id: str | None = None, limit: int = 50, cursor: str | None = None):
    company_id = dce.downloader(Principal.from_claims(token_info))
    wanted = uuid.UUID(consultation_id) if consultation_id else None
    with current_runtime().db.session() as session:
        rows = catalogue.downloads(session, company_id, wanted)
        chunk, following = page(rows, limit=limit, cursor=cursor)
        references = {c.id: c.reference for c in session.query(Consultation).filter(
            Consultation.id.in_({r.consultation_id for r in chunk}))} if chunk else {}
        return {"count": len(rows), "items": [_download(r, references) for r in chunk], "next_cursor": following}, 200

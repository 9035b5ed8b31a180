"""Handlers of the consultations: list and search, one consultation, its DCE, the company's downloads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import flask

from achats.chassis.app import current_runtime
from achats.chassis.clock import iso
from achats.chassis.files import download_headers
from achats.chassis.pagination import page
from achats.chassis.problems import Problem
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
    now = datetime.now(UTC)
    with current_runtime().db.session() as session:
        items = catalogue.search(session, found)
        chunk, following = page(items, limit=limit, cursor=cursor)
        return {"count": len(items), "items": [_shape(c, now) for c in chunk], "next_cursor": following}, 200


def get(consultation_id: uuid.UUID):
    with current_runtime().db.session() as session:
        consultation = catalogue.get(session, consultation_id)
        return {**_shape(consultation, datetime.now(UTC)), "documents": _documents(consultation)}, 200


def _downloader(token_info: dict) -> Principal:
    who = Principal.from_claims(token_info)
    if not token_info.get("company_id"):
        raise Problem(status=403, code="company_required",
                      detail="Le téléchargement du DCE est réservé aux comptes rattachés à une entreprise.")
    return who


def _file(content: bytes, filename: str, content_type: str) -> flask.Response:
    return flask.Response(content, status=200, headers=download_headers(filename, content_type, len(content)))


def document(consultation_id: uuid.UUID, slug: str, token_info: dict):
    who = _downloader(token_info)
    doc = dce.document(slug)
    with current_runtime().db.unit_of_work() as uow:
        consultation = catalogue.get(uow.session, consultation_id)
        content = dce.render(consultation, doc.slug, catalogue.deadline(consultation))
        catalogue.record_download(uow.session, consultation, company_id=str(token_info["company_id"]),
                                  user_id=who.sub, email=token_info.get("email"), document=doc.slug)
        uow.commit()
        return _file(content, dce.filename(consultation, doc), "application/pdf")


def archive(consultation_id: uuid.UUID, token_info: dict):
    who = _downloader(token_info)
    with current_runtime().db.unit_of_work() as uow:
        consultation = catalogue.get(uow.session, consultation_id)
        content = dce.zip_all(consultation, catalogue.deadline(consultation))
        catalogue.record_download(uow.session, consultation, company_id=str(token_info["company_id"]),
                                  user_id=who.sub, email=token_info.get("email"), document=dce.ZIP_NAME)
        uow.commit()
        return _file(content, f"DCE_{consultation.reference}.zip", "application/zip")


def _download(row: DceDownload, references: dict) -> dict:
    return {"id": str(row.id), "consultation_id": str(row.consultation_id),
            "reference": references.get(row.consultation_id), "document": row.document, "user_id": row.user_id,
            "downloaded_at": iso(row.downloaded_at)}


def downloads(token_info: dict, consultation_id: str | None = None, limit: int = 50, cursor: str | None = None):
    _downloader(token_info)
    wanted = uuid.UUID(consultation_id) if consultation_id else None
    with current_runtime().db.session() as session:
        rows = catalogue.downloads(session, str(token_info["company_id"]), wanted)
        chunk, following = page(rows, limit=limit, cursor=cursor)
        references = {c.id: c.reference for c in session.query(Consultation).filter(
            Consultation.id.in_({r.consultation_id for r in chunk}))} if chunk else {}
        return {"count": len(rows), "items": [_download(r, references) for r in chunk], "next_cursor": following}, 200

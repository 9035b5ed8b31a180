"""The company's vault (« coffre-fort »): documents checked by content, stored in the database."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from achats.chassis import clock, files
from achats.chassis.db import UnitOfWork
from achats.chassis.observability import human_size
from achats.chassis.problems import FieldError, Problem
from achats.chassis.security import Principal

from . import companies, events
from .access import can_use
from .models import Company, Document, DocumentContent

TYPES = {"kbis": "Extrait Kbis", "attestation_fiscale": "Attestation de régularité fiscale",
         "attestation_urssaf": "Attestation de vigilance URSSAF", "other": "Autre document"}
ACCEPTED = ("PDF, images (PNG, JPEG, GIF, TIFF) et documents bureautiques "
            "(Word, Excel, PowerPoint, OpenDocument)")


# What a company keeps in its vault: scans and official documents, not plain text.
ACCEPTED_TYPES = files.PDF | files.OFFICE | {"image/png", "image/jpeg", "image/gif", "image/tiff"}


def sniff(content: bytes) -> str | None:
    """The media type of ``content`` judged by its bytes, or None when it is not accepted in the vault.

    The name and the declared type of an upload are never trusted: an executable renamed
    ``.pdf`` is still an executable.
    """
    kind = files.sniff(content)
    return kind if kind in ACCEPTED_TYPES or files.is_opendocument(kind) else None


def upload(uow: UnitOfWork, *, who: Principal, company_id: uuid.UUID, type: str, label: str | None,
           valid_until: date | None, filename: str, content: bytes, uploaded_by: dict, max_bytes: int,
           max_documents: int) -> Document:
    """A document put in the company's vault by one of its users: checked by its bytes (type, size), counted
    against the vault's capacity, stored with its content in one transaction."""
    can_use(who, company_id)
    with uow:
        document = _store(uow.session, companies.get(uow.session, company_id), type=type, label=label,
                          valid_until=valid_until, filename=filename, content=content, uploaded_by=uploaded_by,
                          max_bytes=max_bytes, max_documents=max_documents)
        uow.commit()
    return document


def remove(uow: UnitOfWork, *, who: Principal, company_id: uuid.UUID, document_id: uuid.UUID) -> None:
    can_use(who, company_id)
    with uow:
        uow.session.delete(get(uow.session, companies.get(uow.session, company_id), document_id))
        uow.commit()


def _store(session: Session, company: Company, *, type: str, label: str | None, valid_until: date | None,
           filename: str, content: bytes, uploaded_by: dict, max_bytes: int, max_documents: int) -> Document:
    if len(content) > max_bytes:
        raise Problem(status=413, code="document_too_large",
                      detail=f"Le document dépasse la taille maximale autorisée ({human_size(max_bytes)}).")
    if not content:
        raise Problem(status=422, code="document_empty", detail="Le document envoyé est vide.",
                      errors=[FieldError("file", "Fichier vide.")])
    content_type = sniff(content)
    if content_type is None:
        raise Problem(status=415, code="document_type_refused",
                      detail=f"Ce type de fichier n'est pas accepté. Formats acceptés : {ACCEPTED}.")
    count = session.execute(select(func.count()).select_from(Document)
                            .where(Document.company_id == company.id)).scalar_one()
    if count >= max_documents:
        raise Problem(status=409, code="vault_full",
                      detail=f"Le coffre-fort contient déjà {count} documents : supprimez-en avant d'en ajouter.")
    document = Document(company_id=company.id, type=type, label=(label or TYPES[type]).strip(),
                        valid_until=valid_until, filename=files.safe_name(filename), content_type=content_type,
                        size=len(content), sha256=hashlib.sha256(content).hexdigest(), uploaded_by=uploaded_by)
    session.add(document)
    session.flush()
    session.add(DocumentContent(document_id=document.id, content=content))
    session.flush()
    return document


def list_documents(session: Session, company: Company) -> list[Document]:
    return list(session.execute(select(Document).where(Document.company_id == company.id)
                                .order_by(Document.created_at.desc())).scalars())


def get(session: Session, company: Company, document_id: uuid.UUID) -> Document:
    document = session.get(Document, document_id)
    if document is None or document.company_id != company.id:
        raise Problem(status=404, code="document_not_found", detail="Ce document n'existe pas.")
    return document


def content_of(session: Session, document: Document) -> bytes:
    return session.get(DocumentContent, document.id).content


def notify_expiring(session: Session, *, today: date, notice_days: int) -> int:
    """Announce (once per validity date) the documents that expire within ``notice_days``."""
    horizon = today + timedelta(days=notice_days)
    rows = session.execute(
        select(Document, Company).join(Company, Company.id == Document.company_id)
        .where(Document.valid_until.is_not(None), Document.valid_until >= today, Document.valid_until <= horizon)
        .with_for_update(of=Document, skip_locked=True)).all()
    count = 0
    for document, company in rows:
        if document.expiry_notified_for == document.valid_until:
            continue
        events.document_expiring(session, company, document, (document.valid_until - today).days)
        document.expiry_notified_for = document.valid_until
        count += 1
    session.flush()
    return count


def today() -> date:
    """Today in UTC, by the platform's clock (validity dates are compared with it)."""
    return clock.now().date()

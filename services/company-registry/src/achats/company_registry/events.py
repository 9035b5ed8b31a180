"""Events the registry publishes (contract: asyncapi.yaml) and the payloads consumers rely on."""

from __future__ import annotations

from sqlalchemy.orm import Session

from achats.chassis.bus import publish

from .models import Company, Document, Establishment

SOURCE = "/company-registry"
COMPANY_CREATED = "company.created"
COMPANY_UPDATED = "company.updated"
COMPANY_DELETED = "company.deleted"
ESTABLISHMENT_ADDED = "company.establishment.added"
ESTABLISHMENT_REPLACED = "company.establishment.replaced"
DOCUMENT_EXPIRING = "company.document.expiring"


def company_summary(company: Company) -> dict:
    return {"company_id": str(company.id), "siren": company.siren, "name": company.name, "source": company.source,
            "verified": company.verified, "country_code": company.country_code}


def company_created(session: Session, company: Company) -> None:
    publish(session, COMPANY_CREATED, company_summary(company), source=SOURCE, subject=str(company.id))


def company_updated(session: Session, company: Company, changes: list[str]) -> None:
    publish(session, COMPANY_UPDATED, {**company_summary(company), "changes": sorted(changes)}, source=SOURCE,
            subject=str(company.id))


def company_deleted(session: Session, company: Company, deleted_by: dict) -> None:
    publish(session, COMPANY_DELETED, {"company_id": str(company.id), "siren": company.siren, "name": company.name,
                                       "deleted_by": deleted_by}, source=SOURCE, subject=str(company.id))


def establishment_added(session: Session, establishment: Establishment) -> None:
    publish(session, ESTABLISHMENT_ADDED, {
        "company_id": str(establishment.company_id), "establishment_id": str(establishment.id),
        "siret": establishment.siret, "source": establishment.source}, source=SOURCE,
        subject=str(establishment.company_id))


def establishment_replaced(session: Session, old: Establishment, new: Establishment) -> None:
    publish(session, ESTABLISHMENT_REPLACED, {
        "company_id": str(old.company_id), "old_establishment_id": str(old.id), "old_siret": old.siret,
        "new_establishment_id": str(new.id), "new_siret": new.siret}, source=SOURCE, subject=str(old.company_id))


def document_expiring(session: Session, company: Company, document: Document, days_left: int) -> None:
    recipients = [document.uploaded_by] if document.uploaded_by.get("email") else []
    publish(session, DOCUMENT_EXPIRING, {
        "company_id": str(company.id), "company_name": company.name, "document_id": str(document.id),
        "document_type": document.type, "label": document.label,
        "valid_until": document.valid_until.isoformat() if document.valid_until else None,
        "days_left": days_left, "recipients": recipients}, source=SOURCE, subject=str(company.id))

"""JSON shapes of companies, establishments and documents in answers."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from achats.chassis.clock import iso

from .. import companies
from ..models import Company, Document, Establishment
from ..reference import workforce_label
from ..vault import TYPES


def company(session: Session, company: Company) -> dict:
    return company_of(company, companies.count_establishments(session, company))


def company_of(company: Company, establishment_count: int) -> dict:
    return {
        "id": str(company.id), "siren": company.siren, "name": company.name, "sigle": company.sigle,
        "naf_code": company.naf_code, "naf_label": company.naf_label, "legal_form_code": company.legal_form_code,
        "legal_form_label": company.legal_form_label, "category": company.category, "is_pme": company.is_pme,
        "workforce_range": company.workforce_range, "workforce_label": workforce_label(company.workforce_range),
        "active": company.active, "vat_number": company.vat_number, "hidden_fields": company.hidden_fields or [],
        "source": company.source, "verified": company.verified, "country_code": company.country_code,
        "national_id": company.national_id, "phone": company.phone, "email": company.email,
        "website": company.website, "establishment_count": establishment_count,
        "created_at": iso(company.created_at), "updated_at": iso(company.updated_at),
    }


def establishment(item: Establishment) -> dict:
    return {
        "id": str(item.id), "company_id": str(item.company_id), "siret": item.siret,
        "nic": item.siret[9:] if item.siret else None, "is_head_office": item.is_head_office, "name": item.name,
        "street": item.street, "complement": item.complement, "postal_code": item.postal_code, "city": item.city,
        "country_code": item.country_code, "country": item.country, "naf_code": item.naf_code,
        "workforce_range": item.workforce_range, "active": item.active, "hidden_fields": item.hidden_fields or [],
        "source": item.source, "verified": item.verified,
        "editable": not item.verified and item.source != "insee",
        "replaced_by_id": str(item.replaced_by_id) if item.replaced_by_id else None,
    }


def document(item: Document, today: date, notice_days: int) -> dict:
    """``expired`` past its validity date; ``expires_soon`` within the ``notice_days`` of the expiry notice
    (the same horizon as the mail the platform sends), so that pages show the service's own status."""
    expired = bool(item.valid_until and item.valid_until < today)
    return {
        "id": str(item.id), "company_id": str(item.company_id), "type": item.type, "type_label": TYPES[item.type],
        "label": item.label, "valid_until": item.valid_until.isoformat() if item.valid_until else None,
        "expired": expired,
        "expires_soon": bool(item.valid_until and not expired and (item.valid_until - today).days <= notice_days),
        "filename": item.filename,
        "content_type": item.content_type, "size": item.size, "sha256": item.sha256,
        "uploaded_by": item.uploaded_by, "created_at": iso(item.created_at),
    }


def person(token_info: dict) -> dict:
    """Who acts, as events and records name them."""
    return {"user_id": str(token_info.get("sub", "")), "email": token_info.get("email") or "",
            "first_name": token_info.get("given_name") or "", "last_name": token_info.get("family_name") or ""}

"""Companies: create-or-return (identity's registration), read, update, refresh from INSEE, delete."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError

from achats.chassis.app import current_runtime
from achats.chassis.problems import Problem

from .. import companies as service
from ..access import can_administer, can_read, principal
from ..identifiers import compact
from ..lookup import lookup
from . import shapes


def _needs_insee(session, company_in: dict, establishment_in: dict | None) -> str | None:
    """The number to look up at INSEE, or None when nothing is to be created from INSEE data."""
    if company_in["source"] == "foreign":
        return None
    siren = compact(company_in.get("siren") or "")
    siret = compact((establishment_in or {}).get("siret") or "")
    existing = service.get_by_siren(session, siren) if siren else None
    wants_insee_company = company_in["source"] == "insee" and existing is None
    wants_insee_establishment = (bool(establishment_in) and establishment_in.get("source", "insee") == "insee"
                                 and (not siret or service.get_by_siret(session, siret) is None))
    if not (wants_insee_company or wants_insee_establishment):
        return None
    return siret or siren or None


def create(body: dict, token_info: dict):
    who = principal(token_info)
    if not who.has_role("service", "platform_admin"):
        raise Problem(status=403, code="forbidden", detail="Seule la plateforme peut inscrire une entreprise.")
    runtime = current_runtime()
    company_in, establishment_in = body["company"], body.get("establishment")
    if company_in["source"] != "foreign" and not company_in.get("siren") and (establishment_in or {}).get("siret"):
        company_in = {**company_in, "siren": compact(establishment_in["siret"])[:9]}
    with runtime.db.session() as session:
        number = _needs_insee(session, company_in, establishment_in)
    insee_data = lookup(runtime.deps.insee, number) if number else None
    for attempt in (1, 2):
        try:
            with runtime.db.unit_of_work() as uow:
                company, establishment, company_created, establishment_created = service.create_or_return(
                    uow.session, company_in=company_in, establishment_in=establishment_in, insee_data=insee_data,
                    own=True)
                answer = {"company": shapes.company(uow.session, company),
                          "establishment": shapes.establishment(establishment) if establishment else None,
                          "company_created": company_created, "establishment_created": establishment_created}
                uow.commit()
            break
        except IntegrityError:
            # Another registration created the same company or establishment at the same moment:
            # the second pass finds and returns it.
            if attempt == 2:
                raise
    return answer, 201 if company_created or establishment_created else 200


def get(company_id: uuid.UUID, token_info: dict):
    can_read(principal(token_info), company_id)
    with current_runtime().db.session() as session:
        return shapes.company(session, service.get(session, company_id)), 200


def update(company_id: uuid.UUID, body: dict, token_info: dict):
    can_administer(principal(token_info), company_id)
    with current_runtime().db.unit_of_work() as uow:
        company = service.get(uow.session, company_id)
        service.update(uow.session, company, body)
        answer = shapes.company(uow.session, company)
        uow.commit()
    return answer, 200


def refresh(company_id: uuid.UUID, token_info: dict):
    can_administer(principal(token_info), company_id)
    runtime = current_runtime()
    with runtime.db.session() as session:
        company = service.get(session, company_id)
        siren = company.siren
    if siren is None:
        raise Problem(status=409, code="not_in_insee",
                      detail="Cette entreprise étrangère n'est pas inscrite au répertoire de l'INSEE.")
    insee = runtime.deps.insee
    insee.forget(f"siren:{siren}")
    insee_data = lookup(insee, siren)
    with runtime.db.unit_of_work() as uow:
        company = service.get(uow.session, company_id)
        changes = service.apply_insee(uow.session, company, insee_data)
        answer = {"company": shapes.company(uow.session, company), "changes": changes}
        uow.commit()
    return answer, 200


def delete(company_id: uuid.UUID, token_info: dict):
    can_administer(principal(token_info), company_id)
    with current_runtime().db.unit_of_work() as uow:
        service.delete(uow.session, service.get(uow.session, company_id), shapes.person(token_info))
        uow.commit()
    return None, 204

"""Establishments of a company: list, add, change a manual one, replace one whose SIRET changed."""

from __future__ import annotations

import uuid

from achats.chassis.app import current_runtime
from achats.chassis.pagination import page

from .. import companies as service
from ..access import can_read, can_use, principal
from ..identifiers import compact
from ..lookup import NOT_SELECTABLE, lookup
from . import shapes


def list(company_id: uuid.UUID, token_info: dict, limit: int = 50, cursor: str | None = None):
    can_read(principal(token_info), company_id)
    with current_runtime().db.session() as session:
        items = service.establishments(session, service.get(session, company_id))
        chunk, following = page(items, limit=limit, cursor=cursor)
        return {"count": len(items), "items": [shapes.establishment(e) for e in chunk],
                "next_cursor": following}, 200


def _insee_data(body: dict) -> dict | None:
    if body.get("source", "insee") != "insee" or not body.get("siret"):
        return None
    runtime = current_runtime()
    with runtime.db.session() as session:
        if service.get_by_siret(session, compact(body["siret"])) is not None:
            return None
    return lookup(runtime.deps.insee, body["siret"])


def create(company_id: uuid.UUID, body: dict, token_info: dict):
    can_use(principal(token_info), company_id)
    runtime = current_runtime()
    with runtime.db.session() as session:
        company = service.get(session, company_id)
        body = {**body, "source": "foreign"} if company.source == "foreign" else body
    insee_data = _insee_data(body)
    with runtime.db.unit_of_work() as uow:
        company = service.get(uow.session, company_id)
        _, establishment, _, created = service.create_or_return(
            uow.session, company_in=_identity(company), establishment_in=body, insee_data=insee_data,
            establishment_prefix="")
        answer = shapes.establishment(establishment)
        uow.commit()
    if insee_data is not None and not establishment.active:
        # Added to the company's list all the same (its history), but not without a word.
        closed_since = next((e["closed_since"] for e in insee_data["establishments"]
                             if e["siret"] == establishment.siret), None)
        answer["warnings"] = [{"code": "establishment_closed", "siret": establishment.siret,
                               "message": f"{service.closed_text(establishment.siret, closed_since)} {NOT_SELECTABLE}"}]
    return answer, 201 if created else 200


def _identity(company) -> dict:
    if company.source == "foreign":
        return {"source": "foreign", "country_code": company.country_code, "national_id": company.national_id}
    return {"source": company.source, "siren": company.siren}


def update(company_id: uuid.UUID, establishment_id: uuid.UUID, body: dict, token_info: dict):
    can_use(principal(token_info), company_id)
    with current_runtime().db.unit_of_work() as uow:
        company = service.get(uow.session, company_id)
        establishment = service.get_establishment(uow.session, company, establishment_id)
        service.update_establishment(uow.session, establishment, body)
        answer = shapes.establishment(establishment)
        uow.commit()
    return answer, 200


def replace(company_id: uuid.UUID, establishment_id: uuid.UUID, body: dict, token_info: dict):
    can_use(principal(token_info), company_id)
    insee_data = _insee_data(body)
    with current_runtime().db.unit_of_work() as uow:
        company = service.get(uow.session, company_id)
        old = service.get_establishment(uow.session, company, establishment_id)
        new = service.replace_establishment(uow.session, company, old, body, insee_data)
        answer = shapes.establishment(new)
        uow.commit()
    return answer, 201

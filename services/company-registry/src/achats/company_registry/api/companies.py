"""Companies: create-or-return (identity's registration), read, update, refresh from INSEE, delete."""

from __future__ import annotations

import uuid

from achats.chassis.app import current_runtime

from .. import companies as service
from .. import deps, registration
from ..access import can_read, principal
from . import shapes


def create(body: dict, token_info: dict):
    registered = registration.register(current_runtime().db.unit_of_work(), deps.current().insee,
                                       who=principal(token_info), company_in=body["company"],
                                       establishment_in=body.get("establishment"))
    establishment = registered.establishment
    return {"company": shapes.company_of(registered.company, registered.establishment_count),
            "establishment": shapes.establishment(establishment) if establishment else None,
            "company_created": registered.company_created,
            "establishment_created": registered.establishment_created}, 201 if registered.created else 200


def get(company_id: uuid.UUID, token_info: dict):
    can_read(principal(token_info), company_id)
    with current_runtime().db.session() as session:
        return shapes.company(session, service.get(session, company_id)), 200


def update(company_id: uuid.UUID, body: dict, token_info: dict):
    company, count = registration.change(current_runtime().db.unit_of_work(), who=principal(token_info),
                                         company_id=company_id, changes=body)
    return shapes.company_of(company, count), 200


def refresh(company_id: uuid.UUID, token_info: dict):
    refreshed = registration.refresh_from_insee(current_runtime().db.unit_of_work(), deps.current().insee,
                                                who=principal(token_info), company_id=company_id)
    return {"company": shapes.company_of(refreshed.company, refreshed.establishment_count),
            "changes": refreshed.changes}, 200


def delete(company_id: uuid.UUID, token_info: dict):
    registration.delete(current_runtime().db.unit_of_work(), who=principal(token_info), company_id=company_id,
                        deleted_by=shapes.person(token_info))
    return None, 204

"""Establishments of a company: list, add, change a manual one, replace one whose SIRET changed."""

from __future__ import annotations

import uuid

from achats.chassis.app import current_runtime
from achats.chassis.pagination import page

from .. import companies as service
from .. import establishments
from ..access import can_read, principal
from . import shapes


def list(company_id: uuid.UUID, token_info: dict, limit: int = 50, cursor: str | None = None):
    can_read(principal(token_info), company_id)
    with current_runtime().db.session() as session:
        items = service.establishments(session, service.get(session, company_id))
        chunk, following = page(items, limit=limit, cursor=cursor)
        return {"count": len(items), "items": [shapes.establishment(e) for e in chunk],
                "next_cursor": following}, 200


def create(company_id: uuid.UUID, body: dict, token_info: dict):
    added = establishments.add(current_runtime().db.unit_of_work(), current_runtime().deps.insee,
                               who=principal(token_info), company_id=company_id, establishment_in=body)
    answer = shapes.establishment(added.establishment)
    if added.warnings:
        answer["warnings"] = added.warnings
    return answer, 201 if added.created else 200


def update(company_id: uuid.UUID, establishment_id: uuid.UUID, body: dict, token_info: dict):
    changed = establishments.change(current_runtime().db.unit_of_work(), who=principal(token_info),
                                    company_id=company_id, establishment_id=establishment_id, changes=body)
    return shapes.establishment(changed), 200


def replace(company_id: uuid.UUID, establishment_id: uuid.UUID, body: dict, token_info: dict):
    new = establishments.replace(current_runtime().db.unit_of_work(), current_runtime().deps.insee,
                                 who=principal(token_info), company_id=company_id,
                                 establishment_id=establishment_id, new_in=body)
    return shapes.establishment(new), 201

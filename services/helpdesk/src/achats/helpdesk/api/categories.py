"""The categories of « Ma demande »: read by everyone, managed by agents and administrators."""

from __future__ import annotations

import uuid

from achats.chassis.app import current_runtime
from achats.chassis.security import require_roles

from .. import audit, catalogue
from . import common, shapes


def list(token_info: dict | None = None, include_inactive: bool = False):
    if include_inactive:
        require_roles(common.optional_claims(token_info) or {}, *common.STAFF)
    with current_runtime().db.session() as session:
        found = catalogue.list_categories(session, include_inactive=include_inactive)
        return {"items": [shapes.category(c, n) for c, n in found]}, 200


def get(category_id: uuid.UUID, token_info: dict | None = None):
    include_inactive = common.is_staff(common.optional_claims(token_info))
    with current_runtime().db.session() as session:
        category = catalogue.get_category(session, category_id, include_inactive=include_inactive)
        counts = dict((c.id, n) for c, n in catalogue.list_categories(session, include_inactive=True))
        return shapes.category(category, counts.get(category.id, 0)), 200


def create(body: dict, token_info: dict):
    actor = common.staff(token_info)
    with current_runtime().db.unit_of_work() as uow:
        category = catalogue.create_category(uow.session, label=body["label"], slug=body.get("slug"),
                                             description=body.get("description"), position=body.get("position"),
                                             active=body.get("active", True))
        audit.record(uow.session, actor, "faq_category.created", category.id, {"label": category.label})
        answer = shapes.category(category, 0)
        uow.commit()
    return answer, 201


def update(category_id: uuid.UUID, body: dict, token_info: dict):
    actor = common.staff(token_info)
    with current_runtime().db.unit_of_work() as uow:
        category = catalogue.update_category(
            uow.session, catalogue.get_category(uow.session, category_id, include_inactive=True), body)
        audit.record(uow.session, actor, "faq_category.edited", category.id, {"fields": sorted(body)})
        counts = dict((c.id, n) for c, n in catalogue.list_categories(uow.session, include_inactive=True))
        answer = shapes.category(category, counts.get(category.id, 0))
        uow.commit()
    return answer, 200


def delete(category_id: uuid.UUID, token_info: dict):
    actor = common.staff(token_info)
    with current_runtime().db.unit_of_work() as uow:
        audit.record(uow.session, actor, "faq_category.deleted", category_id)
        catalogue.delete_category(uow.session, catalogue.get_category(uow.session, category_id,
                                                                      include_inactive=True))
        uow.commit()
    return None, 204


def move(category_id: uuid.UUID, body: dict, token_info: dict):
    actor = common.staff(token_info)
    with current_runtime().db.unit_of_work() as uow:
        category = catalogue.move_category(uow.session, catalogue.get_category(uow.session, category_id,
                                                                                include_inactive=True),
                                           body["direction"])
        audit.record(uow.session, actor, "faq_category.moved", category.id, {"direction": body["direction"]})
        counts = dict((c.id, n) for c, n in catalogue.list_categories(uow.session, include_inactive=True))
        answer = shapes.category(category, counts.get(category.id, 0))
        uow.commit()
    return answer, 200

"""The categories of « Ma demande »: read by everyone, managed by agents and administrators."""

from __future__ import annotations

import uuid

from achats.chassis.app import current_runtime
from achats.chassis.security import require_roles

from .. import catalogue
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
        return shapes.category(category, catalogue.faq_count(session, category.id)), 200


def create(body: dict, token_info: dict):
    category, count = catalogue.create_category(
        current_runtime().db.unit_of_work(), common.staff(token_info), label=body["label"], slug=body.get("slug"),
        description=body.get("description"), position=body.get("position"), active=body.get("active", True))
    return shapes.category(category, count), 201


def update(category_id: uuid.UUID, body: dict, token_info: dict):
    category, count = catalogue.update_category(current_runtime().db.unit_of_work(), common.staff(token_info),
                                                category_id, body)
    return shapes.category(category, count), 200


def delete(category_id: uuid.UUID, token_info: dict):
    catalogue.delete_category(current_runtime().db.unit_of_work(), common.staff(token_info), category_id)
    return None, 204


def move(category_id: uuid.UUID, body: dict, token_info: dict):
    category, count = catalogue.move_category(current_runtime().db.unit_of_work(), common.staff(token_info),
                                              category_id, body["direction"])
    return shapes.category(category, count), 200

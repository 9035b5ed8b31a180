"""The FAQ: questions by category, suggestions while typing, deflection, and its management."""

from __future__ import annotations

import uuid
from datetime import datetime

from achats.chassis.app import current_runtime
from achats.chassis.pagination import page
from achats.chassis.security import require_roles

from .. import catalogue
from .. import search as faq_search
from . import common, shapes


def list(token_info: dict | None = None, category_id: str | None = None, include_inactive: bool = False,
         limit: int = 50, cursor: str | None = None):
    category_id = common.as_uuid(category_id)
    if include_inactive:
        require_roles(common.optional_claims(token_info) or {}, *common.STAFF)
    with current_runtime().db.session() as session:
        if category_id is not None:
            catalogue.get_category(session, category_id, include_inactive=include_inactive)
        entries = catalogue.list_entries(session, category_id=category_id, include_inactive=include_inactive)
        chunk, following = page(entries, limit=limit, cursor=cursor)
        return {"count": len(entries), "items": [shapes.faq_entry(e) for e in chunk], "next_cursor": following}, 200


def search(q: str, category_id: str | None = None, limit: int = 5):
    category_id = common.as_uuid(category_id)
    with current_runtime().db.session() as session:
        found = faq_search.search(session, q, category_id=category_id, limit=limit)
        return {"items": [shapes.faq_entry(e) for e in found]}, 200


def get(entry_id: uuid.UUID, token_info: dict | None = None):
    include_inactive = common.is_staff(common.optional_claims(token_info))
    with current_runtime().db.session() as session:
        return shapes.faq_entry(catalogue.get_entry(session, entry_id, include_inactive=include_inactive)), 200


def create(body: dict, token_info: dict):
    entry = catalogue.create_entry(
        current_runtime().db.unit_of_work(), common.staff(token_info), category_id=uuid.UUID(body["category_id"]),
        question=body["question"], answer=body["answer"], keywords=body.get("keywords", ""),
        position=body.get("position"), active=body.get("active", True))
    return shapes.faq_entry(entry), 201


def update(entry_id: uuid.UUID, body: dict, token_info: dict):
    actor = common.staff(token_info)
    changes = dict(body)
    if "category_id" in changes:
        changes["category_id"] = uuid.UUID(changes["category_id"])
    return shapes.faq_entry(catalogue.update_entry(current_runtime().db.unit_of_work(), actor, entry_id, changes)), 200


def delete(entry_id: uuid.UUID, token_info: dict):
    catalogue.delete_entry(current_runtime().db.unit_of_work(), common.staff(token_info), entry_id)
    return None, 204


def move(entry_id: uuid.UUID, body: dict, token_info: dict):
    entry = catalogue.move_entry(current_runtime().db.unit_of_work(), common.staff(token_info), entry_id,
                                 body["direction"])
    return shapes.faq_entry(entry), 200


def record_view(body: dict, token_info: dict | None = None):
    view_id = catalogue.record_view(current_runtime().db.unit_of_work(),
                                    entry_ids=[uuid.UUID(i) for i in body["entry_ids"]])
    return {"view_id": str(view_id)}, 201


def record_outcome(body: dict, token_info: dict | None = None):
    def optional_uuid(name: str) -> uuid.UUID | None:
        return uuid.UUID(body[name]) if body.get(name) else None

    catalogue.record_outcome(current_runtime().db.unit_of_work(), outcome=body["outcome"],
                             category_id=optional_uuid("category_id"), entry_id=optional_uuid("entry_id"),
                             view_id=optional_uuid("view_id"))
    return None, 204


def stats(token_info: dict, since: str | None = None):
    common.staff(token_info)
    moment = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None
    with current_runtime().db.session() as session:
        report = catalogue.stats(session, since=moment)
        return {"since": since, "categories": [{
            "category": shapes.category_ref(row["category"]), "resolved": row["resolved"],
            "continued": row["continued"], "deflection_rate": row["deflection_rate"],
            "helpful_entries": [{"entry_id": str(item["entry"].id), "question": item["entry"].question,
                                 "resolved": item["resolved"]} for item in row["helpful_entries"]],
            "entries": [{"entry_id": str(item["entry"].id), "question": item["entry"].question,
                         "active": item["entry"].active, "shown": item["shown"],
                         "resolved_after_shown": item["resolved_after_shown"], "rate": item["rate"]}
                        for item in row["entries"]],
        } for row in report]}, 200

"""The platform administrators' accounts API (role platform_admin, checked here)."""

import uuid

from .. import administration
from .context import caller, identity, unit_of_work


def _admin(token_info: dict):
    who = caller(token_info)
    administration.require_admin(who)
    return who


def search(token_info: dict, q: str = "", locked: bool = False, limit: int = 50, cursor: str | None = None):
    _admin(token_info)
    with identity().db.session() as session:
        return administration.search(session, text=q, locked_only=locked, limit=limit, cursor=cursor), 200


def get(user_id: uuid.UUID, token_info: dict):
    _admin(token_info)
    with identity().db.session() as session:
        return administration.view(session, administration.get(session, user_id)), 200


def unlock(user_id: uuid.UUID, token_info: dict):
    return administration.unlock(unit_of_work(), caller(token_info), user_id), 200


def disable(user_id: uuid.UUID, token_info: dict):
    return administration.set_active(unit_of_work(), caller(token_info), user_id, False), 200


def enable(user_id: uuid.UUID, token_info: dict):
    return administration.set_active(unit_of_work(), caller(token_info), user_id, True), 200


def create_staff(body: dict, token_info: dict):
    return administration.create_staff(unit_of_work(), identity(), caller(token_info), body), 201


def audit(token_info: dict, target_id: uuid.UUID | None = None, limit: int = 50, cursor: str | None = None):
    _admin(token_info)
    with identity().db.session() as session:
        return administration.audit_log(session, target_id=target_id, limit=limit, cursor=cursor), 200

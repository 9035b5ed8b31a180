"""The platform administrators' accounts API (role platform_admin, checked here)."""

import uuid

from .. import administration
from .context import caller, identity


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


def _act(user_id: uuid.UUID, token_info: dict, action):
    who = _admin(token_info)
    with identity().db.unit_of_work() as uow:
        user = administration.get(uow.session, user_id)
        action(uow.session, who, user)
        answer = administration.view(uow.session, user)
        uow.commit()
    return answer, 200


def unlock(user_id: uuid.UUID, token_info: dict):
    return _act(user_id, token_info, administration.unlock)


def disable(user_id: uuid.UUID, token_info: dict):
    return _act(user_id, token_info, lambda s, who, u: administration.set_active(s, who, u, False))


def enable(user_id: uuid.UUID, token_info: dict):
    return _act(user_id, token_info, lambda s, who, u: administration.set_active(s, who, u, True))


def create_staff(body: dict, token_info: dict):
    who = _admin(token_info)
    with identity().db.unit_of_work() as uow:
        user = administration.create_staff(identity(), uow.session, who, body)
        answer = administration.view(uow.session, user)
        uow.commit()
    return answer, 201


def audit(token_info: dict, target_id: uuid.UUID | None = None, limit: int = 50, cursor: str | None = None):
    _admin(token_info)
    with identity().db.session() as session:
        return administration.audit_log(session, target_id=target_id, limit=limit, cursor=cursor), 200

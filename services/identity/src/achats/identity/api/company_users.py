"""The users of a company, for its administrators."""

import uuid

from achats.chassis.pagination import page

from .. import accounts
from .context import caller, identity


def list(company_id: uuid.UUID, token_info: dict, limit: int = 50, cursor: str | None = None):
    accounts.can_list(caller(token_info), company_id)
    with identity().db.session() as session:
        users = accounts.members(session, company_id)
        chunk, following = page(users, limit=limit, cursor=cursor)
        return {"count": len(users), "items": [accounts.shape(u) for u in chunk], "next_cursor": following}, 200


def _change(company_id: uuid.UUID, user_id: uuid.UUID, token_info: dict, action) -> dict | None:
    accounts.can_manage(caller(token_info), company_id)
    with identity().db.unit_of_work() as uow:
        user = accounts.member(uow.session, company_id, user_id)
        action(uow.session, user)
        answer = accounts.shape(user) if user in uow.session else None
        uow.commit()
    return answer


def grant_admin(company_id: uuid.UUID, user_id: uuid.UUID, token_info: dict):
    return _change(company_id, user_id, token_info, lambda s, u: accounts.set_administrator(s, u, True)), 200


def revoke_admin(company_id: uuid.UUID, user_id: uuid.UUID, token_info: dict):
    return _change(company_id, user_id, token_info, lambda s, u: accounts.set_administrator(s, u, False)), 200


def remove(company_id: uuid.UUID, user_id: uuid.UUID, token_info: dict):
    _change(company_id, user_id, token_info, accounts.remove)
    return None, 204

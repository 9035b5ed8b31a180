"""The users of a company, for its administrators."""

import uuid

from achats.chassis.pagination import page

from .. import accounts
from .context import caller, identity, unit_of_work


def list(company_id: uuid.UUID, token_info: dict, limit: int = 50, cursor: str | None = None):
    accounts.can_list(caller(token_info), company_id)
    with identity().db.session() as session:
        users = accounts.members(session, company_id)
        chunk, following = page(users, limit=limit, cursor=cursor)
        return {"count": len(users), "items": [accounts.shape(u) for u in chunk], "next_cursor": following}, 200


def grant_admin(company_id: uuid.UUID, user_id: uuid.UUID, token_info: dict):
    return accounts.shape(accounts.set_member_administrator(unit_of_work(), caller(token_info), company_id, user_id,
                                                            True)), 200


def revoke_admin(company_id: uuid.UUID, user_id: uuid.UUID, token_info: dict):
    return accounts.shape(accounts.set_member_administrator(unit_of_work(), caller(token_info), company_id, user_id,
                                                            False)), 200


def remove(company_id: uuid.UUID, user_id: uuid.UUID, token_info: dict):
    accounts.remove_member(unit_of_work(), caller(token_info), company_id, user_id)
    return None, 204

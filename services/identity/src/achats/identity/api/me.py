"""My account."""

import uuid

from .. import accounts
from .context import caller, identity, unit_of_work


def _family(token_info: dict) -> uuid.UUID | None:
    try:
        return uuid.UUID(token_info.get("sid", ""))
    except ValueError:
        return None


def get(token_info: dict):
    with identity().db.session() as session:
        return accounts.shape(accounts.current(session, caller(token_info))), 200


def update(body: dict, token_info: dict):
    return accounts.shape(accounts.update_mine(unit_of_work(), identity(), caller(token_info), body)), 200


def delete(token_info: dict):
    accounts.delete_mine(unit_of_work(), caller(token_info))
    return None, 204


def change_password(body: dict, token_info: dict):
    accounts.change_my_password(unit_of_work(), identity(), caller(token_info),
                                current_password=body["current_password"], new_password=body["new_password"],
                                keep_family=_family(token_info))
    return None, 204

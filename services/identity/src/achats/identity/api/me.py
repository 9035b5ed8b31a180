"""My account."""

import uuid

from .. import accounts
from .context import caller, identity


def _family(token_info: dict) -> uuid.UUID | None:
    try:
        return uuid.UUID(token_info.get("sid", ""))
    except ValueError:
        return None


def get(token_info: dict):
    with identity().db.session() as session:
        return accounts.shape(accounts.current(session, caller(token_info))), 200


def update(body: dict, token_info: dict):
    ctx = identity()
    with ctx.db.unit_of_work() as uow:
        user = accounts.current(uow.session, caller(token_info))
        accounts.update_me(ctx, uow.session, user, body)
        answer = accounts.shape(user)
        uow.commit()
    return answer, 200


def delete(token_info: dict):
    with identity().db.unit_of_work() as uow:
        accounts.delete(uow.session, accounts.current(uow.session, caller(token_info)))
        uow.commit()
    return None, 204


def change_password(body: dict, token_info: dict):
    ctx = identity()
    with ctx.db.unit_of_work() as uow:
        user = accounts.current(uow.session, caller(token_info))
        accounts.change_password(ctx, uow.session, user, current_password=body["current_password"],
                                 new_password=body["new_password"], keep_family=_family(token_info))
        uow.commit()
    return None, 204

"""The platform administrators' review of companies typed by hand (role platform_admin, checked in reviews)."""

import uuid

from achats.chassis.app import current_runtime

from .. import reviews
from ..access import principal


def manual_companies(token_info: dict, status: str = "pending", limit: int = 25, cursor: str | None = None):
    reviews.require_admin(principal(token_info))
    with current_runtime().db.session() as session:
        return reviews.manual_companies(session, status=status, limit=limit, cursor=cursor), 200


def decide(company_id: uuid.UUID, body: dict, token_info: dict):
    return reviews.decide(current_runtime().db.unit_of_work(), principal(token_info), company_id, body["decision"],
                          body.get("reason")), 200


def audit(token_info: dict, company_id: uuid.UUID | None = None, limit: int = 50, cursor: str | None = None):
    reviews.require_admin(principal(token_info))
    with current_runtime().db.session() as session:
        return reviews.audit_log(session, company_id=company_id, limit=limit, cursor=cursor), 200

"""The request form's automatic context, before anything is sent."""

from __future__ import annotations

from ..context import build
from . import common


def get(token_info: dict | None = None, page: str | None = None, resource: str | None = None,
        assistant_version: str | None = None):
    claims = common.optional_claims(token_info)
    who = common.requester(claims, {})
    settings = common.settings()
    return {"logged_in": claims is not None,
            "contact": {"email": who.email, "first_name": who.first_name, "last_name": who.last_name,
                        "company": who.company},
            "context": build(platform=settings.platform_name, version=settings.platform_version, requester=who,
                             page=page, resource=resource, user_agent=common.user_agent(),
                             assistant_version=assistant_version)}, 200

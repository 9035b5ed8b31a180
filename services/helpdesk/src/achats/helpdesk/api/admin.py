"""The platform administrators' view of what agents did (issue 17: every action audited, visible to them)."""

from __future__ import annotations

from datetime import datetime

from achats.chassis.app import current_runtime
from achats.chassis.security import require_roles

from .. import audit


def audit_log(token_info: dict, since: datetime | str | None = None, actor: str | None = None, limit: int = 50,
              cursor: str | None = None):
    require_roles(token_info, "platform_admin")
    moment = datetime.fromisoformat(since.replace("Z", "+00:00")) if isinstance(since, str) else since
    with current_runtime().db.session() as session:
        return audit.listing(session, since=moment, actor=actor, limit=limit, cursor=cursor), 200

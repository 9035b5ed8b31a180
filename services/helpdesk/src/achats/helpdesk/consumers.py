"""Events the helpdesk consumes (contract: asyncapi.yaml)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from achats.chassis.app import Runtime
from achats.chassis.bus import CloudEvent, EventHandler, PermanentError

from . import privacy

USER_DELETED = "identity.user.deleted"


def on_user_deleted(session: Session, event: CloudEvent) -> None:
    """identity.user.deleted: that user's tickets lose their contact data (the history stays)."""
    data = event.data if isinstance(event.data, dict) else {}
    user_id = data.get("user_id")
    if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > 64:
        raise PermanentError(f"{event.type} without a valid user_id")
    email = data.get("email") if isinstance(data.get("email"), str) else None
    privacy.anonymise_user(session, user_id=user_id, email=email)


def handlers(runtime: Runtime) -> dict[str, EventHandler]:
    return {USER_DELETED: on_user_deleted}

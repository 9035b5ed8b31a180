"""Events identity consumes from the company registry."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from achats.chassis.app import Runtime
from achats.chassis.bus import CloudEvent, EventHandler, PermanentError

from . import accounts


def _uuid(event: CloudEvent, key: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(event.data[key]))
    except (KeyError, TypeError, ValueError):
        raise PermanentError(f"{event.type} without a valid {key}") from None


def on_company_deleted(session: Session, event: CloudEvent) -> None:
    """The company account is gone: its users can no longer log in."""
    accounts.deactivate_company(session, _uuid(event, "company_id"))


def on_company_updated(session: Session, event: CloudEvent) -> None:
    """Every change of a company is announced with its name: the users' copy follows it."""
    name = event.data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PermanentError(f"{event.type} without a name")
    accounts.rename_company(session, _uuid(event, "company_id"), name.strip()[:200])


def on_establishment_replaced(session: Session, event: CloudEvent) -> None:
    """A SIRET changed: the users of the old establishment belong to the new one."""
    accounts.move_establishment(session, _uuid(event, "old_establishment_id"), _uuid(event, "new_establishment_id"))


HANDLERS: dict[str, EventHandler] = {
    "company.updated": on_company_updated,
    "company.deleted": on_company_deleted,
    "company.establishment.replaced": on_establishment_replaced,
}


def handlers(runtime: Runtime) -> dict[str, EventHandler]:
    return HANDLERS

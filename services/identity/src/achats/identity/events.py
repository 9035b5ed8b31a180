"""Events identity publishes (contract: asyncapi.yaml)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from achats.chassis.bus import publish
from achats.chassis.clock import iso

from .models import User

SOURCE = "/identity"
USER_REGISTERED = "identity.user.registered"
REGISTRATION_REJECTED = "identity.registration.rejected"
PASSWORD_RESET_REQUESTED = "identity.password_reset.requested"  # noqa: S105 (an event name)
PASSWORD_CHANGED = "identity.password.changed"  # noqa: S105 (an event name)
USER_LOCKED = "identity.user.locked"
USER_DELETED = "identity.user.deleted"
USER_UPDATED = "identity.user.updated"
EMAIL_CHANGE_REQUESTED = "identity.user.email_change_requested"


def person(user: User) -> dict:
    return {"email": user.email, "first_name": user.first_name, "last_name": user.last_name}


def _publish(session: Session, type_: str, user: User, data: dict) -> None:
    publish(session, type_, {"user_id": str(user.id), **person(user), **data}, source=SOURCE, subject=str(user.id))


def user_registered(session: Session, user: User, *, company_name: str, verification_url: str,
                    verification_expires_at: datetime, administrators: list[User]) -> None:
    _publish(session, USER_REGISTERED, user, {
        "company_id": str(user.company_id) if user.company_id else None,
        "establishment_id": str(user.establishment_id) if user.establishment_id else None,
        "login": user.login, "roles": list(user.roles), "company_name": company_name,
        "verification_url": verification_url, "verification_expires_at": iso(verification_expires_at),
        "company_administrators": [person(a) for a in administrators]})


def registration_rejected(session: Session, existing: User, reason: str) -> None:
    """Someone tried to register with this account's e-mail or login: tell its owner, not the caller."""
    _publish(session, REGISTRATION_REJECTED, existing, {"login": existing.login, "reason": reason})


def password_reset_requested(session: Session, user: User, *, reset_url: str, expires_at: datetime) -> None:
    _publish(session, PASSWORD_RESET_REQUESTED, user, {"reset_url": reset_url, "expires_at": iso(expires_at)})


def password_changed(session: Session, user: User, changed_at: datetime) -> None:
    _publish(session, PASSWORD_CHANGED, user, {"changed_at": iso(changed_at)})


def user_locked(session: Session, user: User, locked_until: datetime) -> None:
    _publish(session, USER_LOCKED, user, {"locked_until": iso(locked_until)})


def user_deleted(session: Session, user: User) -> None:
    _publish(session, USER_DELETED, user, {"company_id": str(user.company_id) if user.company_id else None})


def user_updated(session: Session, user: User, changes: list[str]) -> None:
    _publish(session, USER_UPDATED, user, {"company_id": str(user.company_id) if user.company_id else None,
                                           "roles": list(user.roles), "active": user.active,
                                           "changes": sorted(changes)})


def email_change_requested(session: Session, user: User, *, previous_email: str, verification_url: str,
                           verification_expires_at: datetime) -> None:
    """The user gave a new e-mail address (``user.email``): confirm it with the link, tell the previous one."""
    _publish(session, EMAIL_CHANGE_REQUESTED, user, {
        "previous_email": previous_email, "verification_url": verification_url,
        "verification_expires_at": iso(verification_expires_at)})

"""Single-use links sent by mail (password reset, e-mail verification), stored hashed, expiring."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from achats.chassis import clock
from achats.chassis.problems import Problem

from .models import OneTimeLink, User
from .sessions import digest

RESET = "password_reset"
VERIFICATION = "email_verification"
VERIFICATION_PATH = "/compte/confirmation"  # the page that posts the token to /identity/email-verifications
INVALID = {
    RESET: "Ce lien de réinitialisation n'est plus valide (déjà utilisé ou expiré). Faites une nouvelle demande "
           "depuis « Mot de passe oublié ».",
    VERIFICATION: "Ce lien de confirmation n'est plus valide (déjà utilisé ou expiré).",
}


def create(session: Session, user: User, purpose: str, ttl: int) -> tuple[str, datetime]:
    """A new link; the earlier unused links of the same purpose stop working."""
    session.execute(update(OneTimeLink).where(OneTimeLink.user_id == user.id, OneTimeLink.purpose == purpose,
                                              OneTimeLink.used_at.is_(None))
                    .values(used_at=clock.now()))
    raw = secrets.token_urlsafe(32)
    expires_at = clock.now() + timedelta(seconds=ttl)
    session.add(OneTimeLink(purpose=purpose, token_hash=digest(raw), user_id=user.id, expires_at=expires_at))
    session.flush()
    return raw, expires_at


def consume(session: Session, raw: str, purpose: str) -> User:
    """The user a valid link belongs to; the link is used up. 400 for anything else."""
    link = session.execute(select(OneTimeLink).where(OneTimeLink.token_hash == digest(raw),
                                                     OneTimeLink.purpose == purpose)
                           .with_for_update()).scalar_one_or_none()
    if link is None or link.used_at is not None or link.expires_at <= clock.now():
        raise Problem(status=400, code="link_invalid", detail=INVALID[purpose])
    user = session.get(User, link.user_id)
    if user is None or not user.active:
        raise Problem(status=400, code="link_invalid", detail=INVALID[purpose])
    link.used_at = clock.now()
    return user


def url(base: str, path: str, raw: str) -> str:
    return f"{base.rstrip('/')}{path}?token={raw}"


def verification(session: Session, user: User, *, public_base_url: str, ttl: int) -> tuple[str, datetime]:
    """A new link confirming the user's current e-mail address: its URL (for the mail) and its expiry.

    The earlier unused verification links stop working, so a link sent to a previous address can
    never confirm the new one.
    """
    raw, expires_at = create(session, user, VERIFICATION, ttl)
    return url(public_base_url, VERIFICATION_PATH, raw), expires_at


def forget_user(session: Session, user_id: uuid.UUID) -> None:
    session.execute(update(OneTimeLink).where(OneTimeLink.user_id == user_id, OneTimeLink.used_at.is_(None))
                    .values(used_at=clock.now()))

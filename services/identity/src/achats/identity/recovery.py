"""« Mot de passe oublié »: a single-use link by mail, the same answer whether the account exists or not."""

from __future__ import annotations

import time

from sqlalchemy import or_, select

from achats.chassis import clock
from achats.chassis.db import UnitOfWork

from . import events, links, passwords, sessions, throttle
from .models import User
from .sessions import Identity
from .timing import Equalizer

ACCEPTED = {
    "status": "accepted",
    "message": ("Si un compte correspond à ces informations, un courriel contenant un lien de réinitialisation "
                "vient d'être envoyé. Ce lien est valable une heure."),
}


def request_reset(uow: UnitOfWork, identity: Identity, equalizer: Equalizer, login_or_email: str) -> dict:
    started = time.perf_counter()
    name = login_or_email.strip().lower()
    with uow:
        user = uow.session.execute(select(User).where(or_(User.login == name, User.email == name),
                                                      User.active.is_(True))).scalars().first()
        if user is not None:
            raw, expires_at = links.create(uow.session, user, links.RESET, identity.settings.reset_link_ttl)
            events.password_reset_requested(
                uow.session, user, reset_url=links.url(identity.settings.public_base_url,
                                                       "/compte/mot-de-passe/nouveau", raw),
                expires_at=expires_at)
            uow.commit()
    if user is None:
        equalizer.pad(started)
    else:
        equalizer.observe(time.perf_counter() - started)
    return ACCEPTED


def reset(uow: UnitOfWork, identity: Identity, raw: str, password: str) -> None:
    """A new password from a reset link: every session ends, and a lockout is lifted."""
    s = identity.settings
    with uow:
        user = links.consume(uow.session, raw, links.RESET)
        passwords.check(password, min_length=s.password_min_length, max_length=s.password_max_length,
                        login=user.login, email=user.email, names=(user.first_name, user.last_name))
        set_password(identity, uow.session, user, password)
        sessions.revoke_all(uow.session, user.id)
        throttle.clear(uow.session, f"login:{user.login}")
        uow.commit()


def set_password(identity: Identity, session, user: User, password: str) -> None:
    user.password_hash = identity.hasher.hash(password)
    user.password_changed_at = clock.now()
    events.password_changed(session, user, user.password_changed_at)

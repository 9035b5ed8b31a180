"""« Nouvel utilisateur »: a personal account attached to the company and establishment it works for."""

from __future__ import annotations

import re
import time
import uuid

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from achats.chassis import clock
from achats.chassis.db import UnitOfWork
from achats.chassis.problems import FieldError, Problem

from . import events, links, passwords, throttle
from .models import User
from .registry import RegistryClient
from .sessions import Identity
from .timing import Equalizer

LOGIN = re.compile(r"^[a-z0-9][a-z0-9._@+-]{2,99}$")
ACCEPTED = {
    "status": "accepted",
    "message": ("Votre demande d'inscription a bien été enregistrée. Un courriel vous a été envoyé à l'adresse "
                "indiquée : suivez ses instructions pour finaliser votre compte."),
}


def validate_credentials(identity: Identity, credentials: dict, person: dict, *,
                         prefix: str = "credentials.") -> tuple[str, str]:
    """The login format and the password policy, for registrations and for the staff's accounts alike."""
    login = credentials["login"].strip().lower()
    email = person["email"].strip().lower()
    if not LOGIN.match(login):
        raise Problem(status=422, code="login_invalid",
                      detail="L'identifiant doit contenir de 3 à 100 caractères : lettres, chiffres, . _ @ + -.",
                      errors=[FieldError(f"{prefix}login", "Identifiant invalide.")])
    s = identity.settings
    passwords.check(credentials["password"], field=f"{prefix}password", min_length=s.password_min_length,
                    max_length=s.password_max_length, login=login, email=email,
                    names=(person["first_name"], person["last_name"]))
    return login, email


def register(uow: UnitOfWork, identity: Identity, registry: RegistryClient, equalizer: Equalizer, body: dict) -> dict:
    """Create the account; answer the same whether or not the login or e-mail were already taken."""
    started = time.perf_counter()
    credentials, person = body["credentials"], body["user"]
    login, email = validate_credentials(identity, credentials, person)
    with uow:
        taken = _taken(uow.session, login, email)
        if taken is not None:
            # The owner of the account hears about it by mail; the caller learns nothing.
            _tell_owner(uow.session, *taken)
            uow.commit()
    if taken is not None:
        identity.hasher.hash(credentials["password"])
        equalizer.pad(started)
        return ACCEPTED
    registered = registry.create_or_return(body["company"], body.get("establishment"))
    password_hash = identity.hasher.hash(credentials["password"])
    company_id = uuid.UUID(registered["company"]["id"])
    establishment = registered.get("establishment")
    try:
        with uow:
            session = uow.session
            members = session.execute(select(User).where(User.company_id == company_id,
                                                         User.active.is_(True))).scalars().all()
            administrators = [m for m in members if m.is_company_admin]
            first = not members
            user = User(login=login, email=email, first_name=person["first_name"].strip(),
                        last_name=person["last_name"].strip(), phone=person["phone"].strip(),
                        fax=(person.get("fax") or "").strip() or None, password_hash=password_hash,
                        roles=["supplier", "supplier_admin"] if first else ["supplier"], company_id=company_id,
                        company_name=(registered["company"].get("name") or "")[:200] or None,
                        establishment_id=uuid.UUID(establishment["id"]) if establishment else None)
            session.add(user)
            session.flush()
            verification_url, expires_at = links.verification(
                session, user, public_base_url=identity.settings.public_base_url,
                ttl=identity.settings.verification_link_ttl)
            events.user_registered(
                session, user, company_name=registered["company"]["name"], verification_url=verification_url,
                verification_expires_at=expires_at, administrators=[] if first else administrators)
            uow.commit()
    except IntegrityError:
        # The same login or e-mail registered a moment ago by a concurrent request.
        return ACCEPTED
    equalizer.observe(time.perf_counter() - started)
    return ACCEPTED


# At most one such mail per account and per hour: attempts to register with someone's address must not
# become a way to flood their mailbox (the gateway limits attempts per client address, not per target).
NOTICE_POLICY = throttle.Policy(delay_after=1, lock_after=1, lock_seconds=3600, window_seconds=3600)


def _tell_owner(session, existing: User, reason: str) -> None:
    if not existing.active:
        return  # a deactivated account (its company was deleted) can do nothing with the advice
    key = f"registration-notice:{existing.id}"
    if throttle.check(session, key)[0].allowed and throttle.record_failure(session, key, NOTICE_POLICY):
        events.registration_rejected(session, existing, reason)


def _taken(session, login: str, email: str) -> tuple[User, str] | None:
    by_email = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if by_email is not None:
        return by_email, "email_taken"
    by_login = session.execute(select(User).where(User.login == login)).scalar_one_or_none()
    if by_login is not None:
        return by_login, "login_taken"
    return None


def verify_email(uow: UnitOfWork, identity: Identity, raw: str) -> None:
    """The link's e-mail is confirmed; the first confirmation opens the account to login."""
    with uow:
        user = links.consume(uow.session, raw, links.VERIFICATION)
        moment = clock.now()
        if user.email_verified_at is None:
            user.email_verified_at = moment
        if user.activated_at is None:
            user.activated_at = moment
        uow.commit()


RESEND_ACCEPTED = {
    "status": "accepted",
    "message": ("Si un compte en attente de confirmation correspond à ces informations, un nouveau courriel de "
                "confirmation vient d'être envoyé. Le lien du courriel précédent ne fonctionne plus."),
}
# At most one new confirmation mail per account every 5 minutes, whatever the caller asks.
RESEND_POLICY = throttle.Policy(delay_after=1, lock_after=1, lock_seconds=300, window_seconds=300)


def resend_verification(uow: UnitOfWork, identity: Identity, registry: RegistryClient, equalizer: Equalizer,
                        login_or_email: str) -> dict:
    """A new confirmation mail for an account never confirmed; the same answer, in about the same time,
    for an unknown, confirmed or deactivated account, and for a repeat within the 5 minutes."""
    started = time.perf_counter()
    name = login_or_email.strip().lower()
    with uow:
        session = uow.session
        user = session.execute(select(User).where(or_(User.login == name, User.email == name),
                                                  User.active.is_(True), User.activated_at.is_(None))
                               ).scalars().first()
        key = f"verification-mail:{user.id}" if user is not None else ""
        due = user is not None and throttle.check(session, key)[0].allowed
        company_id = user.company_id if user is not None else None
    if not due:
        equalizer.pad(started)
        return RESEND_ACCEPTED
    # The mail names the company, as the first one did (outside the transaction: an HTTP call).
    company_name = registry.company_name(company_id) if company_id else ""
    with uow:
        user = uow.session.get(User, user.id)
        if user is not None and user.activated_at is None and throttle.check(uow.session, key)[0].allowed:
            throttle.record_failure(uow.session, key, RESEND_POLICY)
            verification_url, expires_at = links.verification(
                uow.session, user, public_base_url=identity.settings.public_base_url,
                ttl=identity.settings.verification_link_ttl)
            # The same event as at registration (the notifier mails `account_created` again), without
            # the administrators: they heard of the new colleague the first time.
            events.user_registered(uow.session, user, company_name=company_name, verification_url=verification_url,
                                   verification_expires_at=expires_at, administrators=[])
            uow.commit()
    equalizer.observe(time.perf_counter() - started)
    return RESEND_ACCEPTED

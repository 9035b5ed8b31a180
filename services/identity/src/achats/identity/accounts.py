"""My account, and the users of a company as its administrators manage them."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from achats.chassis.clock import iso
from achats.chassis.db import UnitOfWork
from achats.chassis.problems import FieldError, Problem
from achats.chassis.security import Principal

from . import events, links, passwords, sessions
from .models import User
from .recovery import set_password
from .sessions import Identity

LAST_ADMIN_DELETE = ("Vous êtes le dernier administrateur du compte de votre entreprise et d'autres utilisateurs y "
                     "sont rattachés : désignez d'abord un autre administrateur, puis supprimez votre compte.")
LAST_ADMIN_REVOKE = ("Le compte de l'entreprise doit garder au moins un administrateur : désignez-en un autre avant "
                     "de retirer ce rôle.")
STAFF = ("support_agent", "platform_admin")


def current(session: Session, who: Principal) -> User:
    user = session.get(User, uuid.UUID(who.sub)) if _is_uuid(who.sub) else None
    if user is None or not user.active:
        raise Problem(status=401, code="unauthenticated", detail="Votre compte n'est plus actif. Reconnectez-vous.")
    return user


def _is_uuid(value: str | None) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def shape(user: User) -> dict:
    return {"id": str(user.id), "login": user.login, "email": user.email, "email_verified": user.email_verified_at
            is not None, "first_name": user.first_name, "last_name": user.last_name, "phone": user.phone,
            "fax": user.fax, "roles": list(user.roles), "company_id": str(user.company_id) if user.company_id else None,
            "establishment_id": str(user.establishment_id) if user.establishment_id else None,
            "is_company_admin": user.is_company_admin, "active": user.active,
            "created_at": iso(user.created_at)}


def _update_me(identity: Identity, session: Session, user: User, changes: dict) -> list[str]:
    changed = []
    for key in ("first_name", "last_name", "phone", "fax"):
        if key in changes:
            value = (changes[key] or "").strip() or None
            if key != "fax" and not value:
                raise Problem(status=400, code="validation_failed",
                              detail="Certaines données sont invalides. Corrigez les champs signalés.",
                              errors=[FieldError(key, "Ce champ est obligatoire.")])
            if getattr(user, key) != value:
                setattr(user, key, value)
                changed.append(key)
    previous_email = user.email
    if "email" in changes and changes["email"].strip().lower() != user.email:
        user.email = changes["email"].strip().lower()
        user.email_verified_at = None
        changed.append("email")
    if changed:
        try:
            session.flush()
        except IntegrityError:
            raise Problem(status=409, code="email_taken",
                          detail="Cette adresse électronique est déjà utilisée par un autre compte.",
                          errors=[FieldError("email", "Adresse déjà utilisée.")]) from None
        if "email" in changed:
            # The new address is unconfirmed until the link mailed to it is followed; the previous one is told.
            verification_url, expires_at = links.verification(
                session, user, public_base_url=identity.settings.public_base_url,
                ttl=identity.settings.verification_link_ttl)
            events.email_change_requested(session, user, previous_email=previous_email,
                                          verification_url=verification_url, verification_expires_at=expires_at)
        events.user_updated(session, user, changed)
    return changed


def _change_password(identity: Identity, session: Session, user: User, *, current_password: str,
                     new_password: str, keep_family: uuid.UUID | None) -> None:
    if not identity.hasher.verify(user.password_hash, current_password):
        raise Problem(status=422, code="current_password_invalid", detail="Le mot de passe actuel est incorrect.",
                      errors=[FieldError("current_password", "Mot de passe incorrect.")])
    s = identity.settings
    passwords.check(new_password, field="new_password", min_length=s.password_min_length,
                    max_length=s.password_max_length, login=user.login, email=user.email,
                    names=(user.first_name, user.last_name))
    set_password(identity, session, user, new_password)
    # Other sessions end (a stolen session does not survive the change); this one goes on.
    sessions.revoke_all(session, user.id, keep_family=keep_family)


def _other_members(session: Session, user: User) -> int:
    if user.company_id is None:
        return 0
    return session.execute(select(func.count()).select_from(User).where(
        User.company_id == user.company_id, User.active.is_(True), User.id != user.id)).scalar_one()


def _other_admins(session: Session, user: User) -> int:
    members = session.execute(select(User).where(User.company_id == user.company_id, User.active.is_(True),
                                                 User.id != user.id)).scalars()
    return sum(1 for m in members if m.is_company_admin)


def _delete(session: Session, user: User) -> None:
    if user.is_company_admin and _other_members(session, user) and not _other_admins(session, user):
        raise Problem(status=409, code="last_administrator", detail=LAST_ADMIN_DELETE)
    events.user_deleted(session, user)
    session.delete(user)
    session.flush()


# --- the company's users, for its administrators ------------------------------------------------

def can_manage(who: Principal, company_id: uuid.UUID) -> None:
    if who.has_role("platform_admin"):
        return
    if who.company_id != str(company_id):
        raise Problem(status=404, code="company_not_found", detail="Cette entreprise n'existe pas.")
    if not who.has_role("supplier_admin"):
        raise Problem(status=403, code="company_admin_required",
                      detail="Seul l'administrateur du compte de l'entreprise peut gérer ses utilisateurs.")


def can_list(who: Principal, company_id: uuid.UUID) -> None:
    if who.has_role(*STAFF):
        return
    can_manage(who, company_id)


def members(session: Session, company_id: uuid.UUID) -> list[User]:
    return list(session.execute(select(User).where(User.company_id == company_id)
                                .order_by(User.last_name, User.first_name, User.id)).scalars())


def member(session: Session, company_id: uuid.UUID, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None or user.company_id != company_id:
        raise Problem(status=404, code="user_not_found", detail="Cet utilisateur n'existe pas.")
    return user


def _set_administrator(session: Session, user: User, granted: bool) -> None:
    if granted == user.is_company_admin:
        return
    if not granted and not _other_admins(session, user):
        raise Problem(status=409, code="last_administrator", detail=LAST_ADMIN_REVOKE)
    roles = [r for r in user.roles if r != "supplier_admin"]
    user.roles = [*roles, "supplier_admin"] if granted else roles
    sessions.revoke_all(session, user.id)  # new roles take effect at the next login
    session.flush()
    events.user_updated(session, user, ["roles"])


def _remove(session: Session, user: User) -> None:
    if user.is_company_admin and not _other_admins(session, user):
        raise Problem(status=409, code="last_administrator", detail=LAST_ADMIN_REVOKE)
    events.user_deleted(session, user)
    session.delete(user)
    session.flush()


# --- the use cases: each takes the unit of work, the caller and plain values, and commits -----------

def update_mine(uow: UnitOfWork, identity: Identity, who: Principal, changes: dict) -> User:
    """« Mon compte »: my name, phone, fax, e-mail (a new address is confirmed by the link mailed to it)."""
    with uow:
        user = current(uow.session, who)
        _update_me(identity, uow.session, user, changes)
        uow.commit()
    return user


def change_my_password(uow: UnitOfWork, identity: Identity, who: Principal, *, current_password: str,
                       new_password: str, keep_family: uuid.UUID | None) -> None:
    """My password changed (the current one checked first); my other sessions end, ``keep_family``'s goes on."""
    with uow:
        _change_password(identity, uow.session, current(uow.session, who), current_password=current_password,
                         new_password=new_password, keep_family=keep_family)
        uow.commit()


def delete_mine(uow: UnitOfWork, who: Principal) -> None:
    """My account deleted — refused to a company's last administrator while others remain."""
    with uow:
        _delete(uow.session, current(uow.session, who))
        uow.commit()


def set_member_administrator(uow: UnitOfWork, who: Principal, company_id: uuid.UUID, user_id: uuid.UUID,
                             granted: bool) -> User:
    """A company administrator gives (or takes back) the administrator's role to one of its users."""
    can_manage(who, company_id)
    with uow:
        user = member(uow.session, company_id, user_id)
        _set_administrator(uow.session, user, granted)
        uow.commit()
    return user


def remove_member(uow: UnitOfWork, who: Principal, company_id: uuid.UUID, user_id: uuid.UUID) -> None:
    can_manage(who, company_id)
    with uow:
        _remove(uow.session, member(uow.session, company_id, user_id))
        uow.commit()


# --- events from the company registry ---------------------------------------------------------

def deactivate_company(session: Session, company_id: uuid.UUID) -> int:
    users = members(session, company_id)
    for user in users:
        if user.active:
            user.active = False
            sessions.revoke_all(session, user.id)
            links.forget_user(session, user.id)
            events.user_updated(session, user, ["active"])
    session.flush()
    return len(users)


def rename_company(session: Session, company_id: uuid.UUID, name: str) -> int:
    """The registry's new name of a company: its users' next tokens carry it (company_name)."""
    users = [user for user in members(session, company_id) if user.company_name != name]
    for user in users:
        user.company_name = name
    session.flush()
    return len(users)


def move_establishment(session: Session, old_id: uuid.UUID, new_id: uuid.UUID) -> int:
    users = list(session.execute(select(User).where(User.establishment_id == old_id)).scalars())
    for user in users:
        user.establishment_id = new_id
        events.user_updated(session, user, ["establishment_id"])
    session.flush()
    return len(users)

"""The platform administrators' work on accounts: search, unlock, disable and enable, staff accounts, the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from achats.chassis import clock
from achats.chassis.db import UnitOfWork
from achats.chassis.pagination import keyset_page
from achats.chassis.problems import FieldError, Problem
from achats.chassis.security import Principal

from . import events, links, sessions, throttle
from .accounts import _is_uuid, shape
from .models import AuditEntry, Throttle, User
from .registration import validate_credentials
from .sessions import Identity

ADMIN_ONLY = "Cette action est réservée aux administrateurs de la plateforme."
OWN_ACCOUNT = "Vous ne pouvez pas désactiver votre propre compte : demandez-le à un autre administrateur."
STAFF_ROLES = ("support_agent", "platform_admin")
CLI = "cli"  # the actor of what the command line does (the first administrator has nobody to vouch for them)


def require_admin(who: Principal) -> None:
    if not who.has_role("platform_admin"):
        raise Problem(status=403, code="platform_admin_required", detail=ADMIN_ONLY)


def _login_key(user: User) -> str:
    return f"login:{user.login}"


def _locks(session: Session, users: list[User]) -> dict[str, Throttle]:
    keys = [_login_key(u) for u in users]
    if not keys:
        return {}
    return {row.key: row for row in session.execute(select(Throttle).where(Throttle.key.in_(keys))).scalars()}


def locked_until(row: Throttle | None) -> datetime | None:
    """When the brute-force lock of a login ends, or None when it can log in now."""
    moment = clock.now()
    if row is None:
        return None
    waits = [until for until in (row.locked_until, row.next_allowed_at) if until and until > moment]
    return max(waits) if waits else None


def admin_shape(user: User, lock: Throttle | None) -> dict:
    until = locked_until(lock)
    return {**shape(user), "company_name": user.company_name,
            "activated": user.activated_at is not None,
            "locked": until is not None, "locked_until": clock.iso(until),
            "failed_logins": lock.failures if lock is not None else 0}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(session: Session, *, text: str = "", locked_only: bool = False, limit: int = 50,
           cursor: str | None = None) -> dict:
    """Accounts whose login, e-mail or company name contains ``text`` (any case), by login."""
    query = select(User)
    text = text.strip()
    if text:
        pattern = _like(text.lower())
        query = query.where(or_(User.login.like(pattern, escape="\\"), User.email.like(pattern, escape="\\"),
                                User.company_name.ilike(pattern, escape="\\")))
    if locked_only:
        moment = clock.now()
        locked = select(Throttle.key).where(or_(Throttle.locked_until > moment, Throttle.next_allowed_at > moment))
        query = query.where(("login:" + User.login).in_(locked))
    users, following = keyset_page(session, query, keys=(User.login, User.id), limit=limit, cursor=cursor)
    locks = _locks(session, users)
    return {"items": [admin_shape(u, locks.get(_login_key(u))) for u in users], "next_cursor": following}


def get(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise Problem(status=404, code="user_not_found", detail="Cet utilisateur n'existe pas.")
    return user


def view(session: Session, user: User) -> dict:
    return admin_shape(user, _locks(session, [user]).get(_login_key(user)))


def record(session: Session, actor: Principal | None, action: str, target: User | None = None,
           **detail: object) -> None:
    """One line of the audit log, in the same transaction as the action it tells."""
    actor_user = session.get(User, uuid.UUID(actor.sub)) if actor is not None and _is_uuid(actor.sub) else None
    session.add(AuditEntry(actor_id=actor_user.id if actor_user else None,
                           actor_login=actor_user.login if actor_user else (actor.sub if actor else CLI),
                           action=action, target_id=target.id if target else None,
                           target_login=target.login if target else None, detail=detail))


def _unlock(session: Session, actor: Principal, user: User) -> None:
    """Lift the brute-force protection's lock (and its delays) on the account's login name."""
    row = _locks(session, [user]).get(_login_key(user))
    if row is None or (not row.failures and locked_until(row) is None):
        raise Problem(status=409, code="account_not_locked",
                      detail="Ce compte n'est pas verrouillé : aucune tentative de connexion échouée n'est comptée.")
    was_locked = locked_until(row)
    throttle.clear(session, _login_key(user))
    record(session, actor, "account.unlocked", user, failures=row.failures,
           locked_until=clock.iso(was_locked))
    session.flush()


def _set_active(session: Session, actor: Principal, user: User, active: bool) -> None:
    if str(user.id) == actor.sub:
        raise Problem(status=409, code="own_account",
                      detail=OWN_ACCOUNT)
    if user.active == active:
        raise Problem(status=409, code="already_active" if active else "already_disabled",
                      detail="Ce compte est déjà actif." if active else "Ce compte est déjà désactivé.")
    user.active = active
    if not active:
        # A disabled account keeps no session and no pending link (reset or confirmation).
        sessions.revoke_all(session, user.id)
        links.forget_user(session, user.id)
    session.flush()
    events.user_updated(session, user, ["active"])
    record(session, actor, "account.enabled" if active else "account.disabled", user)


def _create_staff(identity: Identity, session: Session, actor: Principal | None, body: dict) -> User:
    """A support agent or platform administrator, with registration's rules for the login and the password;
    the e-mail is vouched for by the administrator (or the operator at the command line)."""
    role = body["role"]
    if role not in STAFF_ROLES:
        raise Problem(status=422, code="role_invalid", detail="Le rôle doit être agent du support ou administrateur.",
                      errors=[FieldError("role", "Rôle invalide.")])
    person = {key: (body.get(key) or "").strip() for key in ("email", "first_name", "last_name")}
    missing = [FieldError(key, "Ce champ est obligatoire.") for key, value in person.items() if not value]
    if missing:
        raise Problem(status=400, code="validation_failed",
                      detail="Certaines données sont invalides. Corrigez les champs signalés.", errors=missing)
    login, email = validate_credentials(identity, body, person, prefix="")
    taken = [FieldError(field, message) for field, value, message in (
        ("login", login, "Identifiant déjà utilisé."), ("email", email, "Adresse déjà utilisée."))
        if session.execute(select(User.id).where(getattr(User, field) == value)).first()]
    if taken:
        raise Problem(status=409, code="account_exists",
                      detail="Un compte existe déjà avec cet identifiant ou cette adresse électronique.",
                      errors=taken)
    moment = clock.now()
    user = User(login=login, email=email, first_name=person["first_name"], last_name=person["last_name"],
                password_hash=identity.hasher.hash(body["password"]), roles=[role], phone=None,
                email_verified_at=moment, activated_at=moment)
    session.add(user)
    session.flush()
    record(session, actor, "account.created", user, role=role)
    return user


# --- the administrators' use cases: each checks the role, works in one transaction, commits, and answers the
# account as the administrators' pages show it.

def unlock(uow: UnitOfWork, actor: Principal, user_id: uuid.UUID) -> dict:
    """« Déverrouiller »: the brute-force lock on the account's login lifted."""
    require_admin(actor)
    with uow:
        user = get(uow.session, user_id)
        _unlock(uow.session, actor, user)
        answer = view(uow.session, user)
        uow.commit()
    return answer


def set_active(uow: UnitOfWork, actor: Principal, user_id: uuid.UUID, active: bool) -> dict:
    """« Désactiver » / « Réactiver » an account (never one's own); a disabled account keeps no session."""
    require_admin(actor)
    with uow:
        user = get(uow.session, user_id)
        _set_active(uow.session, actor, user, active)
        answer = view(uow.session, user)
        uow.commit()
    return answer


def create_staff(uow: UnitOfWork, identity: Identity, actor: Principal | None, body: dict) -> dict:
    """A support agent or platform administrator created by an administrator (``actor``), or by the operator at
    the command line (``actor`` None: the audit log names « cli »)."""
    if actor is not None:
        require_admin(actor)
    with uow:
        user = _create_staff(identity, uow.session, actor, body)
        answer = view(uow.session, user)
        uow.commit()
    return answer


def audit_log(session: Session, *, target_id: uuid.UUID | None = None, limit: int = 50,
              cursor: str | None = None) -> dict:
    query = select(AuditEntry)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    rows, following = keyset_page(session, query, keys=(AuditEntry.at, AuditEntry.id), limit=limit, cursor=cursor,
                                  descending=True)
    return {"items": [{"id": str(r.id), "at": clock.iso(r.at), "actor_login": r.actor_login,
                       "actor_id": str(r.actor_id) if r.actor_id else None, "action": r.action,
                       "target_id": str(r.target_id) if r.target_id else None, "target_login": r.target_login,
                       "detail": r.detail or {}} for r in rows],
            "next_cursor": following}

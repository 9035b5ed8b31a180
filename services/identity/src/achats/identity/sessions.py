"""Logins, refresh-token rotation (single use, reuse revokes the family), logout, client credentials."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from achats.chassis import clock
from achats.chassis.db import Database, UnitOfWork
from achats.chassis.problems import Problem

from . import events, throttle
from .keys import KeyRing
from .models import OAuthClient, RefreshToken, User
from .passwords import Hasher
from .settings import IdentitySettings

INVALID_CREDENTIALS = "Identifiant ou mot de passe incorrect."
EMAIL_NOT_VERIFIED = ("Votre adresse électronique n'est pas encore confirmée : ouvrez le lien du courriel de "
                      "confirmation, ou demandez un nouveau courriel.")
TOO_MANY = "Trop de tentatives de connexion. Veuillez réessayer dans {wait}."


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Identity:
    """The composition root's view of identity: what the use cases need."""

    settings: IdentitySettings
    db: Database
    keys: KeyRing
    hasher: Hasher

    def __post_init__(self) -> None:
        self._service_token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    @property
    def login_policy(self) -> throttle.Policy:
        s = self.settings
        return throttle.Policy(s.login_delay_after, s.login_lock_after, s.login_lock_seconds,
                               s.failure_window_seconds)

    @property
    def address_policy(self) -> throttle.Policy:
        s = self.settings
        return throttle.Policy(s.ip_delay_after, s.ip_lock_after, s.ip_lock_seconds, s.failure_window_seconds)

    def access_token(self, user: User, family_id: uuid.UUID | None) -> str:
        claims = {"sub": str(user.id), "roles": list(user.roles),
                  "company_id": str(user.company_id) if user.company_id else None,
                  "company_name": user.company_name,
                  "establishment_id": str(user.establishment_id) if user.establishment_id else None,
                  "email": user.email, "email_verified": user.email_verified_at is not None,
                  "name": f"{user.first_name} {user.last_name}", "given_name": user.first_name,
                  "family_name": user.last_name, "preferred_username": user.login}
        if family_id is not None:
            claims["sid"] = str(family_id)
        s = self.settings
        return self.keys.sign(claims, ttl=s.access_token_ttl, issuer=s.issuer, audience=s.audience)

    def service_token(self) -> str:
        """Identity's own token for its calls to other services (signed here, no round trip)."""
        with self._lock:
            if self._service_token and self._service_token[1] > time.monotonic():
                return self._service_token[0]
            s = self.settings
            token = self.keys.sign({"sub": "identity", "roles": ["service"], "client_id": "identity"},
                                   ttl=s.service_token_ttl, issuer=s.issuer, audience=s.audience)
            self._service_token = (token, time.monotonic() + s.service_token_ttl - 60)
            return token


def _tokens(identity: Identity, session: Session, user: User, *, family_id: uuid.UUID,
            session_expires_at: datetime) -> dict:
    s = identity.settings
    raw = secrets.token_urlsafe(32)
    expires_at = min(clock.now() + timedelta(seconds=s.refresh_token_ttl), session_expires_at)
    session.add(RefreshToken(token_hash=digest(raw), family_id=family_id, user_id=user.id, expires_at=expires_at,
                             session_expires_at=session_expires_at))
    return {"access_token": identity.access_token(user, family_id), "token_type": "Bearer",
            "expires_in": s.access_token_ttl, "refresh_token": raw,
            "refresh_expires_in": max(0, int((expires_at - clock.now()).total_seconds()))}


def _throttled(verdicts: list[throttle.Verdict]) -> Problem | None:
    blocked = [v for v in verdicts if not v.allowed]
    if not blocked:
        return None
    wait = throttle.announced_wait(max(v.retry_after for v in blocked))
    return Problem(status=429, code="too_many_attempts", detail=TOO_MANY.format(wait=throttle.spoken_wait(wait)),
                   headers={"Retry-After": str(wait)})


def login(uow: UnitOfWork, identity: Identity, *, login: str, password: str, address: str) -> dict:
    """Tokens for a right login and password; the same 401 for a wrong password or an unknown login."""
    name = login.strip().lower()
    keys = (f"login:{name}", f"ip:{address}")
    identity.keys.active()  # the signing key is loaded before the transaction (SQLite has one writer)
    with uow:
        refused = _throttled(throttle.check(uow.session, *keys))
        if refused is not None:
            raise refused
        user = uow.session.execute(select(User).where(User.login == name)).scalar_one_or_none()
        usable = user is not None and user.active
        # One hash whatever happens: an unknown login costs the same time as a wrong password.
        if not identity.hasher.verify(user.password_hash if usable else None, password):
            newly_locked = throttle.record_failure(uow.session, keys[0], identity.login_policy)
            throttle.record_failure(uow.session, keys[1], identity.address_policy)
            if newly_locked and usable:
                events.user_locked(uow.session, user,
                                   clock.now() + timedelta(seconds=identity.settings.login_lock_seconds))
            uow.commit()
            raise Problem(status=401, code="invalid_credentials", detail=INVALID_CREDENTIALS)
        if user.activated_at is None:
            # The right password of an account whose e-mail was never confirmed: refused, and nothing
            # changes (no failure counted, no throttle cleared, no session).
            raise Problem(status=403, code="email_not_verified", detail=EMAIL_NOT_VERIFIED)
        throttle.clear(uow.session, keys[0])
        if identity.hasher.needs_rehash(user.password_hash):
            user.password_hash = identity.hasher.hash(password)
        tokens = _tokens(identity, uow.session, user, family_id=uuid.uuid4(),
                         session_expires_at=clock.now() + timedelta(seconds=identity.settings.session_max_age))
        uow.commit()
        return tokens


def refresh(uow: UnitOfWork, identity: Identity, raw: str) -> dict:
    invalid = Problem(status=401, code="refresh_token_invalid",
                      detail="Votre session a expiré. Veuillez vous reconnecter.")
    identity.keys.active()
    moment = clock.now()
    with uow:
        session = uow.session
        # The hot path in one statement: spend the token if it is still spendable. Whoever spends it
        # first wins; a second use (a replay, or a thief) finds it spent below.
        spent = session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == digest(raw), RefreshToken.used_at.is_(None),
                   RefreshToken.revoked_at.is_(None), RefreshToken.expires_at > moment)
            .values(used_at=moment)
            .returning(RefreshToken.family_id, RefreshToken.user_id, RefreshToken.session_expires_at)
        ).first()
        if spent is None:
            row = session.execute(select(RefreshToken.family_id, RefreshToken.used_at, RefreshToken.revoked_at)
                                  .where(RefreshToken.token_hash == digest(raw))).first()
            if row is not None and row.used_at is not None and row.revoked_at is None:
                # A used token again: stolen or replayed. End the whole session, for both holders.
                revoke_family(session, row.family_id)
                uow.commit()
                raise Problem(status=401, code="refresh_token_reused",
                              detail="Votre session a été fermée par sécurité. Veuillez vous reconnecter.")
            raise invalid
        user = session.get(User, spent.user_id)
        if user is None or not user.active:
            raise invalid
        tokens = _tokens(identity, session, user, family_id=spent.family_id,
                         session_expires_at=spent.session_expires_at)
        uow.commit()
        return tokens


def revoke_family(session: Session, family_id: uuid.UUID) -> None:
    session.execute(update(RefreshToken).where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=clock.now()))


def revoke_all(session: Session, user_id: uuid.UUID, *, keep_family: uuid.UUID | None = None) -> None:
    query = update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
    if keep_family is not None:
        query = query.where(RefreshToken.family_id != keep_family)
    session.execute(query.values(revoked_at=clock.now()))


def logout(uow: UnitOfWork, identity: Identity, raw: str) -> None:
    with uow:
        row = uow.session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == digest(raw))).scalar_one_or_none()
        if row is not None:
            revoke_family(uow.session, row.family_id)
            uow.commit()


def client_credentials(uow: UnitOfWork, identity: Identity, *, client_id: str, client_secret: str) -> dict:
    with uow:
        session = uow.session
        client = session.get(OAuthClient, client_id)
        stored = client.secret_hash if client is not None and client.active else None
        roles = list(client.roles) if client is not None else []
    if not identity.hasher.verify(stored, client_secret):
        raise Problem(status=401, code="invalid_client", detail="Client inconnu ou secret incorrect.",
                      headers={"WWW-Authenticate": 'Basic realm="identity"'}, extra={"error": "invalid_client"})
    s = identity.settings
    token = identity.keys.sign({"sub": client_id, "client_id": client_id, "roles": roles or ["service"]},
                               ttl=s.service_token_ttl, issuer=s.issuer, audience=s.audience)
    return {"access_token": token, "token_type": "Bearer", "expires_in": s.service_token_ttl}


def create_client(uow: UnitOfWork, identity: Identity, client_id: str, secret: str,
                  roles: list[str] | None = None) -> None:
    with uow:
        client = uow.session.get(OAuthClient, client_id)
        if client is None:
            client = OAuthClient(client_id=client_id, secret_hash="", roles=[])
            uow.session.add(client)
        client.secret_hash, client.roles, client.active = identity.hasher.hash(secret), roles or ["service"], True
        uow.commit()

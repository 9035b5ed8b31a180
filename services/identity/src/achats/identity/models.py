"""Tables of the identity service."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from achats.chassis.db import MODEL_TYPES, utcnow


class Base(DeclarativeBase):
    type_annotation_map = MODEL_TYPES


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    login: Mapped[str] = mapped_column(String(100), unique=True)  # stored lower case
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower case
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30))
    fax: Mapped[str | None] = mapped_column(String(30))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list] = mapped_column(default=list)
    company_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    # The registry's name of the company, copied at registration and kept by its company.updated
    # events: the access token's company_name claim, without a call to the registry at each login.
    company_name: Mapped[str | None] = mapped_column(String(200))
    establishment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    email_verified_at: Mapped[datetime | None]
    # The first confirmation of an e-mail address (or the operator's, for staff): no login before it. A
    # later change of address unverifies the e-mail (email_verified_at) but does not lock the account out.
    activated_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_company_admin(self) -> bool:
        return "supplier_admin" in (self.roles or [])


class RefreshToken(Base):
    """One link of a session's chain of single-use refresh tokens (stored hashed)."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    session_expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SigningKey(Base):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(10))
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class OneTimeLink(Base):
    """Password reset and e-mail verification links: single use, expiring, stored hashed."""

    __tablename__ = "one_time_links"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    purpose: Mapped[str] = mapped_column(String(20))  # password_reset | email_verification
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Throttle(Base):
    """Failed logins of one login name or one source address, for brute-force protection."""

    __tablename__ = "throttles"

    # login:<name> | ip:<address> | registration-notice:<user id> (one mail an hour, see registration)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_allowed_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]


class OAuthClient(Base):
    """A service allowed to get tokens by client credentials (OAuth2); the table keeps its first name.

    Not `achats.chassis.http.ServiceClient`, the HTTP client services call each other with."""

    __tablename__ = "service_clients"

    client_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AuditEntry(Base):
    """One action of the platform's staff on accounts (who, what, when), for the administrators to read."""

    __tablename__ = "audit_log"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The actor's id and login as they were (the row outlives the account); "cli" for the command line.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_login: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))  # account.unlocked | account.disabled | ...
    target_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    target_login: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict] = mapped_column(default=dict)

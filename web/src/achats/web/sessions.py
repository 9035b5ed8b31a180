"""The browser session: an opaque random id in an HttpOnly cookie; the identity tokens stay in the database.

The page never sees a token (no JavaScript can read one); the cookie alone is worth nothing without
this table, which stores only the id's SHA-256. Every POST form carries a CSRF token, an HMAC of the
session id (or, before login, of a random pre-session cookie) under the app's secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import flask
import structlog
from sqlalchemy import delete

from achats.chassis.app import current_runtime
from achats.chassis.db import utcnow

from . import deps
from .models import BrowserSession

log = structlog.get_logger(__name__)

COOKIE = "achats_session"
CSRF_COOKIE = "achats_csrf"
# Refresh a little before the access token's end: a request never leaves with a token about to die.
REFRESH_MARGIN = timedelta(seconds=15)


@dataclass(frozen=True)
class User:
    """Who is logged in, from the access token's claims."""

    sub: str
    name: str
    email: str
    login: str
    company_id: str | None
    roles: tuple[str, ...]

    @classmethod
    def from_claims(cls, claims: dict) -> User:
        return cls(sub=str(claims.get("sub", "")), name=claims.get("name") or claims.get("preferred_username") or "",
                   email=claims.get("email") or "", login=claims.get("preferred_username") or "",
                   company_id=claims.get("company_id"), roles=tuple(claims.get("roles") or ()))


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _settings():
    return current_runtime().settings


def _identity():
    return deps.current().identity


def _verify(access_token: str) -> dict:
    verifier = current_runtime().verifier
    if verifier is None:
        raise RuntimeError("JWKS_URL is not set: the web front end cannot check identity's tokens")
    return verifier.verify(access_token)


def set_cookie(response: flask.Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="Lax", path="/",
                        secure=_settings().cookie_secure)


def start(tokens: dict) -> tuple[str, User]:
    """A new session for identity's fresh tokens; returns the cookie's value and the user."""
    claims = _verify(tokens["access_token"])
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    with current_runtime().db.unit_of_work() as uow:
        uow.session.add(BrowserSession(
            id_hash=_hash(session_id), access_token=tokens["access_token"], refresh_token=tokens.get("refresh_token"),
            access_expires_at=now + timedelta(seconds=int(tokens.get("expires_in", 0))), claims=claims,
            created_at=now, last_seen_at=now))
        uow.commit()
    return session_id, User.from_claims(claims)


def current() -> tuple[BrowserSession, User] | None:
    """The request's session (refreshed if its access token expired), or None; cached on ``flask.g``."""
    if "achats_session" in flask.g:
        return flask.g.achats_session
    flask.g.achats_session = found = _load(flask.request.cookies.get(COOKIE))
    return found


# The roles of the back office (support agents, platform administrators): their sessions end sooner when unused.
STAFF_ROLES = ("support_agent", "platform_admin")


def idle_limit(settings, claims: dict) -> int:
    """How long (seconds) this session may stay unused: ``STAFF_SESSION_IDLE_SECONDS`` for the back office's roles
    (never longer than everyone's ``SESSION_IDLE_SECONDS``), else ``SESSION_IDLE_SECONDS``."""
    if set(claims.get("roles") or ()) & set(STAFF_ROLES):
        return min(settings.staff_session_idle_seconds, settings.session_idle_seconds)
    return settings.session_idle_seconds


def _load(session_id: str | None) -> tuple[BrowserSession, User] | None:
    if not session_id:
        return None
    settings = _settings()
    now = utcnow()
    with current_runtime().db.unit_of_work() as uow:
        row = uow.session.get(BrowserSession, _hash(session_id))
        if row is None:
            return None
        if now - row.last_seen_at > timedelta(seconds=idle_limit(settings, row.claims)):
            log.info("web.session_idle_expired")
            uow.session.delete(row)
            uow.commit()
            return None
        if now + REFRESH_MARGIN >= row.access_expires_at and not _refresh(row, now):
            uow.session.delete(row)
            uow.commit()
            return None
        row.last_seen_at = now
        uow.commit()
        uow.session.expunge(row)
        return row, User.from_claims(row.claims)


def _refresh(row: BrowserSession, now) -> bool:
    if not row.refresh_token:
        return False
    response = _identity().post("/identity/sessions/refresh", json={"refresh_token": row.refresh_token}, retry=False)
    if response.status_code != 200:
        log.info("web.session_refresh_refused", status=response.status_code)
        return False
    tokens = response.json()
    row.access_token = tokens["access_token"]
    row.refresh_token = tokens.get("refresh_token")
    row.access_expires_at = now + timedelta(seconds=int(tokens.get("expires_in", 0)))
    row.claims = _verify(tokens["access_token"])
    return True


def access_token() -> str | None:
    found = current()
    return found[0].access_token if found else None


def end(session_id: str | None) -> None:
    """Log out: the refresh token is revoked at identity, the row deleted."""
    if not session_id:
        return
    with current_runtime().db.unit_of_work() as uow:
        row = uow.session.get(BrowserSession, _hash(session_id))
        if row is not None:
            if row.refresh_token:
                _identity().post("/identity/sessions/logout", json={"refresh_token": row.refresh_token}, retry=False)
            uow.session.execute(delete(BrowserSession).where(BrowserSession.id_hash == row.id_hash))
            uow.commit()
    flask.g.achats_session = None


# --- CSRF ---------------------------------------------------------------------------------------------

def _csrf_seed(create: bool) -> str | None:
    session_id = flask.request.cookies.get(COOKIE) if current() else None
    if session_id:
        return "s:" + session_id
    seed = flask.g.get("csrf_new_seed") or flask.request.cookies.get(CSRF_COOKIE)
    if not seed and create:
        seed = flask.g.csrf_new_seed = secrets.token_urlsafe(24)
    return "a:" + seed if seed else None


def csrf_token() -> str:
    seed = _csrf_seed(create=True)
    return hmac.new(_settings().secret_key.encode(), seed.encode(), hashlib.sha256).hexdigest()


def csrf_valid() -> bool:
    sent = flask.request.form.get("csrf_token", "")
    seed = _csrf_seed(create=False)
    if not sent or not seed:
        return False
    expected = hmac.new(_settings().secret_key.encode(), seed.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(sent, expected)


def after_request(response: flask.Response) -> flask.Response:
    """Hand the browser the pre-session cookie a rendered form's CSRF token was made from."""
    if flask.g.get("csrf_new_seed"):
        set_cookie(response, CSRF_COOKIE, flask.g.csrf_new_seed)
    return response

"""JWT bearer verification against identity's JWKS (cached, rotation-aware) and connexion glue."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import jwt
import requests
import structlog

from achats.chassis.problems import Problem

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
ASYMMETRIC_ALGORITHMS = frozenset({
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "ES256K", "EdDSA",
})

_INVALID_TOKEN_HEADERS = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
DETAIL_MISSING = "Vous devez être connecté pour accéder à cette ressource."
DETAIL_INVALID = "Jeton d'authentification invalide."
DETAIL_EXPIRED = "Votre session a expiré. Veuillez vous reconnecter."
DETAIL_UNKNOWN_KEY = "Jeton d'authentification invalide : clé de signature inconnue."
DETAIL_JWKS_UNAVAILABLE = ("Le service d'authentification est momentanément indisponible. "
                           "Veuillez réessayer plus tard.")
DETAIL_FORBIDDEN = "Vous n'avez pas les droits nécessaires pour cette action."


class JWKSUnavailable(Exception):
    """The JWKS could not be fetched and no key is cached."""


class UnknownKey(Exception):
    """No key with this kid, even after an allowed refetch."""


def _http_fetch(url: str) -> dict[str, Any]:
    response = requests.get(url, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                            headers={"Accept": "application/json"})
    response.raise_for_status()
    return response.json()


def _parse_jwks(data: Any) -> dict[str, jwt.PyJWK]:
    """Usable asymmetric signing keys by kid; raises if there is none."""
    if not isinstance(data, dict):
        raise TypeError("JWKS is not a JSON object")
    keys: dict[str, jwt.PyJWK] = {}
    for key in jwt.PyJWKSet.from_dict(data):
        kid = key.key_id
        if not isinstance(kid, str) or not kid or key.public_key_use not in (None, "sig"):
            continue
        if key.algorithm_name not in ASYMMETRIC_ALGORITHMS:  # e.g. an "oct" (HMAC) key: never trusted
            continue
        keys[kid] = key
    if not keys:
        raise ValueError("JWKS holds no usable signing key with a kid")
    return keys


class JWKSCache:
    """Keys by kid from a JWKS URL: refreshed after ``ttl``; an unknown kid triggers one refetch.

    Fetch attempts (of any cause) are spaced by at least ``min_refetch_interval`` so bogus kids
    cannot hammer identity; when a refetch fails the cached keys keep being served.
    """

    def __init__(self, jwks_url: str, *, ttl: float = 300.0, min_refetch_interval: float = 10.0,
                 clock: Callable[[], float] = time.monotonic,
                 fetch: Callable[[str], dict[str, Any]] | None = None) -> None:
        self.jwks_url = jwks_url
        self.ttl = ttl
        self.min_refetch_interval = min_refetch_interval
        self._clock = clock
        self._fetch = fetch or _http_fetch
        self._lock = threading.Lock()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last attempt, successful or not

    def get_key(self, kid: str) -> jwt.PyJWK:
        """The key for ``kid``; raises UnknownKey or JWKSUnavailable."""
        with self._lock:
            now = self._clock()
            refreshed = False
            if self._fetched_at is None or now - self._fetched_at >= self.ttl:
                refreshed = self._refresh(now)
            key = self._keys.get(kid)
            if key is None and not refreshed:
                self._refresh(now)  # key rotation: the new kid may just have been published
                key = self._keys.get(kid)
            if key is None:
                if not self._keys:
                    raise JWKSUnavailable(self.jwks_url)
                raise UnknownKey(kid)
            return key

    def kids(self) -> set[str]:
        with self._lock:
            return set(self._keys)

    def _refresh(self, now: float) -> bool:
        """Fetch unless throttled; True if an attempt was made. Keeps cached keys on failure."""
        if self._attempted_at is not None and now - self._attempted_at < self.min_refetch_interval:
            return False
        self._attempted_at = now
        try:
            keys = _parse_jwks(self._fetch(self.jwks_url))
        except Exception as exc:
            if self._keys:
                log.warning("jwks_refresh_failed", url=self.jwks_url, error=repr(exc),
                            cached_kids=sorted(self._keys))
            else:
                log.error("jwks_unavailable", url=self.jwks_url, error=repr(exc))
            return True
        self._keys = keys
        self._fetched_at = now
        log.info("jwks_refreshed", url=self.jwks_url, kids=sorted(keys))
        return True


def _unauthorized(code: str, detail: str) -> Problem:
    return Problem(status=401, code=code, detail=detail, headers=dict(_INVALID_TOKEN_HEADERS))


class TokenVerifier:
    """Verifies access tokens: asymmetric signature from the JWKS, exp/sub/kid required, iss/aud if set."""

    def __init__(self, jwks: JWKSCache, *, issuer: str | None = None, audience: str | None = None,
                 algorithms: Iterable[str] = ("RS256", "ES256", "EdDSA"), leeway: float = 30.0) -> None:
        algs = tuple(algorithms)
        unsafe = [a for a in algs if a not in ASYMMETRIC_ALGORITHMS]
        if unsafe or not algs:
            raise ValueError(f"only asymmetric algorithms are allowed, got {unsafe or 'none'}")
        self.jwks = jwks
        self.issuer = issuer
        self.audience = audience
        self.algorithms = algs
        self.leeway = leeway

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or raise Problem (401 token_*, 503 jwks_unavailable)."""
        if not isinstance(token, str) or not token.strip():
            raise Problem(status=401, code="token_missing", detail=DETAIL_MISSING,
                          headers={"WWW-Authenticate": "Bearer"})
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, ValueError, TypeError):
            raise _unauthorized("token_invalid", DETAIL_INVALID) from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self.algorithms or not isinstance(kid, str) or not kid:
            raise _unauthorized("token_invalid", DETAIL_INVALID)
        try:
            key = self.jwks.get_key(kid)
        except UnknownKey:
            raise _unauthorized("token_unknown_key", DETAIL_UNKNOWN_KEY) from None
        except JWKSUnavailable:
            raise Problem(status=503, code="jwks_unavailable", detail=DETAIL_JWKS_UNAVAILABLE) from None
        try:
            claims = jwt.decode(
                token, key, algorithms=list(self.algorithms), issuer=self.issuer, audience=self.audience,
                leeway=self.leeway,
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise _unauthorized("token_expired", DETAIL_EXPIRED) from None
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            log.debug("token_rejected", reason=type(exc).__name__, kid=kid)
            raise _unauthorized("token_invalid", DETAIL_INVALID) from None
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise _unauthorized("token_invalid", DETAIL_INVALID)
        return claims


# --- the app's verifier and connexion glue ---------------------------------------------------

# The verifier of the app serving the current request: the chassis middleware sets it from the service's
# ``Runtime.verifier`` on every request, so several services in one process (the all-in-one launcher,
# tests) each keep their own. It is the one way ``bearer_info`` finds a verifier, in tests as in production.
request_verifier: ContextVar[TokenVerifier | None] = ContextVar("achats_request_verifier", default=None)


def verifier_from_settings(settings: Any) -> TokenVerifier | None:
    """The verifier of a service configured with ``JWKS_URL`` (identity's JWKS), its issuer and audience;
    None when the service has no JWKS URL (its secured operations then answer 503)."""
    if not settings.jwks_url:
        return None
    return TokenVerifier(JWKSCache(settings.jwks_url), issuer=settings.jwt_issuer or None,
                         audience=settings.jwt_audience or None)


async def bearer_info(token: str) -> dict[str, Any]:
    """connexion ``x-bearerInfoFunc``: the verified claims, or raise Problem (401/503).

    connexion calls it on the event loop and awaits it. Verification may have to fetch the JWKS
    (a new key, an expired cache): that happens in a worker thread, so one slow identity service
    never stalls the loop that serves every other request of the process (in the all-in-one
    launcher, identity itself answers on that same loop).
    """
    verifier = request_verifier.get()
    if verifier is None:
        # No JWKS configured (identity absent): nobody can be authenticated, which is not a crash.
        log.error("security.no_verifier")
        raise Problem(status=503, code="authentication_unavailable", detail=DETAIL_JWKS_UNAVAILABLE)
    return await asyncio.to_thread(verifier.verify, token)


def _roles_of(claims: Mapping[str, Any]) -> tuple[str, ...]:
    roles = claims.get("roles") or ()
    if isinstance(roles, str):
        roles = roles.split()
    if not isinstance(roles, (list, tuple, set, frozenset)):
        return ()
    return tuple(r for r in roles if isinstance(r, str))


def require_roles(claims: Mapping[str, Any], *roles: str) -> None:
    """Raise Problem 403 ``forbidden`` unless the token holds at least one of ``roles``."""
    if not roles:
        raise ValueError("require_roles needs at least one role")
    if not set(_roles_of(claims)) & set(roles):
        raise Problem(status=403, code="forbidden", detail=DETAIL_FORBIDDEN)


@dataclass(frozen=True)
class Principal:
    """Who is calling, from verified claims."""

    sub: str
    roles: tuple[str, ...] = ()
    company_id: str | None = None
    establishment_id: str | None = None
    email: str | None = None
    name: str | None = None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Principal:
        def opt(name: str) -> str | None:
            value = claims.get(name)
            return None if value is None else str(value)

        return cls(sub=str(claims["sub"]), roles=_roles_of(claims), company_id=opt("company_id"),
                   establishment_id=opt("establishment_id"), email=opt("email"), name=opt("name"))

    def has_role(self, *roles: str) -> bool:
        return bool(set(self.roles) & set(roles))

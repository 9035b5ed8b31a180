"""Edge authentication: bearer tokens verified against identity's JWKS; browser sessions in cookies."""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from http.cookies import SimpleCookie

from achats.chassis.problems import Problem
from achats.chassis.security import TokenVerifier

ACCESS_COOKIE, REFRESH_COOKIE, CSRF_COOKIE = "achats_access", "achats_refresh", "achats_csrf"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class Verified:
    """Verified tokens kept until they expire: a client's every request costs one dictionary lookup."""

    def __init__(self, verifier: TokenVerifier, size: int = 20_000):
        self.verifier = verifier
        self.size = size
        self._claims: dict[str, dict] = {}

    async def claims(self, token: str) -> dict:
        cached = self._claims.get(token)
        if cached is not None and cached.get("exp", 0) > time.time():
            return cached
        # A JWKS fetch may happen: never on the event loop.
        claims = await asyncio.to_thread(self.verifier.verify, token)
        if len(self._claims) >= self.size:
            self._claims.clear()
        self._claims[token] = claims
        return claims


def cookies_of(headers: dict[str, str]) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is no session at all
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def bearer_of(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    return value[7:].strip() if value[:7].lower() == "bearer " else None


def check_csrf(method: str, headers: dict[str, str], cookies: dict[str, str]) -> None:
    """Double submit: a cookie-authenticated write must echo the CSRF cookie in a header."""
    if method not in UNSAFE:
        return
    expected, given = cookies.get(CSRF_COOKIE, ""), headers.get("x-csrf-token", "")
    if not expected or not hmac.compare_digest(expected, given):
        raise Problem(status=403, code="csrf_failed",
                      detail="La requête n'a pas pu être vérifiée. Rechargez la page et réessayez.")


def session_cookies(tokens: dict, *, secure: bool, csrf: str | None = None) -> tuple[list[str], str]:
    """Set-Cookie values for a logged-in browser, and its CSRF token."""
    csrf = csrf or secrets.token_urlsafe(24)
    flags = "; Secure" if secure else ""
    cookies = [
        f"{ACCESS_COOKIE}={tokens['access_token']}; Path=/api; HttpOnly; SameSite=Lax; "
        f"Max-Age={tokens['expires_in']}{flags}",
        f"{CSRF_COOKIE}={csrf}; Path=/; SameSite=Lax; Max-Age={tokens.get('refresh_expires_in', 1800)}{flags}",
    ]
    if tokens.get("refresh_token"):
        cookies.append(f"{REFRESH_COOKIE}={tokens['refresh_token']}; Path=/api; HttpOnly; SameSite=Strict; "
                       f"Max-Age={tokens.get('refresh_expires_in', 1800)}{flags}")
    return cookies, csrf


def cleared_cookies(*, secure: bool) -> list[str]:
    flags = "; Secure" if secure else ""
    return [f"{ACCESS_COOKIE}=; Path=/api; HttpOnly; SameSite=Lax; Max-Age=0{flags}",
            f"{REFRESH_COOKIE}=; Path=/api; HttpOnly; SameSite=Strict; Max-Age=0{flags}",
            f"{CSRF_COOKIE}=; Path=/; SameSite=Lax; Max-Age=0{flags}"]

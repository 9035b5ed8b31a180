"""Edge authentication: bearer tokens verified against identity's JWKS (browser sessions are the web front end's)."""

from __future__ import annotations

import asyncio
import time

from achats.chassis.security import TokenVerifier


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


def bearer_of(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    return value[7:].strip() if value[:7].lower() == "bearer " else None

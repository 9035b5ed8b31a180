"""Rate limits per address, per user and, on sensitive routes, per target: fixed one-minute windows,
in Redis when shared by workers."""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from dataclasses import dataclass

import structlog
from babel.units import format_unit

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0


class MemoryCounter:
    """One process's counts: the embedded mode, or a single gateway worker."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = asyncio.Lock()

    async def hit(self, key: str, window: int) -> int:
        slot = int(time.time()) // window
        async with self._lock:
            current_slot, count = self._counts.get(key, (slot, 0))
            count = count + 1 if current_slot == slot else 1
            self._counts[key] = (slot, count)
            if len(self._counts) > 100_000:  # forget the previous windows
                self._counts = {k: v for k, v in self._counts.items() if v[0] == slot}
            return count


class RedisCounter:
    """Counts shared by every worker and replica (INCR + EXPIRE in one round trip)."""

    def __init__(self, url: str):
        import redis.asyncio as redis

        self.redis = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.fallback = MemoryCounter()

    async def hit(self, key: str, window: int) -> int:
        slot = int(time.time()) // window
        name = f"achats:rate:{key}:{slot}"
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.incr(name)
                pipe.expire(name, window + 1)
                count, _ = await pipe.execute()
            return int(count)
        except Exception as exc:  # Redis down: keep limiting, per process, rather than fail open or closed
            log.warning("ratelimit.redis_unavailable", error=repr(exc))
            return await self.fallback.hit(key, window)


class RateLimiter:
    """A sensitive route is limited the way Keycloak protects accounts: few attempts a minute on one
    target (an identifiant, an e-mail, a SIRET named in the request), many from one address (an office
    behind one NAT address registers its colleagues; a robot spraying many targets meets the ceiling)."""

    def __init__(self, counter: MemoryCounter | RedisCounter, *, per_ip: int, per_user: int,
                 sensitive_per_target: int, sensitive_per_address: int):
        self.counter = counter
        self.per_ip, self.per_user = per_ip, per_user
        self.per_target, self.per_address = sensitive_per_target, sensitive_per_address

    async def check(self, *, address: str, user: str | None, sensitive: bool, route: str,
                    targets: tuple[str, ...] = ()) -> Decision:
        checks = [(f"ip:{address}", self.per_ip)]
        if user:
            checks.append((f"user:{user}", self.per_user))
        if sensitive:
            checks.append((f"sensitive:{route}:ip:{address}", self.per_address))
            # A request naming no target is its caller's own: the user's, or else the address's.
            for target in targets or ((f"user:{user}",) if user else (f"ip:{address}",)):
                checks.append((f"sensitive:{route}:target:{_digest(target)}", self.per_target))
        for key, limit in checks:
            if await self.counter.hit(key, 60) > limit:
                return Decision(False, retry_after=60 - int(time.time()) % 60)
        return Decision(True)


def _digest(target: str) -> str:
    # Identifiants and e-mails are personal data: the counters' keys never show them.
    return hashlib.sha256(target.encode()).hexdigest()[:32]


def announced_wait(seconds: float) -> int:
    """The wait told to the person and in ``Retry-After``, one number for both: exact seconds under a
    minute, else whole minutes rounded up (never shorter than the real wait)."""
    seconds = max(1, math.ceil(seconds))
    return seconds if seconds < 60 else math.ceil(seconds / 60) * 60


def spoken_wait(seconds: int) -> str:
    """« 1 seconde », « 40 secondes », « 1 minute », « 2 minutes »: CLDR's French plurals (Babel)."""
    if seconds < 60:
        return format_unit(seconds, "duration-second", length="long", locale="fr")
    return format_unit(seconds // 60, "duration-minute", length="long", locale="fr")

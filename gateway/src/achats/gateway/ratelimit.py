"""Rate limits per address and per user: fixed one-minute windows, in Redis when shared by workers."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import structlog

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
    def __init__(self, counter: MemoryCounter | RedisCounter, *, per_ip: int, per_user: int, sensitive: int):
        self.counter = counter
        self.per_ip, self.per_user, self.sensitive = per_ip, per_user, sensitive

    async def check(self, *, address: str, user: str | None, sensitive: bool, route: str) -> Decision:
        checks = [(f"ip:{address}", self.per_ip)]
        if user:
            checks.append((f"user:{user}", self.per_user))
        if sensitive:
            checks.append((f"sensitive:{route}:{address}", self.sensitive))
        for key, limit in checks:
            if await self.counter.hit(key, 60) > limit:
                return Decision(False, retry_after=60 - int(time.time()) % 60)
        return Decision(True)

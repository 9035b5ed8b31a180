"""Client of the INSEE Sirene 3.11 API: limiter, cache, coalescing, retries, breaker, maintenance switch.

Where the shared state lives: in this service's own database, so that every worker and every
replica sees the same. The limiter is a sliding window of the calls of the last minute (table
``insee_calls``, serialised by a row lock on ``insee_limiter``): never more than the limit in any
60 s. The cache is ``insee_cache`` (answers and "not found", with their expiry). Concurrent lookups
of one number are coalesced in-process (one call, the others wait for it) and, on PostgreSQL,
across processes with an advisory lock held during the call, after which the others find the cache.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
import structlog
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from achats.chassis.db import Database
from achats.chassis.http import CircuitBreaker

from .models import InseeCache, InseeCall, InseeLimiter, Switch

log = structlog.get_logger(__name__)

RETRYABLE = {429, 502, 503, 504}
MAINTENANCE_SWITCH = "insee_maintenance"


class InseeUnavailable(Exception):
    """INSEE cannot answer now (down, slow, rate limited, maintenance): the user types the data."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class InseeNotFound(Exception):
    """INSEE knows no such number."""


class InseeNotDiffusible(Exception):
    """INSEE refuses to disclose this unit (403): the user types the data."""


@dataclass(frozen=True)
class InseeConfig:
    base_url: str
    api_key: str
    api_key_header: str = "X-INSEE-Api-Key-Integration"
    timeout: float = 3.0
    deadline: float = 3.5  # a lookup answers within this, whatever INSEE does
    calls_per_minute: int = 30
    cache_ttl: float = 86_400.0
    not_found_ttl: float = 3_600.0
    maintenance: bool = False
    breaker_failures: int = 5
    breaker_reset: float = 30.0


class SlidingWindowLimiter:
    """At most ``limit`` calls in any ``window`` seconds, for every process sharing the database."""

    def __init__(self, db: Database, *, name: str = "insee", limit: int = 30, window: float = 60.0,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        self.db, self.name, self.limit, self.window = db, name, limit, window
        self.clock, self.sleep = clock, sleep

    def acquire(self, deadline: float) -> bool:
        """Take a slot, waiting for one if it frees before ``deadline`` (monotonic); else False."""
        while True:
            with self.db.unit_of_work() as uow:
                session = uow.session
                # The row lock serialises every process's decision; the row is made once.
                row = session.execute(select(InseeLimiter).where(InseeLimiter.name == self.name)
                                      .with_for_update()).scalar_one_or_none()
                if row is None:
                    uow.rollback()
                    self._create_row()
                    continue
                now = self.clock()
                recent = session.execute(
                    select(InseeCall.at).where(InseeCall.name == self.name, InseeCall.at > now - self.window)
                    .order_by(InseeCall.at).limit(self.limit)).scalars().all()
                if len(recent) < self.limit:
                    session.execute(insert(InseeCall).values(name=self.name, at=now))
                    session.execute(delete(InseeCall).where(InseeCall.name == self.name,
                                                            InseeCall.at <= now - self.window))
                    uow.commit()
                    return True
                wait = recent[0] + self.window - now
            if time.monotonic() + wait > deadline:
                return False
            self.sleep(max(wait, 0.01))

    def _create_row(self) -> None:
        try:
            with self.db.unit_of_work() as uow:
                uow.session.add(InseeLimiter(name=self.name))
                uow.commit()
        except IntegrityError:
            pass  # another process made it first

    def calls_in_window(self) -> int:
        with self.db.session() as session:
            return session.execute(select(func.count()).select_from(InseeCall).where(
                InseeCall.name == self.name, InseeCall.at > self.clock() - self.window)).scalar_one()


class InseeClient:
    def __init__(self, db: Database, config: InseeConfig, *, session: requests.Session | None = None,
                 breaker: CircuitBreaker | None = None, limiter: SlidingWindowLimiter | None = None):
        self.db = db
        self.config = config
        self.http = session or requests.Session()
        self.breaker = breaker or CircuitBreaker(failure_threshold=config.breaker_failures,
                                                 reset_timeout=config.breaker_reset, name="insee")
        self.limiter = limiter or SlidingWindowLimiter(db, limit=config.calls_per_minute)
        self._inflight: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._memory = _MemoryCache(ttl=min(config.cache_ttl, 300.0))
        self.upstream_calls = 0

    # --- public -----------------------------------------------------------------------------

    def siret(self, siret: str) -> dict:
        return self._get(f"siret:{siret}", f"/siret/{siret}", {})

    def establishments_of(self, siren: str) -> dict:
        return self._get(f"siren:{siren}", "/siret", {"q": f"siren:{siren}", "nombre": "100"})

    def maintenance(self) -> bool:
        if self.config.maintenance:
            return True
        with self.db.session() as session:
            switch = session.get(Switch, MAINTENANCE_SWITCH)
            return bool(switch and switch.enabled)

    def set_maintenance(self, enabled: bool) -> None:
        with self.db.unit_of_work() as uow:
            switch = uow.session.get(Switch, MAINTENANCE_SWITCH)
            if switch is None:
                uow.session.add(Switch(name=MAINTENANCE_SWITCH, enabled=enabled))
            else:
                switch.enabled = enabled
            uow.commit()

    # --- internals ----------------------------------------------------------------------------

    def _get(self, key: str, path: str, params: dict) -> dict:
        deadline = time.monotonic() + self.config.deadline
        # This process's memory first (a few minutes at most), then the shared cache in the database.
        cached = self._memory.get(key) or self._cached(key)
        if cached is not None:
            self._memory.put(key, cached)
            return _outcome(cached)
        if self.maintenance():
            raise InseeUnavailable("maintenance")
        with self._lock:
            future = self._inflight.get(key)
            leader = future is None
            if leader:
                future = self._inflight[key] = Future()
        if not leader:
            try:
                return _outcome(future.result(timeout=max(0.0, deadline - time.monotonic())))
            except TimeoutError:
                raise InseeUnavailable("timeout") from None
        try:
            # Checked again now that this request leads: a lookup that missed the cache just before a
            # previous leader stored its answer (and left) must not call INSEE a second time.
            result = self._memory.get(key) or self._cached(key) or self._fetch_shared(key, path, params, deadline)
            future.set_result(result)
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            with self._lock:
                self._inflight.pop(key, None)
        return _outcome(result)

    def _fetch_shared(self, key: str, path: str, params: dict, deadline: float) -> tuple[int, dict]:
        if self.db.dialect != "postgresql":
            return self._fetch(key, path, params, deadline)
        # Other processes asking for the same number wait here, then find the answer in the cache.
        with self.db.engine.connect() as conn:
            conn.execute(text("SELECT set_config('lock_timeout', :ms, false)"),
                         {"ms": f"{int(self.config.deadline * 1000)}ms"})
            try:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _lock_key(key)})
            except Exception:
                conn.rollback()
                raise InseeUnavailable("timeout") from None
            try:
                cached = self._cached(key)
                if cached is not None:
                    return cached
                return self._fetch(key, path, params, deadline)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(key)})
                conn.commit()

    def _fetch(self, key: str, path: str, params: dict, deadline: float) -> tuple[int, dict]:
        attempt = 0
        reason = "unavailable"
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                raise InseeUnavailable(reason)
            if not self.breaker.allow_request():
                raise InseeUnavailable("circuit_open")
            if not self.limiter.acquire(deadline - 0.05):
                raise InseeUnavailable("rate_limited")
            self.upstream_calls += 1
            try:
                response = self.http.get(
                    self.config.base_url.rstrip("/") + path, params=params,
                    headers={self.config.api_key_header: self.config.api_key, "Accept": "application/json"},
                    timeout=min(self.config.timeout, max(0.05, deadline - time.monotonic() - 0.05)))
            except requests.RequestException as exc:
                self.breaker.record_failure()
                reason = "timeout" if isinstance(exc, requests.Timeout) else "unreachable"
                log.warning("insee.call_failed", path=path, error=repr(exc))
            else:
                status = response.status_code
                if status == 200 or status == 404:
                    self.breaker.record_success()
                    body = _json(response)
                    self._store(key, status, body)
                    self._memory.put(key, (status, body))
                    return status, body
                if status == 403:
                    self.breaker.record_success()
                    return status, _json(response)
                if status in RETRYABLE:
                    reason = "rate_limited" if status == 429 else f"http_{status}"
                    if status != 429:
                        self.breaker.record_failure()
                    log.warning("insee.call_refused", path=path, status=status)
                    retry_after = _retry_after(response)
                    if retry_after and time.monotonic() + retry_after < deadline:
                        time.sleep(retry_after)
                        attempt += 1
                        continue
                else:
                    # 400, 401, 406, 500...: retrying would not help; a 401 means our key is wrong.
                    self.breaker.record_failure()
                    log.error("insee.call_error", path=path, status=status, body=response.text[:300])
                    raise InseeUnavailable(f"http_{status}")
            attempt += 1
            backoff = min(0.2 * (2 ** (attempt - 1)), 1.0)
            if time.monotonic() + backoff >= deadline - 0.1:
                raise InseeUnavailable(reason)
            time.sleep(backoff)

    def _cached(self, key: str) -> tuple[int, dict] | None:
        with self.db.session() as session:
            row = session.get(InseeCache, key)
            if row is None or row.expires_at <= datetime.now(UTC):
                return None
            return row.status, json.loads(row.body)

    def _store(self, key: str, status: int, body: dict) -> None:
        ttl = self.config.cache_ttl if status == 200 else self.config.not_found_ttl
        now = datetime.now(UTC)
        with self.db.unit_of_work() as uow:
            row = uow.session.get(InseeCache, key)
            if row is None:
                row = InseeCache(key=key)
                uow.session.add(row)
            row.status, row.body = status, json.dumps(body, ensure_ascii=False)
            row.fetched_at, row.expires_at = now, now + timedelta(seconds=ttl)
            uow.commit()

    def forget(self, key: str) -> None:
        self._memory.drop(key)
        with self.db.unit_of_work() as uow:
            uow.session.execute(delete(InseeCache).where(InseeCache.key == key))
            uow.commit()


class _MemoryCache:
    """Answers kept in this process for a short while: a cached lookup costs no database round trip."""

    def __init__(self, ttl: float, size: int = 10_000):
        self.ttl, self.size = ttl, size
        self._items: OrderedDict[str, tuple[float, tuple[int, dict]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[int, dict] | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: str, value: tuple[int, dict]) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def drop(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)


def _outcome(result: tuple[int, dict]) -> dict:
    status, body = result
    if status == 404:
        raise InseeNotFound()
    if status == 403:
        raise InseeNotDiffusible()
    return body


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise InseeUnavailable("bad_response") from None
    if not isinstance(body, dict):
        raise InseeUnavailable("bad_response")
    return body


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return min(float(value), 2.0) if value else None
    except ValueError:
        return None


def _lock_key(key: str) -> int:
    return zlib.crc32(key.encode()) - 2**31



"""Client of the INSEE Sirene 3.11 API: limiter, cache, coalescing, retries, breaker, maintenance switch.

Where the shared state lives: in this service's own database, so that every worker and every
replica sees the same. The limiter is a sliding window of the calls of the last minute (table
``insee_calls``, serialised by a row lock on ``insee_limiter``): never more than the limit in any
60 s. The cache is ``insee_cache`` (answers and "not found", with their expiry). Concurrent lookups
of one number are coalesced in-process (one call, the others wait for it) and, on PostgreSQL,
across processes with an advisory lock held during the call, after which the others find the cache.

One user action (a lookup, a search) has one budget, its deadline, counted from the moment the
request arrived: every wait on its way (a lock, a limiter slot, the connection, INSEE's answer, a
Retry-After) is bounded by what is left of it. It makes at most two calls, and the breaker counts
failed actions, not attempts: one user's bad luck never closes INSEE for everyone.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

import requests
import structlog
from sqlalchemy import Connection, delete, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from achats.chassis import clock
from achats.chassis.db import Database
from achats.chassis.http import CircuitBreaker

from .models import InseeCache, InseeCall, InseeLimiter, Switch

log = structlog.get_logger(__name__)

RETRYABLE = {429, 502, 503, 504}
MAINTENANCE_SWITCH = "insee_maintenance"
# At most this many calls per user action: the first, and one retry if INSEE asked us to come back
# (429/502/503/504, honouring Retry-After) or could not be reached, and the budget leaves room for it.
MAX_ATTEMPTS = 2
# Kept from the budget to answer once INSEE has (store the answer, shape the reply).
ANSWER_RESERVE = 0.1
# Below this, an attempt could not receive an answer: it is not made.
MIN_ATTEMPT = 0.1
# Wait before the retry when INSEE says nothing of when to come back.
RETRY_PAUSE = 0.2


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
    """What the client needs, taken from the registry's settings (``RegistrySettings.insee_*``: the defaults and
    their reasons are written there, once)."""

    base_url: str
    api_key: str
    api_key_header: str
    connect_timeout: float
    deadline: float  # a lookup answers within this, whatever INSEE does
    calls_per_minute: int
    cache_ttl: float
    not_found_ttl: float
    maintenance: bool
    breaker_failures: int
    breaker_reset: float

    @classmethod
    def from_settings(cls, settings: Any) -> InseeConfig:
        """Each field from the setting ``insee_<field>``."""
        return cls(**{field.name: getattr(settings, f"insee_{field.name}") for field in fields(cls)})


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
                # The row lock serialises every process's decision; the row is made once. Waiting
                # for it counts against the caller's budget like any other wait.
                try:
                    bound_lock_wait(session, deadline)
                    row = session.execute(select(InseeLimiter).where(InseeLimiter.name == self.name)
                                          .with_for_update()).scalar_one_or_none()
                except DBAPIError as exc:
                    if not lock_wait_expired(exc):
                        raise
                    uow.rollback()
                    return False
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

    def siret(self, siret: str, deadline: float | None = None) -> dict:
        return self._get(f"siret:{siret}", f"/siret/{siret}", {}, deadline)

    def establishments_of(self, siren: str, deadline: float | None = None) -> dict:
        return self._get(f"siren:{siren}", "/siret", {"q": f"siren:{siren}", "nombre": "100"}, deadline)

    def search(self, q: str, nombre: int, deadline: float | None = None) -> dict:
        """INSEE's multi-criteria search on establishments (``q`` in Sirene's syntax)."""
        digest = hashlib.sha256(f"{nombre}|{q}".encode()).hexdigest()[:32]
        return self._get(f"search:{digest}", "/siret", {"q": q, "nombre": str(nombre)}, deadline)

    def deadline(self, started: float | None = None) -> float:
        """The monotonic instant by which an action begun at ``started`` (now by default) answers."""
        return (time.monotonic() if started is None else started) + self.config.deadline

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

    def _get(self, key: str, path: str, params: dict, deadline: float | None) -> dict:
        deadline = self.deadline() if deadline is None else deadline
        # This process's memory first (a few minutes at most), then the shared cache in the database:
        # a cached answer is given whatever is left of the budget.
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
        # The wait is bounded by this action's budget, for this transaction only (the connection
        # goes back to the pool); the advisory lock itself outlives it until unlocked below.
        with self.db.engine.connect() as conn:
            try:
                with conn.begin():
                    bound_lock_wait(conn, deadline)
                    conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _lock_key(key)})
            except DBAPIError as exc:
                if not lock_wait_expired(exc):
                    raise
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
        """One user action's calls: at most ``MAX_ATTEMPTS``, within the budget; the breaker hears once."""
        if not self.breaker.allow_request():
            raise InseeUnavailable("circuit_open")
        # A refusal of ours (no limiter slot) or INSEE's quota (429) says nothing of INSEE's health.
        reason, insee_failed = "unavailable", False
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if self._left(deadline) < MIN_ATTEMPT:
                reason = reason if insee_failed else "timeout"
                break
            if not self.limiter.acquire(deadline - ANSWER_RESERVE):
                reason = reason if insee_failed else "rate_limited"
                break
            left = self._left(deadline)
            self.upstream_calls += 1
            pause = RETRY_PAUSE
            try:
                response = self.http.get(
                    self.config.base_url.rstrip("/") + path, params=params,
                    headers={self.config.api_key_header: self.config.api_key, "Accept": "application/json"},
                    timeout=(min(self.config.connect_timeout, left), left))
            except requests.RequestException as exc:
                reason, insee_failed = ("timeout" if isinstance(exc, requests.Timeout) else "unreachable"), True
                log.warning("insee.call_failed", path=path, attempt=attempt, error=repr(exc))
            else:
                status = response.status_code
                if status in (200, 403, 404):
                    self.breaker.record_success()
                    body = _json(response)
                    if status != 403:  # « not diffusible » is asked again: INSEE's decision may change
                        self._store(key, status, body)
                        self._memory.put(key, (status, body))
                    return status, body
                if status not in RETRYABLE:
                    # 400, 401, 406, 500...: retrying would not help; a 401 means our key is wrong.
                    log.error("insee.call_error", path=path, status=status, body=response.text[:300])
                    reason, insee_failed = f"http_{status}", True
                    break
                log.warning("insee.call_refused", path=path, status=status, attempt=attempt)
                reason = "rate_limited" if status == 429 else f"http_{status}"
                insee_failed = insee_failed or status != 429
                pause = _retry_after(response) or RETRY_PAUSE
            if attempt == MAX_ATTEMPTS or self._left(deadline) - pause < MIN_ATTEMPT:
                break
            time.sleep(pause)
        if insee_failed:
            self.breaker.record_failure()
        raise InseeUnavailable(reason)

    @staticmethod
    def _left(deadline: float) -> float:
        """Seconds an INSEE call may still take, the time to answer kept aside."""
        return deadline - ANSWER_RESERVE - time.monotonic()

    def _cached(self, key: str) -> tuple[int, dict] | None:
        with self.db.session() as session:
            row = session.get(InseeCache, key)
            if row is None or row.expires_at <= clock.now():
                return None
            return row.status, json.loads(row.body)

    def _store(self, key: str, status: int, body: dict) -> None:
        """Share INSEE's answer with the other processes; failing to is no reason to withhold it."""
        ttl = self.config.cache_ttl if status == 200 else self.config.not_found_ttl
        now = clock.now()
        try:
            with self.db.unit_of_work() as uow:
                row = uow.session.get(InseeCache, key)
                if row is None:
                    row = InseeCache(key=key)
                    uow.session.add(row)
                row.status, row.body = status, json.dumps(body, ensure_ascii=False)
                row.fetched_at, row.expires_at = now, now + timedelta(seconds=ttl)
                uow.commit()
        except SQLAlchemyError as exc:
            log.warning("insee.cache_store_failed", key=key, error=repr(exc))

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
    """INSEE's Retry-After in seconds: honoured as it is, so a retry it puts beyond the budget is not made."""
    value = response.headers.get("Retry-After")
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def _lock_key(key: str) -> int:
    return zlib.crc32(key.encode()) - 2**31


def lock_wait_expired(exc: DBAPIError) -> bool:
    """Whether PostgreSQL gave up waiting for a lock (``lock_timeout``, SQLSTATE 55P03)."""
    return "55P03" in (getattr(exc.orig, "sqlstate", None), getattr(exc.orig, "pgcode", None))


def bound_lock_wait(connection: Session | Connection, deadline: float) -> None:
    """On PostgreSQL, lock waits of the current transaction give up at ``deadline`` (monotonic)."""
    dialect = connection.get_bind().dialect if isinstance(connection, Session) else connection.dialect
    if dialect.name == "postgresql" and deadline != float("inf"):
        ms = max(1, int((deadline - time.monotonic()) * 1000))
        connection.execute(text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": f"{ms}ms"})



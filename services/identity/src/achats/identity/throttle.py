"""Brute-force protection: progressive delay, then temporary lockout, per login name and per address.

Keyed by the login name as typed (not by account), so that an unknown name is throttled exactly like
a known one and the answers never tell whether an account exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from babel.units import format_unit
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from achats.chassis import clock

from .models import Throttle


@dataclass(frozen=True)
class Policy:
    delay_after: int  # failures allowed before each attempt must wait
    lock_after: int  # failures that lock for lock_seconds
    lock_seconds: int
    window_seconds: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0
    locked: bool = False


def _row(session: Session, key: str, *, lock: bool) -> Throttle | None:
    query = select(Throttle).where(Throttle.key == key)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def check(session: Session, *keys: str) -> list[Verdict]:
    """The verdict for each key, read in one query (the hot path of every login)."""
    rows = {row.key: row for row in session.execute(select(Throttle).where(Throttle.key.in_(keys))).scalars()}
    moment = clock.now()
    verdicts = []
    for key in keys:
        verdict = Verdict(True)
        row = rows.get(key)
        if row is not None:
            for until, locked in ((row.locked_until, True), (row.next_allowed_at, False)):
                if until and until > moment:
                    verdict = Verdict(False, retry_after=math.ceil((until - moment).total_seconds()), locked=locked)
                    break
        verdicts.append(verdict)
    return verdicts


def record_failure(session: Session, key: str, policy: Policy) -> bool:
    """Count a failure; True when this failure locks the key (for the lockout event)."""
    row = _row(session, key, lock=True)
    moment = clock.now()
    if row is None:
        try:
            with session.begin_nested():
                row = Throttle(key=key, failures=0, window_started_at=moment)
                session.add(row)
        except IntegrityError:  # a concurrent failure created it: count on that one
            row = _row(session, key, lock=True)
    if row.window_started_at < moment - timedelta(seconds=policy.window_seconds):
        row.failures, row.window_started_at, row.locked_until, row.next_allowed_at = 0, moment, None, None
    row.failures += 1
    newly_locked = False
    if row.failures >= policy.lock_after:
        newly_locked = not (row.locked_until and row.locked_until > moment)
        row.locked_until = moment + timedelta(seconds=policy.lock_seconds)
        if newly_locked:
            # After a lockout the count starts again, with delays from the first failure.
            row.failures = policy.delay_after
    elif row.failures >= policy.delay_after:
        # 1 s, 2 s, 4 s ... capped at the lockout length.
        delay = min(2 ** (row.failures - policy.delay_after), policy.lock_seconds)
        row.next_allowed_at = moment + timedelta(seconds=delay)
    session.flush()
    return newly_locked


def clear(session: Session, key: str) -> None:
    session.execute(delete(Throttle).where(Throttle.key == key))


def announced_wait(seconds: int) -> int:
    """The wait told to the person and in ``Retry-After``, one number for both: exact seconds under a
    minute, else whole minutes rounded up (never shorter than the real wait, never « 1 minute » for 61 s)."""
    seconds = max(1, math.ceil(seconds))
    return seconds if seconds < 60 else math.ceil(seconds / 60) * 60


def spoken_wait(seconds: int) -> str:
    """« 1 seconde », « 30 secondes », « 1 minute », « 2 minutes »: an announced wait in French words,
    with CLDR's plural rules (Babel)."""
    if seconds < 60:
        return format_unit(seconds, "duration-second", length="long", locale="fr")
    return format_unit(seconds // 60, "duration-minute", length="long", locale="fr")

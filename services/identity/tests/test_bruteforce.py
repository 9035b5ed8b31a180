"""Brute-force protection: progressive delay, then lockout, per login name and per source address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from achats.chassis import clock as platform_clock
from achats.identity import throttle

from identity_support import PASSWORD, build_stack


class Clock:
    def __init__(self):
        self.moment = datetime.now(UTC)

    def __call__(self):
        return self.moment

    def advance(self, seconds: float):
        self.moment += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    fake = Clock()
    with platform_clock.use(fake):
        yield fake


@pytest.fixture
def guarded(database_url, tmp_path, standin):
    settings = {"login_delay_after": 3, "login_lock_after": 6, "login_lock_seconds": 600,
                "ip_delay_after": 50, "ip_lock_after": 100}
    with build_stack(database_url, tmp_path, standin, **settings) as stack:
        stack.register()
        yield stack


def attempt(stack, login="mcurie", password="mauvais mot de passe", address=None):
    headers = {"X-Forwarded-For": address} if address else {}
    return stack.client.post("/identity/sessions", json={"login": login, "password": password}, headers=headers)


def test_delays_grow_then_the_account_locks_and_time_unlocks_it(guarded, clock):
    for _ in range(3):
        assert attempt(guarded).status_code == 401
    # Now every attempt must wait: even the right password is refused before the delay.
    refused = attempt(guarded, password=PASSWORD)
    assert (refused.status_code, refused.json()["code"]) == (429, "too_many_attempts")
    assert refused.headers["retry-after"] == "1"
    waits = []
    for _ in range(3):
        clock.advance(3600)  # well past any delay, within the 12 h window
        response = attempt(guarded)
        assert response.status_code == 401
        blocked = attempt(guarded)
        waits.append(int(blocked.headers["retry-after"]))
    assert waits[0] < waits[1]  # progressive
    assert waits[-1] == 600  # the sixth failure locked the account
    assert len(guarded.events("identity.user.locked")) == 1
    assert attempt(guarded, password=PASSWORD).status_code == 429
    clock.advance(601)
    assert attempt(guarded, password=PASSWORD).status_code == 200


def test_unknown_logins_are_throttled_exactly_like_known_ones(guarded, clock):
    known = [attempt(guarded).status_code for _ in range(4)]
    unknown = [attempt(guarded, login="personne").status_code for _ in range(4)]
    assert known == unknown == [401, 401, 401, 429]
    assert guarded.events("identity.user.locked") == []


def test_a_password_reset_lifts_the_lockout(guarded, clock):
    for _ in range(6):
        clock.advance(3600)
        attempt(guarded)
    assert attempt(guarded, password=PASSWORD).status_code == 429
    guarded.client.post("/identity/password-resets", json={"login_or_email": "mcurie"})
    token = guarded.link_token("identity.password_reset.requested", "reset_url")
    new_password = "une autre phrase de passe bien longue"
    assert guarded.client.post("/identity/password-resets/confirm",
                               json={"token": token, "password": new_password}).status_code == 204
    assert attempt(guarded, password=new_password).status_code == 200


def test_one_address_trying_many_accounts_is_throttled(database_url, tmp_path, standin, clock):
    settings = {"ip_delay_after": 5, "ip_lock_after": 8, "ip_lock_seconds": 600, "trust_forwarded_for": True}
    with build_stack(database_url, tmp_path, standin, **settings) as stack:
        stack.register()
        statuses = [attempt(stack, login=f"user{n}", address="203.0.113.7").status_code for n in range(6)]
        assert statuses == [401] * 5 + [429]
        # Another address is not affected, and neither is the account's owner elsewhere.
        assert attempt(stack, password=PASSWORD, address="198.51.100.1").status_code == 200
        assert attempt(stack, password=PASSWORD, address="203.0.113.7").status_code == 429


@pytest.mark.parametrize(("remaining", "announced", "words"), [
    (0.2, 1, "1 seconde"), (1, 1, "1 seconde"), (2, 2, "2 secondes"), (30, 30, "30 secondes"),
    (59, 59, "59 secondes"), (59.4, 60, "1 minute"), (60, 60, "1 minute"), (61, 120, "2 minutes"),
    (120, 120, "2 minutes"), (121, 180, "3 minutes"), (900, 900, "15 minutes"),
])
def test_the_wait_is_told_in_french_with_its_plural_and_never_shorter_than_it_is(remaining, announced, words):
    assert throttle.announced_wait(remaining) == announced
    assert throttle.spoken_wait(announced).replace("\xa0", " ") == words


@pytest.mark.parametrize(("lock_seconds", "retry_after", "words"), [
    (1, "1", "1 seconde"), (59, "59", "59 secondes"), (60, "60", "1 minute"), (61, "120", "2 minutes"),
    (120, "120", "2 minutes")])
def test_the_message_and_retry_after_tell_the_same_wait(database_url, tmp_path, standin, clock, lock_seconds,
                                                         retry_after, words):
    settings = {"login_delay_after": 5, "login_lock_after": 1, "login_lock_seconds": lock_seconds}
    with build_stack(database_url, tmp_path, standin, **settings) as stack:
        assert attempt(stack, login="quelqu.un").status_code == 401  # locks at once
        refused = attempt(stack, login="quelqu.un")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == retry_after
        assert refused.json()["detail"].replace("\xa0", " ") == (
            f"Trop de tentatives de connexion. Veuillez réessayer dans {words}.")

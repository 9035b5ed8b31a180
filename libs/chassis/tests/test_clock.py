"""The platform's clock: one now() a test can set, one way to write a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from achats.chassis import clock


def test_now_is_aware_utc_and_a_test_can_freeze_it():
    assert clock.now().tzinfo is UTC
    moment = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
    with clock.frozen(moment):
        assert clock.now() == moment
        with clock.use(lambda: moment + timedelta(hours=1)):
            assert clock.now() == moment + timedelta(hours=1)
        assert clock.now() == moment
    assert clock.now() != moment


def test_times_are_written_in_utc_with_z():
    paris = timezone(timedelta(hours=1))
    assert clock.iso(datetime(2026, 12, 7, 11, 30, 5, tzinfo=paris)) == "2026-12-07T10:30:05Z"
    assert clock.iso(None) is None


def test_a_naive_time_is_written_as_utc_not_as_local_time(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        assert clock.iso(datetime(2026, 12, 8, 9, 30)) == "2026-12-08T09:30:00Z"
        assert clock.iso(datetime(2026, 12, 8, 9, 30, tzinfo=timezone(timedelta(hours=1)))) == "2026-12-08T08:30:00Z"
    finally:
        monkeypatch.undo()
        time.tzset()

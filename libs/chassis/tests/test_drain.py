"""The drain loop shared by the outbox relay and the notifier's sender."""

from __future__ import annotations

import threading

from structlog.testing import capture_logs

from achats.chassis.drain import DrainLoop


class RecordingStop(threading.Event):
    """A stop event that remembers each pause the loop took on it."""

    def __init__(self):
        super().__init__()
        self.pauses: list[float] = []

    def wait(self, timeout=None):
        self.pauses.append(timeout)
        return super().wait(0)


class Steps:
    """Answers the loop's batches from a script: a number is a batch of that size, an exception is raised;
    past the end it stops the loop."""

    def __init__(self, stop: threading.Event, *script):
        self.stop, self.script, self.calls = stop, list(script), 0

    def __call__(self) -> int:
        self.calls += 1
        if not self.script:
            self.stop.set()
            return 0
        answer = self.script.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def loop(step, **options) -> DrainLoop:
    return DrainLoop(**{"step": step, "batch_size": 3, "wake": threading.Event(), "poll_interval": 0.01,
                        "event": "test.worker", **options})


def test_full_batches_are_taken_at_once_and_a_short_one_ends_the_round():
    stop = threading.Event()
    steps = Steps(stop, 3, 3, 1, 0)
    rounds = []
    loop(steps, housekeeping=lambda: rounds.append(steps.calls)).run(stop)
    assert steps.calls == 5
    # Housekeeping runs after the first round (three batches), not again within the hour.
    assert rounds == [3]


def test_housekeeping_runs_again_once_an_hour_has_passed():
    stop = threading.Event()
    now = [0.0]
    steps = Steps(stop, 0, 0, 0, 0)
    done = []

    def half_an_hour_a_round():
        now[0] += 1800.0
        return steps()

    loop(half_an_hour_a_round, housekeeping=lambda: done.append(now[0]), poll_interval=0,
         monotonic=lambda: now[0]).run(stop)
    assert done == [1800.0, 7200.0]


def test_a_failing_batch_is_logged_and_tried_again_after_doubling_pauses():
    stop = RecordingStop()
    closed = []
    steps = Steps(stop, *[RuntimeError("base indisponible")] * 8)
    with capture_logs() as logs:
        loop(steps, on_failure=lambda: closed.append(True), max_backoff=1.0,
             log_fields={"sender": "s1"}).run(stop)
    assert stop.pauses == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0]
    assert len(closed) == 8
    failures = [e for e in logs if e["event"] == "test.worker_failed"]
    assert len(failures) == 8 and failures[0]["log_level"] == "error" and failures[0]["exc_info"]
    assert failures[0]["sender"] == "s1"


def test_a_success_brings_the_pause_back_to_its_start():
    stop = RecordingStop()
    boom = RuntimeError("down")
    loop(Steps(stop, boom, boom, 0, boom)).run(stop)
    assert stop.pauses == [0.1, 0.2, 0.1]


def test_an_expected_outage_is_a_warning_without_traceback():
    class Outage(Exception):
        pass

    stop = RecordingStop()
    with capture_logs() as logs:
        loop(Steps(stop, Outage("broker closed")), expected=(Outage,)).run(stop)
    [retry] = [e for e in logs if e["event"].startswith("test.worker")]
    assert (retry["event"], retry["log_level"], retry["error"]) == ("test.worker_retrying", "warning",
                                                                  "broker closed")
    assert "exc_info" not in retry


def test_a_failing_housekeeping_or_cleanup_does_not_stop_the_worker():
    stop = RecordingStop()

    def fails():
        raise OSError("disque plein")

    steps = Steps(stop, RuntimeError("down"), 0, 0)
    with capture_logs() as logs:
        loop(steps, housekeeping=fails, on_failure=fails).run(stop)
    assert steps.calls == 4
    events = [e["event"] for e in logs]
    assert "test.worker_housekeeping_failed" in events and "test.worker_cleanup_failed" in events


def test_a_wake_up_ends_the_wait_before_the_poll_interval():
    stop = threading.Event()
    wake = threading.Event()
    steps = Steps(stop, 0)
    worker = threading.Thread(target=loop(steps, wake=wake, poll_interval=600).run, args=(stop,))
    worker.start()
    while steps.calls == 0:
        threading.Event().wait(0.01)
    wake.set()
    worker.join(timeout=30)
    assert not worker.is_alive() and steps.calls == 2


def test_idle_is_called_while_waiting_and_its_failure_counts_as_a_failed_batch():
    stop = threading.Event()
    idle_calls, closed = [], []

    def idle():
        idle_calls.append(True)
        if len(idle_calls) == 1:
            raise ConnectionResetError("heartbeat lost")
        stop.set()

    with capture_logs() as logs:
        loop(Steps(stop, 0, 0, 0), poll_interval=600, idle=idle, on_failure=lambda: closed.append(True),
             ).run(stop)
    assert len(idle_calls) == 2 and closed == [True]
    assert [e["event"] for e in logs if e["event"].startswith("test.worker")] == ["test.worker_failed"]

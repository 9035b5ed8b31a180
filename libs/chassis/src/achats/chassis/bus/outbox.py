"""Publishing: an event is an outbox row written in the caller's transaction, relayed after commit."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

from .. import clock
from ..context import current_request_id, current_traceparent
from .envelope import CloudEvent
from .schema import outbox

NOTIFY_CHANNEL = "achats_outbox"
_DIRTY = "achats_outbox_dirty"


def publish(session: Session, type: str, data: Any, *, source: str, subject: str | None = None,
            event_id: str | None = None) -> CloudEvent:
    """Record ``type`` with ``data`` in the outbox of the session's transaction.

    The event leaves only if the transaction commits; the relay publishes it afterwards.
    """
    extensions: dict[str, str] = {}
    if request_id := current_request_id():
        extensions["requestid"] = request_id
    if traceparent := current_traceparent():
        extensions["traceparent"] = traceparent
    kwargs: dict[str, Any] = {"id": event_id} if event_id else {}
    cloud_event = CloudEvent(type=type, source=source, data=data, subject=subject,
                             extensions=extensions, **kwargs)
    session.execute(insert(outbox).values(
        event_id=cloud_event.id, type=cloud_event.type, body=cloud_event.to_json().decode(),
        created_at=clock.now(), status="pending", attempts=0))
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # Delivered to LISTENers when (and only if) the transaction commits.
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
    session.info.setdefault(_DIRTY, set()).add(wakeup_key(bind.url))
    return cloud_event


def wakeup_key(url: Any) -> str:
    return url.render_as_string(hide_password=True) if hasattr(url, "render_as_string") else str(url)


class Wakeups:
    """In-process signal from committing sessions to the relays of the same database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, set[threading.Event]] = defaultdict(set)

    def subscribe(self, key: str, flag: threading.Event) -> None:
        with self._lock:
            self._events[key].add(flag)

    def unsubscribe(self, key: str, flag: threading.Event) -> None:
        with self._lock:
            self._events[key].discard(flag)

    def notify(self, key: str) -> None:
        with self._lock:
            flags = list(self._events.get(key, ()))
        for flag in flags:
            flag.set()


wakeups = Wakeups()


def watch(factory: sessionmaker) -> None:
    """Wake this process's relays of the database when a session of ``factory`` commits events (``publish``
    marks the session); the service's own session factory only, not every SQLAlchemy session of the process."""
    sa_event.listen(factory, "after_commit", _wake_relays)
    sa_event.listen(factory, "after_rollback", _forget)


def _wake_relays(session: Session) -> None:
    for key in session.info.pop(_DIRTY, ()):
        wakeups.notify(key)


def _forget(session: Session) -> None:
    session.info.pop(_DIRTY, None)

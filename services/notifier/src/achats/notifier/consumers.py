"""Handlers of the consumed events: check the payload against the contract, queue its mails, wake the sender."""

from __future__ import annotations

import threading

import structlog
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from achats.chassis.app import Runtime
from achats.chassis.bus import CloudEvent, EventHandler, PermanentError

from . import contract, service
from .mails import mails_for
from .rendering import RenderingError
from .settings import NotifierSettings

log = structlog.get_logger(__name__)

_WAKE_PENDING = "achats_notifier_wake"


def wake_after_commit(session: Session, wake: threading.Event) -> None:
    """Set ``wake`` once the session's transaction commits (and not at all if it rolls back)."""
    if session.info.get(_WAKE_PENDING):
        return
    session.info[_WAKE_PENDING] = True

    def on_commit(committed: Session) -> None:
        committed.info.pop(_WAKE_PENDING, None)
        wake.set()

    sa_event.listen(session, "after_commit", on_commit, once=True)


def handlers(runtime: Runtime) -> dict[str, EventHandler]:
    settings: NotifierSettings = runtime.settings  # type: ignore[assignment]
    renderer, wake = runtime.deps.renderer, runtime.deps.mail_wake

    def on_event(session: Session, event: CloudEvent) -> None:
        try:
            data = contract.check(event)
        except contract.ContractViolation as exc:
            raise PermanentError(str(exc)) from None
        mails = mails_for(event.type, data)
        try:
            queued = service.queue(session, event_id=event.id, event_type=event.type, mails=mails,
                                   renderer=renderer, mail_domain=settings.mail_domain,
                                   give_up_after=settings.mail_give_up_after)
        except RenderingError as exc:  # the payload passed the contract, yet a template cannot use it
            raise PermanentError(f"{event.type}: {exc}") from None
        log.info("notifier.mails_queued", type=event.type, event_id=event.id, mails=len(mails), new=queued)
        if queued:
            wake_after_commit(session, wake)

    return {event_type: on_event for event_type in contract.consumed_types()}

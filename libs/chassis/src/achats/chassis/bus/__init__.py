"""The event bus: CloudEvents through a transactional outbox, a relay, and idempotent consumers.

Publish inside your unit of work, consume with handlers keyed by event type::

    from achats.chassis.bus import publish
    publish(uow.session, "helpdesk.ticket.created", {"ticket_id": ...}, source="/helpdesk")
    uow.commit()   # the relay publishes after the commit, never before

    consumer = EventConsumer(name="notifier", db=db, transport=transport,
                             handlers={"helpdesk.ticket.created": on_ticket_created})
"""

from .consumer import EventConsumer, EventHandler, PermanentError
from .envelope import CloudEvent, InvalidEvent
from .factory import transport_from_url
from .outbox import publish
from .relay import OutboxRelay
from .schema import bus_metadata, inbox, outbox
from .transport import Outcome, QueueSpec, Transport, TransportError

__all__ = [
    "CloudEvent", "EventConsumer", "EventHandler", "InvalidEvent", "OutboxRelay", "Outcome",
    "PermanentError", "QueueSpec", "Transport", "TransportError", "bus_metadata", "inbox", "outbox",
    "publish", "transport_from_url",
]

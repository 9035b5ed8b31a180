"""CloudEvents envelope and topic matching: pure functions, no I/O."""

import json

import pytest

from achats.chassis.bus.envelope import CloudEvent, InvalidEvent
from achats.chassis.bus.transport import topic_matches


def test_round_trip_keeps_every_attribute():
    event = CloudEvent(type="helpdesk.ticket.created", source="/helpdesk", data={"n": "é"}, subject="t-1",
                       extensions={"requestid": "abc"})
    raw = json.loads(event.to_json())
    assert raw["specversion"] == "1.0"
    assert raw["time"].endswith("Z")
    assert raw["datacontenttype"] == "application/json"
    again = CloudEvent.from_json(event.to_json())
    assert (again.id, again.type, again.source, again.subject, again.data, again.extensions, again.time) == (
        event.id, event.type, event.source, event.subject, event.data, event.extensions, event.time)


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b'{"specversion": "0.3", "id": "1", "source": "/x", "type": "a.b.c"}',
    b'{"specversion": "1.0", "source": "/x", "type": "a.b.c"}',
    b'{"specversion": "1.0", "id": "1", "source": "/x", "type": "a.b.c", "time": "yesterday"}',
    b'{"specversion": "1.0", "id": "1", "source": "/x", "type": "Not A Type"}',
])
def test_malformed_messages_are_rejected(body):
    with pytest.raises(InvalidEvent):
        CloudEvent.from_json(body)


def test_type_must_name_service_entity_and_verb():
    with pytest.raises(InvalidEvent):
        CloudEvent(type="ticketcreated", source="/helpdesk", data={})


@pytest.mark.parametrize(("pattern", "key", "expected"), [
    ("helpdesk.ticket.created", "helpdesk.ticket.created", True),
    ("helpdesk.ticket.created", "helpdesk.ticket.closed", False),
    ("helpdesk.*.created", "helpdesk.ticket.created", True),
    ("helpdesk.*", "helpdesk.ticket.created", False),
    ("helpdesk.#", "helpdesk.ticket.created", True),
    ("#", "identity.user.registered", True),
    ("#.created", "helpdesk.ticket.created", True),
    ("helpdesk.#.created", "helpdesk.created", True),
])
def test_topic_matching_follows_amqp(pattern, key, expected):
    assert topic_matches(pattern, key) is expected

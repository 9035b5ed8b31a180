"""The bus of one service for the platform administrators (busadmin, issue 17 item 7): ``GET /admin/bus`` (outbox
backlog, dead letters) and ``POST /admin/bus/dead-letters/replay``, on the real RabbitMQ (and the memory transport)
and both databases, with the role checked by the service."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from achats.chassis.app import create_app
from achats.chassis.bus import EventConsumer, OutboxRelay
from achats.chassis.settings import ServiceSettings
from achats.chassis.testing import wait_until

from bus_support import EVENT, Running, effect_counts, prepare, publish_many, record_effect

SPEC = Path(__file__).parent / "sample_service" / "openapi.yaml"


@pytest.fixture(params=["memory", "amqp"])
def transport(request):
    return request.getfixturevalue(f"{request.param}_transport")


def test_an_administrator_sees_the_backlog_and_replays_the_dead_letters(database_url, transport, bus_namespace, keys):
    db = prepare(database_url)
    broken = threading.Event()
    broken.set()

    def flaky(session, event):
        if broken.is_set():
            raise RuntimeError("dependency down")
        record_effect(session, event)

    consumer = EventConsumer(name="sample", db=db, transport=transport, handlers={EVENT: flaky},
                             queue_prefix=bus_namespace, retry_delays=(0.05,))
    transport.declare(consumer.spec)
    settings = ServiceSettings.from_env("sample", environ={}, database_url=database_url, amqp_url="memory://unused",
                                        jwks_url=keys.jwks_url)
    client = create_app(settings, spec=SPEC, api_module="sample_service.api", db=db, transport=transport,
                        queue_spec=consumer.spec).test_client()
    admin = {"Authorization": f"Bearer {keys.token({'sub': 'admin-1', 'roles': ['platform_admin']})}"}
    try:
        assert transport.dead_letter_count(consumer.spec) == 0
        ids = publish_many(db, 2)
        seen = client.get("/admin/bus", headers=admin)
        assert seen.status_code == 200, seen.text
        assert seen.json()["outbox"]["pending"] == 2 and seen.json()["outbox"]["oldest_pending_at"]
        assert (seen.json()["dead_letters"], seen.json()["queue"]) == (0, consumer.spec.name)

        with Running() as running:
            running.relay(OutboxRelay(db, transport, poll_interval=0.2))
            running.consumer(consumer)
            assert wait_until(lambda: client.get("/admin/bus", headers=admin).json()["dead_letters"] == 2)
            assert client.get("/admin/bus", headers=admin).json()["outbox"]["pending"] == 0
            broken.clear()
            replayed = client.post("/admin/bus/dead-letters/replay", headers=admin)
            assert replayed.status_code == 200, replayed.text
            assert replayed.json()["replayed"] == 2
            assert wait_until(lambda: set(ids) <= set(effect_counts(db)))
        assert client.get("/admin/bus", headers=admin).json()["dead_letters"] == 0
    finally:
        transport.delete(consumer.spec)
        db.dispose()


def test_only_platform_administrators_see_or_replay(sqlite_url, memory_transport, keys):
    db = prepare(sqlite_url)
    settings = ServiceSettings.from_env("sample", environ={}, database_url=sqlite_url, amqp_url="memory://unused",
                                        jwks_url=keys.jwks_url)
    client = create_app(settings, spec=SPEC, api_module="sample_service.api", db=db,
                        transport=memory_transport).test_client()
    for method in ("get", "post"):
        path = "/admin/bus" if method == "get" else "/admin/bus/dead-letters/replay"
        assert getattr(client, method)(path).status_code == 401
        for roles in (["support_agent"], ["supplier"], ["service"]):
            headers = {"Authorization": f"Bearer {keys.token({'sub': 'x', 'roles': roles})}"}
            refused = getattr(client, method)(path, headers=headers)
            assert (refused.status_code, refused.json()["code"]) == (403, "platform_admin_required")
        bad = getattr(client, method)(path, headers={"Authorization": "Bearer not-a-token"})
        assert bad.status_code == 401
    admin = {"Authorization": f"Bearer {keys.token({'sub': 'admin-1', 'roles': ['platform_admin']})}"}
    state = client.get("/admin/bus", headers=admin).json()
    assert (state["outbox"]["pending"], state["dead_letters"]) == (0, None)  # consumes nothing: no DLQ
    refused = client.post("/admin/bus/dead-letters/replay", headers=admin)
    assert (refused.status_code, refused.json()["code"]) == (409, "no_dead_letter_queue")
    db.dispose()

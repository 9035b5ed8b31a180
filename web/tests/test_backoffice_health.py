"""Back office « Santé » (issue 17 item 7), in Chromium with JavaScript on and off: each service's readiness (one
stopped during the test, one never reachable: « Indisponible »), identity's outbox backlog as its database holds it,
a dead letter of identity's queue replayed by « Rejouer » (the chassis' /admin/bus), the INSEE calls of the last
minute as the registry counts them; a support agent gets 403 from the page and from the services."""

from __future__ import annotations

import uuid

import pytest
import requests
import sqlalchemy
from playwright.sync_api import expect

from web_support import (
    _IDENTITY_RUNTIMES,
    CCAS_SIRET,
    PASSWORD,
    _maybe_helpdesk,
    assert_accessible,
    create_staff,
    logged_in_page,
    register,
    running_platform,
)

JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


@pytest.fixture
def extra(tmp_path):
    """A helpdesk of its own, to be stopped during the test (``extra["stop"]()``)."""
    folder = tmp_path / "extra"
    folder.mkdir()
    running = _maybe_helpdesk(True, folder, uuid.uuid4().hex[:8], lambda: None)
    url = running.__enter__()
    state = {"url": url, "stop": lambda: running.__exit__(None, None, None)}
    yield state
    if state.get("stopped") is None:
        try:
            running.__exit__(None, None, None)
        except RuntimeError:
            pass


@pytest.fixture
def health_platform(fresh_postgres_url, tmp_path, standin, extra):
    standin.reset()
    services = lambda urls: (f"identity={urls['identity']}", f"company-registry={urls['registry']}",  # noqa: E731
                             f"helpdesk={extra['url']}", "notifier=http://127.0.0.1:1")
    with running_platform(fresh_postgres_url, tmp_path, standin, web_settings={"health_services": services}) as urls:
        yield urls


def pending_events(database_url: str) -> int:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text(
                "SELECT count(*) FROM bus_outbox WHERE published_at IS NULL")).scalar_one()
    finally:
        engine.dispose()


def dead_letter_in_identity(platform) -> tuple:
    """A message parked in identity's dead-letter queue (memory transport), as a failing handler leaves it."""
    from achats.chassis.bus.memory import _Message
    from achats.identity.app import SERVICE as IDENTITY

    runtime = _IDENTITY_RUNTIMES[platform["identity"]]
    spec = IDENTITY.consumer(runtime).spec
    runtime.transport.declare(spec)
    runtime.transport.broker.queue(spec.dead_letter_queue).put(
        _Message(b'{"specversion":"1.0"}', "company.updated", "event-1"))
    return runtime.transport, spec


def row(page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=True))


@JS
def test_an_administrator_sees_the_platforms_health_and_replays_a_dead_letter(browser, health_platform, extra,
                                                                              javascript):
    platform = health_platform
    register(platform["identity"])  # identity's outbox now holds its events (no relay runs here)
    create_staff(platform["identity"], "root.admin", "root.admin@achats.example", role="platform_admin")
    transport, spec = dead_letter_in_identity(platform)
    looked_up = requests.get(f"{platform['registry']}/registry/lookup/{CCAS_SIRET}", timeout=30)
    assert looked_up.status_code == 200

    admin = logged_in_page(browser, platform, javascript, "root.admin")
    admin.goto(platform["web"] + "/back-office/sante")
    expect(admin.get_by_role("heading", name="Santé de la plateforme")).to_be_visible()
    expect(admin.get_by_role("link", name="Santé", exact=True)).to_have_attribute("aria-current", "page")
    identity = row(admin, "identity")
    expect(identity).to_contain_text("Disponible")
    expect(identity.get_by_role("cell").nth(1)).to_contain_text(str(pending_events(platform["identity_database"])))
    assert pending_events(platform["identity_database"]) > 0
    expect(identity.get_by_role("cell").nth(2)).to_have_text("1")
    expect(row(admin, "company-registry")).to_contain_text("Disponible")
    expect(row(admin, "helpdesk")).to_contain_text("Disponible")
    expect(row(admin, "notifier")).to_contain_text("Indisponible")
    calls = requests.get(f"{platform['registry']}/registry/admin/insee", timeout=30, headers={
        "Authorization": f"Bearer {token(platform, 'root.admin')}"}).json()
    assert calls["calls_last_minute"] >= 1
    expect(admin.locator("#quota-insee")).to_have_text(
        f"{calls['calls_last_minute']} appels à l’INSEE dans la dernière minute, sur 30 autorisés.")
    assert_accessible(admin, javascript)

    identity.get_by_role("button", name="Rejouer").click()
    expect(admin.get_by_role("status")).to_have_text(
        "1 message(s) de identity rejoué(s) : ils repartent dans la file du service.")
    expect(row(admin, "identity").get_by_role("cell").nth(2)).to_have_text("0")
    assert transport.dead_letter_count(spec) == 0
    assert [m.message_id for m in transport.broker.queue(spec.name).items] == ["event-1"]
    assert_accessible(admin, javascript)

    extra["stop"]()  # the helpdesk stops
    extra["stopped"] = True
    admin.reload()
    expect(row(admin, "helpdesk")).to_contain_text("Indisponible")
    expect(row(admin, "identity")).to_contain_text("Disponible")
    assert_accessible(admin, javascript)
    admin.context.close()


def token(platform, login: str) -> str:
    answer = requests.post(f"{platform['identity']}/identity/sessions", json={"login": login, "password": PASSWORD},
                           timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


@JS
def test_an_agent_gets_403_on_sante(browser, health_platform, javascript):
    platform = health_platform
    create_staff(platform["identity"], "agent.smith", "agent.smith@achats.example")
    page = logged_in_page(browser, platform, javascript, "agent.smith")
    response = page.goto(platform["web"] + "/back-office/sante")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Accès refusé")).to_be_visible()
    assert_accessible(page, javascript)
    page.context.close()
    headers = {"Authorization": f"Bearer {token(platform, 'agent.smith')}"}
    for method, path in (("GET", "/admin/bus"), ("POST", "/admin/bus/dead-letters/replay")):
        refused = requests.request(method, platform["identity"] + path, headers=headers, timeout=30)
        assert (refused.status_code, refused.json()["code"]) == (403, "platform_admin_required")

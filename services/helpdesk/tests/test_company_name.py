"""The requester's company by its name (issue 13 item 14): the token's company_name claim, else the
company registry's answer (the real registry, over HTTP, reading the company with the user's token)."""

from __future__ import annotations

import pytest

from achats.chassis.testing.server import serving
from achats.company_registry.app import SERVICE as REGISTRY

from helpdesk_support import FIREFOX, PEOPLE, make_helpdesk


@pytest.fixture
def registry(tmp_path, keys):
    """The company registry with one company (Curie SARL, a foreign one: no INSEE needed)."""
    config = REGISTRY.load_settings({}, database_url=f"sqlite:///{tmp_path}/registry.db",
                                    amqp_url="memory://registry-helpdesk", insee_base_url="http://127.0.0.1:1",
                                    insee_api_key="unused", log_json=True, jwks_url=keys.jwks_url)
    REGISTRY.migrate(config)
    runtime = REGISTRY.runtime(config)
    app = REGISTRY.create_app(config, runtime)
    identity = {"Authorization": f"Bearer {keys.token({'sub': 'identity', 'roles': ['service']})}"}
    created = app.test_client().post("/registry/companies", headers=identity, json={
        "company": {"source": "foreign", "country_code": "DE", "national_id": "HRB 12345",
                    "vat_number": "DE136695976", "name": "Beispiel GmbH"},
        "establishment": {"street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin", "country_code": "DE"}})
    assert created.status_code in (200, 201), created.text
    with serving(app) as url:
        yield url, created.json()["company"]["id"]
    runtime.db.dispose()


def context_of(desk, headers):
    answer = desk.client.get("/helpdesk/context", headers={**headers, "User-Agent": FIREFOX})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_token_names_the_company(helpdesk):
    marie = helpdesk.auth("marie", company_name="CENTRE COMMUNAL D'ACTION SOCIALE")
    context = context_of(helpdesk, marie)
    assert context["contact"]["company"] == "CENTRE COMMUNAL D'ACTION SOCIALE"
    assert context["context"]["applicative"]["company"] == "CENTRE COMMUNAL D'ACTION SOCIALE"
    # The ticket keeps it, as the form sent it pre-filled.
    created = helpdesk.created(headers=marie)
    assert created["contact"]["company"] == "CENTRE COMMUNAL D'ACTION SOCIALE"
    assert created["context"]["applicative"]["company"] == "CENTRE COMMUNAL D'ACTION SOCIALE"
    # What the requester typed in « Société » wins.
    assert helpdesk.created(headers=marie, company="Curie SARL")["contact"]["company"] == "Curie SARL"


def test_without_the_claim_the_registry_names_the_company(sqlite_url, keys, registry):
    url, company_id = registry
    desk = make_helpdesk(sqlite_url, keys, registry_url=url)
    try:
        marie = desk.auth("marie", company_id=company_id)  # a token issued before company_name existed
        context = context_of(desk, marie)
        assert context["contact"]["company"] == "Beispiel GmbH"
        assert context["context"]["applicative"]["company"] == "Beispiel GmbH"
        assert desk.created(headers=marie)["contact"]["company"] == "Beispiel GmbH"
        # Another company's id: the registry does not tell (404), the context says « Non connu », not the id.
        pierre = desk.auth("pierre")
        other = context_of(desk, pierre)
        assert other["contact"]["company"] is None
        assert other["context"]["applicative"]["company"] == "Non connu"
        assert PEOPLE["pierre"]["company_id"] not in str(other)
    finally:
        desk.runtime.db.dispose()


def test_a_registry_out_of_reach_never_fails_the_form(helpdesk):
    marie = helpdesk.auth("marie")  # no claim, and no registry answering
    context = context_of(helpdesk, marie)
    assert context["context"]["applicative"]["company"] == "Non connu"
    assert helpdesk.created(headers=marie)["contact"]["company"] is None

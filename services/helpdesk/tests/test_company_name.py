"""The requester's company by its name (issue 13 item 14): the token's company_name claim, else the
company registry's answer (over HTTP, reading the company with the user's token: the registry's stand-in,
held to its contract, so that these tests stand alone)."""

from __future__ import annotations

import pytest
from helpdesk_registry_standin import foreign_company, running_registry

from helpdesk_support import FIREFOX, PEOPLE, make_helpdesk


@pytest.fixture
def registry(keys):
    """The company registry (its stand-in, held to the registry's contract) with one company."""
    company = foreign_company("Beispiel GmbH")
    with running_registry(keys, [company]) as (url, asked):
        yield url, company["id"], asked


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
    url, company_id, asked = registry
    desk = make_helpdesk(sqlite_url, keys, registry_url=url)
    try:
        marie = desk.auth("marie", company_id=company_id)  # a token issued before company_name existed
        context = context_of(desk, marie)
        assert context["contact"]["company"] == "Beispiel GmbH"
        assert context["context"]["applicative"]["company"] == "Beispiel GmbH"
        assert desk.created(headers=marie)["contact"]["company"] == "Beispiel GmbH"
        # Asked once: the name is remembered for the form that follows the context.
        assert asked == [f"/registry/companies/{company_id}"]
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

"""The registry stand-in holds identity's calls and its own answers to the registry's contract fragment."""

from __future__ import annotations

import pytest

from registry_standin import ContractBroken, check_answer, check_request


def test_requests_outside_the_contract_are_reported_per_field():
    assert check_request("/companies", "post", {"company": {"source": "insee"},
                                                "establishment": {"siret": "26570134200148"}}) == []
    errors = check_request("/companies", "post", {"company": {"source": "elsewhere"}, "user": {}})
    assert {e["field"] for e in errors} == {"company.source", "body"}


def test_answers_outside_the_contract_fail_loudly():
    with pytest.raises(ContractBroken, match="company_created"):
        check_answer("/companies", "post", 201, {"company": {"id": "x"}})
    with pytest.raises(ContractBroken, match="no 500 answer"):
        check_answer("/companies/{company_id}", "get", 500, {})

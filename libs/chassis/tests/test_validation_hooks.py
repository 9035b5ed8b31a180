"""connexion's private validator hooks that `achats.chassis.validation` overrides still exist as read.

The pin in libs/chassis/pyproject.toml (connexion 3.3.x) keeps them; this test fails loudly, naming
the hook, the day an upgrade moves one, instead of requests passing unvalidated in silence.
"""

from __future__ import annotations

import inspect

import pytest
from connexion.validators import JSONRequestBodyValidator, ParameterValidator

from achats.chassis import validation


@pytest.mark.parametrize(("base", "hook", "parameters"), [
    (JSONRequestBodyValidator, "_parse", ["self", "stream", "scope"]),
    (JSONRequestBodyValidator, "_validate", ["self", "body"]),
    (ParameterValidator, "validate_parameter", ["parameter_type", "value", "param", "param_name"]),
    (ParameterValidator, "validate_request", ["self", "request"]),
])
def test_overridden_hook_exists_with_the_signature_it_was_written_for(base, hook, parameters):
    assert hook in vars(base), f"connexion moved {base.__name__}.{hook}: review achats.chassis.validation"
    assert list(inspect.signature(getattr(base, hook)).parameters) == parameters


def test_validator_property_hook_exists():
    assert isinstance(inspect.getattr_static(JSONRequestBodyValidator, "_validator"), property)
    assert issubclass(validation.FrenchJSONBodyValidator, JSONRequestBodyValidator)

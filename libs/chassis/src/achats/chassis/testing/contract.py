"""A fragment of another service's OpenAPI contract, for the stand-ins a service's tests call instead of it.

A service whose tests must stand alone (an agency may install it without the others) talks, in its tests, to a
stand-in of the service it calls. The stand-in answers from a fragment of that service's contract, copied into
the tests' folder: every request it is sent and every answer it gives is checked against the fragment, and the
repository's ``tests/test_http_contracts.py`` checks that the fragment is still part of the original contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator, resolve_refs

__all__ = ["ContractBroken", "ContractFragment"]


class ContractBroken(AssertionError):
    """A stand-in was sent, or was about to answer, something the original contract does not allow."""


class ContractFragment:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.spec = resolve_refs(yaml.safe_load(path.read_text(encoding="utf-8")))
        self.base = self.spec["servers"][0]["url"]

    def _operation(self, path: str, method: str) -> dict:
        return self.spec["paths"][path][method]

    def check_request(self, path: str, method: str, body: Any) -> list[dict]:
        """The contract's errors of a request body, as our services report them (``[{field, message}]``)."""
        schema = self._operation(path, method)["requestBody"]["content"]["application/json"]["schema"]
        return [{"field": ".".join(str(p) for p in error.absolute_path) or "body", "message": error.message}
                for error in Draft4RequestValidator(schema).iter_errors(body)]

    def check_answer(self, path: str, method: str, status: int, body: Any) -> None:
        """Raise ContractBroken unless the contract has this status for the operation and ``body`` fits it."""
        responses = self._operation(path, method)["responses"]
        if str(status) not in responses:
            raise ContractBroken(f"{method.upper()} {self.base}{path}: the contract has no {status} answer")
        content = responses[str(status)]["content"]
        (media_type,) = content
        errors = list(Draft4ResponseValidator(content[media_type]["schema"]).iter_errors(body))
        if errors:
            raise ContractBroken(f"{method.upper()} {self.base}{path} {status}: {errors[0].message} at "
                                 f"{list(errors[0].absolute_path)}")

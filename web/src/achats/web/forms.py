"""A service's refusal as a form shows it: its French ``detail``, and each field error by form field."""

from __future__ import annotations

from dataclasses import dataclass, field

import requests
from flask_babel import gettext as _


@dataclass(frozen=True)
class ServiceProblem:
    status: int
    code: str
    detail: str
    errors: list[dict] = field(default_factory=list)

    def field_errors(self, fields: dict[str, str]) -> dict[str, str]:
        """``{form field: message}`` for the service's field pointers (``user.email``, ``/user/email``…)
        that ``fields`` maps (service field -> form field); the others stay in ``detail``."""
        out: dict[str, str] = {}
        for error in self.errors:
            pointer = str(error.get("field", "")).strip("/").replace("/", ".")
            target = fields.get(pointer) or fields.get(pointer.rpartition(".")[2])
            if target and target not in out:
                out[target] = error.get("message", "")
        return out


def problem_of(response: requests.Response) -> ServiceProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = body.get("detail") or _("La demande n’a pas pu aboutir. Veuillez réessayer.")
    return ServiceProblem(status=response.status_code, code=str(body.get("code", "")), detail=detail,
                          errors=[e for e in body.get("errors") or [] if isinstance(e, dict)])

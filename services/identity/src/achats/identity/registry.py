"""Client of the company registry's API (contract: its openapi.yaml), with identity's service token."""

from __future__ import annotations

from collections.abc import Callable

from achats.chassis.http import ServiceClient, ServiceUnavailable
from achats.chassis.problems import FieldError, Problem

UNAVAILABLE = ("Le registre des entreprises est momentanément indisponible. Veuillez réessayer dans quelques "
               "minutes. Si le problème persiste, veuillez contacter notre service support.")


class RegistryClient:
    def __init__(self, base_url: str, token_provider: Callable[[], str]):
        self.http = ServiceClient(base_url, service="company-registry", token_provider=token_provider,
                                  connect_timeout=2.0, read_timeout=8.0)

    def create_or_return(self, company: dict, establishment: dict | None) -> dict:
        """The company and establishment, created if needed (the registry is idempotent: retried once)."""
        body = {"company": company, **({"establishment": establishment} if establishment else {})}
        try:
            # No retry on a 5xx: the registry's 503 means « INSEE is down, type by hand », already
            # after its own retries; the user needs that answer now.
            response = self.http.post("/registry/companies", json=body, retry=False,
                                      headers={"Idempotency-Key": _key(body)})
        except ServiceUnavailable:
            raise Problem(status=503, code="registry_unavailable", detail=UNAVAILABLE) from None
        if response.status_code in (200, 201):
            return response.json()
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        # The registry's French problem is the user's answer (invalid SIRET, INSEE down: type by hand...).
        raise Problem(status=response.status_code, code=problem.get("code"), detail=problem.get("detail"),
                      errors=[FieldError(e["field"], e["message"]) for e in problem.get("errors", [])],
                      extra={k: v for k, v in problem.items() if k in ("fallback",)})

    def company_name(self, company_id) -> str:
        """The company's name, for a mail (retried once: a read)."""
        try:
            response = self.http.get(f"/registry/companies/{company_id}")
        except ServiceUnavailable:
            raise Problem(status=503, code="registry_unavailable", detail=UNAVAILABLE) from None
        if response.status_code != 200:
            raise Problem(status=503, code="registry_unavailable", detail=UNAVAILABLE)
        return response.json()["name"]


def _key(body: dict) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

"""Helpers of the company registry tests: the service built on a database, tokens, sample data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from achats.chassis.testing.keys import TestKeys
from achats.company_registry.app import SERVICE


@dataclass
class Registry:
    client: object
    runtime: object
    keys: TestKeys

    def token(self, *roles: str, company_id: str | uuid.UUID | None = None, sub: str | None = None) -> dict:
        claims = {"sub": sub or str(uuid.uuid4()), "roles": list(roles or ("supplier",)),
                  "company_id": str(company_id) if company_id else None, "email": "marie.curie@example.fr",
                  "given_name": "Marie", "family_name": "Curie", "name": "Marie Curie"}
        return {"Authorization": f"Bearer {self.keys.token(claims)}"}

    @property
    def service(self) -> dict:
        return self.token("service")

    def register(self, body: dict) -> dict:
        response = self.client.post("/registry/companies", json=body, headers=self.service)
        assert response.status_code in (200, 201), response.text
        return response.json()


def make_registry(database_url: str, keys: TestKeys, insee_url: str, **settings) -> Registry:
    config = SERVICE.load_settings({}, **{
        "database_url": database_url, "amqp_url": "memory://registry-tests", "insee_base_url": insee_url,
        "insee_api_key": "standin-key", "log_json": True, "jwks_url": keys.jwks_url, **settings})
    SERVICE.migrate(config)
    runtime = SERVICE.runtime(config)
    app = SERVICE.create_app(config, runtime)
    return Registry(client=app.test_client(), runtime=runtime, keys=keys)


MANUAL = {
    "company": {"source": "manual", "siren": "265701342", "name": "CCAS DE METZ", "naf_code": "88.99B",
                "legal_form_code": "7361", "is_pme": True},
    "establishment": {"source": "manual", "siret": "26570134200148", "street": "22 RUE DU WAD BILLY",
                      "postal_code": "57000", "city": "METZ"},
}

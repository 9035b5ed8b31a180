"""Helpers of the identity tests."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from achats.chassis import security
from achats.chassis.bus import outbox
from achats.identity.app import SERVICE as IDENTITY

CCAS_SIRET = "26570134200148"
TEST_SIRET = "39070200900015"
PASSWORD = "un cheval blanc galope dans la plaine"


def registration(login: str = "mcurie", email: str = "marie.curie@example.fr", siret: str = CCAS_SIRET,
                 password: str = PASSWORD, **person) -> dict:
    return {"company": {"source": "insee"}, "establishment": {"siret": siret},
            "user": {"last_name": "Curie", "first_name": "Marie", "email": email, "phone": "+33 3 87 00 00 00",
                     **person},
            "credentials": {"login": login, "password": password}}


@dataclass
class Stack:
    client: object
    runtime: object
    registry_url: str
    registry: object  # what answered for the registry: registry_standin.RegistryStandin, or the real one
    addresses: list[str] = field(default_factory=list)

    @property
    def registry_runtime(self):
        return self.registry.runtime

    @property
    def identity(self):
        return self.runtime.deps.identity

    def events(self, type_: str) -> list[dict]:
        with self.runtime.db.session() as session:
            bodies = session.execute(select(outbox.c.body).where(outbox.c.type == type_).order_by(outbox.c.seq))
            return [json.loads(body)["data"] for body in bodies.scalars()]

    def register(self, *, confirmed: bool = True, **kwargs) -> dict:
        """Register; then, unless ``confirmed=False``, follow the mail's link as the new user would
        (no login before the e-mail is confirmed)."""
        response = self.client.post("/identity/registrations", json=registration(**kwargs))
        assert response.status_code == 202, response.text
        if confirmed:
            self.confirm_email(kwargs.get("email", "marie.curie@example.fr"))
        return response.json()

    def verification_token(self, email: str) -> str:
        """The token of the latest confirmation link mailed to ``email`` (from the outbox's event)."""
        urls = [data["verification_url"] for data in self.events("identity.user.registered")
                if data["email"] == email.lower()]
        assert urls, f"no confirmation mail to {email}"
        return parse_qs(urlparse(urls[-1]).query)["token"][0]

    def confirm_email(self, email: str) -> None:
        response = self.client.post("/identity/email-verifications", json={"token": self.verification_token(email)})
        assert response.status_code == 204, response.text

    def login(self, login: str = "mcurie", password: str = PASSWORD) -> dict:
        response = self.client.post("/identity/sessions", json={"login": login, "password": password})
        assert response.status_code == 200, response.text
        return response.json()

    def auth(self, login: str = "mcurie", password: str = PASSWORD) -> dict:
        return {"Authorization": f"Bearer {self.login(login, password)['access_token']}"}

    def link_token(self, type_: str, key: str) -> str:
        url = self.events(type_)[-1][key]
        return parse_qs(urlparse(url).query)["token"][0]

    def me(self, headers: dict) -> dict:
        response = self.client.get("/identity/me", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


@contextlib.contextmanager
def build_stack(database_url: str, tmp_path, registry, **identity_settings) -> Iterator[Stack]:
    """Identity on ``database_url``, its registry client calling ``registry`` over HTTP: the stand-in of
    registry_standin.py here (``registry.serving(verifier, tmp_path)`` gives its base URL), the real
    registry in tests/test_event_contracts.py."""
    namespace = uuid.uuid4().hex[:8]
    identity_config = IDENTITY.load_settings({}, **{
        "database_url": database_url, "amqp_url": f"memory://identity-{namespace}", "log_json": True,
        "public_base_url": "https://marches.example.fr", "registry_url": "http://127.0.0.1:1",
        **identity_settings})
    IDENTITY.migrate(identity_config)
    runtime = IDENTITY.runtime(identity_config)
    identity = runtime.deps.identity
    # The registry verifies identity's tokens with identity's public keys, as it would through the JWKS URL.
    verifier = security.TokenVerifier(security.JWKSCache("identity", fetch=lambda _url: identity.keys.jwks()),
                                      issuer=identity_config.issuer, audience=identity_config.audience)
    with registry.serving(verifier, tmp_path) as registry_url:
        runtime.deps.registry.http.base_url = registry_url
        app = IDENTITY.create_app(identity_config, runtime)
        yield Stack(client=app.test_client(), runtime=runtime, registry_url=registry_url, registry=registry)
    runtime.db.dispose()

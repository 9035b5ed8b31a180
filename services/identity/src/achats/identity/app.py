"""Composition root of identity."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from achats.chassis import security
from achats.chassis.app import Runtime
from achats.chassis.service import ServiceDefinition

from .consumers import HANDLERS
from .keys import KeyRing
from .passwords import Hasher
from .registry import RegistryClient
from .sessions import Identity, create_client
from .settings import IdentitySettings
from .timing import Equalizer

HERE = Path(__file__).parent


def build_identity(runtime: Runtime) -> Identity:
    s: IdentitySettings = runtime.settings
    keys = KeyRing(runtime.db, rotation=timedelta(days=s.key_rotation_days),
                   # A retired key signs nothing more; it stays published until its last token expires.
                   keep_retired=timedelta(seconds=s.access_token_ttl + s.service_token_ttl + 120),
                   secret=s.key_encryption_secret)
    hasher = Hasher(memory_kib=s.argon2_memory_kib, time_cost=s.argon2_time_cost, parallelism=s.argon2_parallelism)
    return Identity(settings=s, db=runtime.db, keys=keys, hasher=hasher)


def configure(runtime: Runtime) -> None:
    identity = build_identity(runtime)
    s = runtime.settings
    runtime.extras["identity"] = identity
    runtime.extras["registry"] = RegistryClient(s.registry_url, identity.service_token)
    runtime.extras["registration_timing"] = Equalizer(initial=0.1)
    runtime.extras["reset_timing"] = Equalizer(initial=0.02)
    runtime.extras["resend_timing"] = Equalizer(initial=0.05)
    # Identity verifies its own tokens from its key ring: no HTTP round trip to itself.
    runtime.extras["verifier"] = security.TokenVerifier(
        security.JWKSCache("identity:local", fetch=lambda _url: identity.keys.jwks()), issuer=s.issuer,
        audience=s.audience)


def bootstrap_clients(runtime: Runtime) -> None:
    identity: Identity = runtime.extras["identity"]
    for pair in runtime.settings.bootstrap_clients:
        client_id, _, secret = pair.partition(":")
        if client_id and secret:
            create_client(identity, client_id.strip(), secret.strip())


def background(runtime: Runtime):
    def rotate_when_due(stop) -> None:
        identity: Identity = runtime.extras["identity"]
        bootstrap_clients(runtime)
        while not stop.is_set():
            identity.keys.active()  # creates or rotates the signing key when due
            stop.wait(3600)

    return [rotate_when_due]


SERVICE = ServiceDefinition(
    name="identity",
    port=8101,
    spec=HERE / "openapi.yaml",
    settings_class=IdentitySettings,
    migrations=HERE / "migrations",
    configure=configure,
    handlers=lambda runtime: HANDLERS,
    background=background,
)

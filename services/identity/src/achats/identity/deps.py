"""Identity's dependencies, built once per process by its ServiceDefinition (``runtime.deps``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from achats.chassis import security
from achats.chassis.app import Runtime, current_runtime

from .keys import KeyRing
from .passwords import Hasher
from .registry import RegistryClient
from .sessions import Identity
from .settings import IdentitySettings
from .timing import Equalizer


@dataclass(frozen=True)
class Dependencies:
    identity: Identity  # settings, database, key ring and password hasher of the use cases
    registry: RegistryClient  # the company registry, called with identity's own service token
    # Each anonymous answer that could tell an account exists takes the same time whatever the case.
    registration_timing: Equalizer
    reset_timing: Equalizer
    resend_timing: Equalizer


def build_identity(runtime: Runtime) -> Identity:
    s: IdentitySettings = runtime.settings
    keys = KeyRing(runtime.db, rotation=timedelta(days=s.key_rotation_days),
                   # A retired key signs nothing more; it stays published until its last token expires.
                   keep_retired=timedelta(seconds=s.access_token_ttl + s.service_token_ttl + 120),
                   secret=s.key_encryption_secret)
    hasher = Hasher(memory_kib=s.argon2_memory_kib, time_cost=s.argon2_time_cost, parallelism=s.argon2_parallelism)
    return Identity(settings=s, db=runtime.db, keys=keys, hasher=hasher)


def build(runtime: Runtime) -> Dependencies:
    identity = build_identity(runtime)
    return Dependencies(identity=identity,
                        registry=RegistryClient(runtime.settings.registry_url, identity.service_token),
                        registration_timing=Equalizer(initial=0.1), reset_timing=Equalizer(initial=0.02),
                        resend_timing=Equalizer(initial=0.05))


def verifier(runtime: Runtime) -> security.TokenVerifier:
    """Identity verifies its own tokens from its key ring: no HTTP round trip to itself."""
    identity: Identity = runtime.deps.identity
    s = runtime.settings
    return security.TokenVerifier(security.JWKSCache("identity:local", fetch=lambda _url: identity.keys.jwks()),
                                  issuer=s.issuer, audience=s.audience)


def current() -> Dependencies:
    """The dependencies of the app serving the request."""
    return current_runtime().deps

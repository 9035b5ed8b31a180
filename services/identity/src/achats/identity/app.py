"""Composition root of identity."""

from __future__ import annotations

from pathlib import Path

from achats.chassis.app import Runtime
from achats.chassis.service import ServiceDefinition

from . import consumers, deps
from .sessions import Identity, create_client
from .settings import IdentitySettings

HERE = Path(__file__).parent


def bootstrap_clients(runtime: Runtime) -> None:
    identity: Identity = runtime.deps.identity
    for pair in runtime.settings.bootstrap_clients:
        client_id, _, secret = pair.partition(":")
        if client_id and secret:
            create_client(runtime.db.unit_of_work(), identity, client_id.strip(), secret.strip())


def background(runtime: Runtime):
    def rotate_when_due(stop) -> None:
        identity: Identity = runtime.deps.identity
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
    dependencies=deps.build,
    verifier=deps.verifier,
    handlers=consumers.handlers,
    background=background,
)

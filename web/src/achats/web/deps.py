"""The web front end's dependencies, built once per process by its ServiceDefinition (``runtime.deps``):
one HTTP client per service its pages call, each with the user's token (never a business rule of its own)."""

from __future__ import annotations

from dataclasses import dataclass

from achats.chassis.app import Runtime, current_runtime
from achats.chassis.http import ServiceClient

from .settings import WebSettings


@dataclass(frozen=True)
class Dependencies:
    identity: ServiceClient
    registry: ServiceClient
    helpdesk: ServiceClient
    notifier: ServiceClient
    consultations: ServiceClient
    signature: ServiceClient

    def client(self, service: str) -> ServiceClient:
        """The client of a service named in a table of pages (``"registry"``, ``"helpdesk"``...)."""
        found = getattr(self, service, None)
        if not isinstance(found, ServiceClient):
            raise KeyError(service)
        return found


def build(runtime: Runtime) -> Dependencies:
    s: WebSettings = runtime.settings
    return Dependencies(
        identity=ServiceClient(s.identity_url, service="identity"),
        registry=ServiceClient(s.registry_url, service="company-registry"),
        helpdesk=ServiceClient(s.helpdesk_url, service="helpdesk"),
        notifier=ServiceClient(s.notifier_url, service="notifier"),
        consultations=ServiceClient(s.consultations_url, service="consultations"),
        # A verification or a signing runs in the service's sandbox (its own 30 s budget): wait for it.
        signature=ServiceClient(s.signature_url, service="signature", read_timeout=60))


def current() -> Dependencies:
    """The dependencies of the app serving the request."""
    return current_runtime().deps

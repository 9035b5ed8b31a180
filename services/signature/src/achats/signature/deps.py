"""The signature service's dependencies, built once per process by its ServiceDefinition (``runtime.deps``)."""

from __future__ import annotations

from dataclasses import dataclass

from achats.chassis.app import Runtime, current_runtime

from . import sandbox
from .settings import SignatureSettings
from .trust.lists import TrustListStore


@dataclass(frozen=True)
class Dependencies:
    # Nothing starts when they are built: the refresh thread and the worker processes start on first use,
    # so that no thread or process exists before a server forks its workers.
    trust_lists: TrustListStore  # the EU trusted lists (LOTL and national lists), refreshed and cached on disk
    sandbox: sandbox.Sandbox  # the processes that parse and sign documents, away from the server's memory


def build(runtime: Runtime) -> Dependencies:
    settings: SignatureSettings = runtime.settings
    return Dependencies(trust_lists=TrustListStore.from_settings(settings),
                        sandbox=sandbox.shared(settings.workers, settings.validation_queue_timeout))


def current() -> Dependencies:
    """The dependencies of the app serving the request."""
    return current_runtime().deps

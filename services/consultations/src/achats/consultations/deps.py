"""The consultations service's dependencies, built once per process by its ServiceDefinition (``runtime.deps``)."""

from __future__ import annotations

from dataclasses import dataclass

from achats.chassis.app import Runtime, current_runtime

from .deposits import Depot


@dataclass(frozen=True)
class Dependencies:
    # The sealed deposits: storage, master keys, timestamping and the signature service's verdicts.
    depot: Depot


def build(runtime: Runtime) -> Dependencies | None:
    return Dependencies(depot=Depot.from_settings(runtime.settings)) if runtime.db is not None else None


def current() -> Dependencies:
    """The dependencies of the app serving the request."""
    return current_runtime().deps

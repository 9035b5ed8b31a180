"""The company registry's dependencies, built once per process by its ServiceDefinition (``runtime.deps``)."""

from __future__ import annotations

from dataclasses import dataclass

from achats.chassis.app import Runtime, current_runtime

from .insee import InseeClient


@dataclass(frozen=True)
class Dependencies:
    insee: InseeClient  # the Sirene API behind its cache, rate limit, circuit breaker and maintenance switch


def build(runtime: Runtime) -> Dependencies:
    return Dependencies(insee=InseeClient(runtime.db, runtime.settings.insee()))


def current() -> Dependencies:
    """The dependencies of the app serving the request."""
    return current_runtime().deps

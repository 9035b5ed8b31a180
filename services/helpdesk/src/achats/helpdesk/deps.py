"""The helpdesk's dependencies, built once per process by its ServiceDefinition (``runtime.deps``)."""

from __future__ import annotations

from dataclasses import dataclass

from achats.chassis.app import Runtime, current_runtime

from .companies import CompanyNames


@dataclass(frozen=True)
class Dependencies:
    company_names: CompanyNames  # the registry's name of a company, for a token that does not carry it


def build(runtime: Runtime) -> Dependencies:
    return Dependencies(company_names=CompanyNames(runtime.settings.registry_url))


def current() -> Dependencies:
    """The dependencies of the app serving the request."""
    return current_runtime().deps

"""Composition root of the helpdesk."""

from __future__ import annotations

from pathlib import Path

from achats.chassis.app import Runtime
from achats.chassis.service import ServiceDefinition, every

from . import consumers, context, deps, jobs
from .settings import HelpdeskSettings

HERE = Path(__file__).parent


def dependencies(runtime: Runtime) -> deps.Dependencies:
    # The User-Agent parser loads its rules on first use (~0.1 s): not during someone's request.
    context.describe_user_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0")
    return deps.build(runtime)


def background(runtime: Runtime):
    return [every(runtime.settings.auto_close_interval, lambda: jobs.auto_close(runtime), "auto_close")]


SERVICE = ServiceDefinition(
    name="helpdesk",
    port=8103,
    spec=HERE / "openapi.yaml",
    settings_class=HelpdeskSettings,
    migrations=HERE / "migrations",
    dependencies=dependencies,
    handlers=consumers.handlers,
    background=background,
)

"""Composition root of the company registry."""

from pathlib import Path

from achats.chassis.app import Runtime
from achats.chassis.service import ServiceDefinition, every

from . import deps, jobs
from .settings import RegistrySettings

HERE = Path(__file__).parent


def background(runtime: Runtime):
    settings = runtime.settings
    return [every(settings.reverify_interval, lambda: jobs.reverify(runtime), "reverify"),
            every(settings.expiry_job_interval, lambda: jobs.notify_expiring(runtime), "expiring_documents")]


SERVICE = ServiceDefinition(
    name="company-registry",
    port=8102,
    spec=HERE / "openapi.yaml",
    settings_class=RegistrySettings,
    migrations=HERE / "migrations",
    dependencies=deps.build,
    background=background,
)

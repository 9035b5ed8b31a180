"""Composition root of the gateway."""

from pathlib import Path

from achats.chassis.app import Runtime
from achats.chassis.http import ServiceClient
from achats.chassis.service import ServiceDefinition

from .settings import GatewaySettings


def configure(runtime: Runtime) -> None:
    upstreams = {}
    for pair in runtime.settings.upstreams:
        name, _, url = pair.partition("=")
        upstreams[name.strip()] = ServiceClient(url.strip(), service=name.strip(), connect_timeout=0.5,
                                                read_timeout=2.0, retries=0)
    runtime.extras["upstreams"] = upstreams


SERVICE = ServiceDefinition(
    name="gateway",
    port=8080,
    spec=Path(__file__).parent / "openapi.yaml",
    settings_class=GatewaySettings,
    configure=configure,
    uses_database=False,
)

"""Gateway settings: it has no database and publishes no events."""

from dataclasses import dataclass

from achats.chassis.settings import ServiceSettings


@dataclass(frozen=True)
class GatewaySettings(ServiceSettings):
    database_url: str = ""
    amqp_url: str = ""
    # name=url pairs of the services behind the gateway.
    upstreams: tuple[str, ...] = ()

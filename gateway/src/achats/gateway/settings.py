"""Gateway settings: it has no database and publishes no events."""

from dataclasses import dataclass

from achats.chassis.settings import ServiceSettings


@dataclass(frozen=True)
class GatewaySettings(ServiceSettings):
    database_url: str = ""
    amqp_url: str = ""
    # name=url pairs of the services behind the gateway (identity, company-registry, ...).
    upstreams: tuple[str, ...] = ()
    # The largest request the gateway forwards anywhere (routes have their own, smaller, limits).
    max_body_bytes: int = 60 * 1024 * 1024
    # Rate limits shared by every gateway worker: Redis when set, else each process counts alone.
    redis_url: str = ""
    rate_ip_per_minute: int = 600
    rate_user_per_minute: int = 1200
    # Sensitive routes (logins, registrations, resets...): per target named in the request (an
    # identifiant, an e-mail, a SIRET), and a ceiling per address high enough for an office's NAT.
    rate_sensitive_per_minute: int = 10
    rate_sensitive_address_per_minute: int = 300
    trust_forwarded_for: bool = False
    cors_origins: tuple[str, ...] = ()
    upstream_connect_timeout: float = 2.0
    upstream_pool_size: int = 100

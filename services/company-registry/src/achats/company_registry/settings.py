"""Settings of the company registry."""

from dataclasses import dataclass

from achats.chassis.settings import ServiceSettings

from .insee import InseeConfig


@dataclass(frozen=True)
class RegistrySettings(ServiceSettings):
    max_body_bytes: int = 12 * 1024 * 1024
    insee_base_url: str = "http://127.0.0.1:8190/api-sirene/3.11"
    insee_api_key: str = "standin-key"
    insee_api_key_header: str = "X-INSEE-Api-Key-Integration"
    # A call waits for INSEE's answer as long as the budget lets it: a fixed 3 s read timeout threw
    # away answers INSEE gave late but in time (a 404 at 3.2 s became « INSEE indisponible »), and the
    # half second it left could not fit a useful second call anyway. Connecting gets a short while:
    # a connection that does not open in a second is worth one more try.
    insee_connect_timeout: float = 1.0
    # The budget of one user action (lookup, search), counted from the request's arrival.
    insee_deadline: float = 3.5
    insee_calls_per_minute: int = 30
    insee_cache_ttl: float = 86_400.0
    # How long « INSEE does not know this number » is remembered.
    insee_not_found_ttl: float = 3_600.0
    insee_maintenance: bool = False
    # Consecutive failures that open the circuit breaker, and seconds before it lets one call try.
    insee_breaker_failures: int = 5
    insee_breaker_reset: float = 30.0
    # How often the worker re-checks manual entries against INSEE, and how many per round.
    reverify_interval: float = 600.0
    reverify_batch: int = 5
    vault_max_bytes: int = 10 * 1024 * 1024
    vault_max_documents: int = 200
    expiry_notice_days: int = 15
    # Seconds between two runs of the expiring-documents job (daily).
    expiry_job_interval: float = 86_400.0

    def insee(self) -> InseeConfig:
        return InseeConfig.from_settings(self)

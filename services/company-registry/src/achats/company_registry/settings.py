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
    # Seconds to connect to INSEE (an answer is waited for as long as the budget lets it).
    insee_connect_timeout: float = 1.0
    # The budget of one user action (lookup, search), counted from the request's arrival.
    insee_deadline: float = 3.5
    insee_calls_per_minute: int = 30
    insee_cache_ttl: float = 86_400.0
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
        return InseeConfig(base_url=self.insee_base_url, api_key=self.insee_api_key,
                           api_key_header=self.insee_api_key_header,
                           connect_timeout=self.insee_connect_timeout,
                           deadline=self.insee_deadline, calls_per_minute=self.insee_calls_per_minute,
                           cache_ttl=self.insee_cache_ttl, maintenance=self.insee_maintenance,
                           breaker_failures=self.insee_breaker_failures, breaker_reset=self.insee_breaker_reset)

"""Settings of the identity service."""

from dataclasses import dataclass

from achats.chassis.settings import ServiceSettings


@dataclass(frozen=True)
class IdentitySettings(ServiceSettings):
    # Where users follow links sent by mail (the web front end through the gateway).
    public_base_url: str = "http://localhost:8080"
    issuer: str = "http://localhost:8080/identity"
    audience: str = "achats"
    access_token_ttl: int = 300
    refresh_token_ttl: int = 1_800  # idle: each use gives a new one
    session_max_age: int = 36_000  # a login lasts at most 10 h, however often it is refreshed
    service_token_ttl: int = 300
    key_rotation_days: int = 30
    # When set, private signing keys are stored encrypted with this secret.
    key_encryption_secret: str = ""
    reset_link_ttl: int = 3_600
    verification_link_ttl: int = 86_400
    password_min_length: int = 15
    password_max_length: int = 256
    # argon2id parameters (Keycloak's since version 25, or stronger).
    argon2_memory_kib: int = 7_168
    argon2_time_cost: int = 5
    argon2_parallelism: int = 1
    # Brute force: per login name and per source address.
    login_delay_after: int = 5
    login_lock_after: int = 10
    login_lock_seconds: int = 900
    ip_delay_after: int = 20
    ip_lock_after: int = 100
    ip_lock_seconds: int = 900
    failure_window_seconds: int = 43_200
    trust_forwarded_for: bool = False
    registry_url: str = "http://127.0.0.1:8102"
    # Service clients allowed to use client credentials, as id:secret pairs (embedded mode; else the CLI).
    bootstrap_clients: tuple[str, ...] = ()

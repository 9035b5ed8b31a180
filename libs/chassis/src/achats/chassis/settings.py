"""Typed settings read from the environment, where ``<SERVICE>_<KEY>`` overrides ``<KEY>``."""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

MISSING = dataclasses.MISSING


class SettingsError(RuntimeError):
    """A required setting is missing or a value cannot be read; the process must not start.

    ``missing`` names the required variables that are not set (``IDENTITY_DATABASE_URL``), so a
    command can tell its user which ones in their own words."""

    def __init__(self, message: str, *, missing: tuple[str, ...] = ()):
        super().__init__(message)
        self.missing = missing


def env_prefix(service: str) -> str:
    return service.upper().replace("-", "_").replace(".", "_") + "_"


@dataclass(frozen=True)
class ServiceSettings:
    """What every service reads. Services subclass it and add their own fields.

    A field without a default is required. Values are looked up as ``<SERVICE>_<FIELD>``
    then ``<FIELD>`` (upper case), so one process can host several services
    (``HELPDESK_DATABASE_URL`` next to ``IDENTITY_DATABASE_URL``) while shared values
    (``AMQP_URL``) are set once.
    """

    service: str = field(metadata={"env": False})
    database_url: str
    amqp_url: str
    events_exchange: str = "achats.events"
    # Prefix for queue names, so that test runs and tenants sharing a broker never meet.
    queue_prefix: str = ""
    jwks_url: str = ""
    jwt_issuer: str = ""
    jwt_audience: str = ""
    log_level: str = "INFO"
    log_json: bool = True
    max_body_bytes: int = 1_048_576
    relay_batch_size: int = 200
    relay_poll_interval: float = 1.0
    consumer_prefetch: int = 50
    # Delays (seconds) before each new attempt of a failed event; then the dead-letter queue.
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0, 600.0)
    expose_docs: bool = True

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Read the settings; list every missing or malformed value in one clear error."""
        environ = os.environ if environ is None else environ
        prefix = env_prefix(service)
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {"service": service}
        problems: list[str] = []
        missing: list[str] = []
        for f in dataclasses.fields(cls):
            if f.name == "service":
                continue
            if f.name in overrides:
                values[f.name] = overrides[f.name]
                continue
            key = f.name.upper()
            raw = environ.get(prefix + key, environ.get(key))
            if raw is None:
                if f.default is MISSING and f.default_factory is MISSING:
                    problems.append(f"{prefix}{key} (or {key}) is required but not set")
                    missing.append(prefix + key)
                continue
            try:
                values[f.name] = _convert(raw, hints[f.name])
            except ValueError as exc:
                problems.append(f"{prefix}{key}: {exc}")
        if problems:
            raise SettingsError(f"Invalid configuration for service {service!r}: " + "; ".join(problems),
                                missing=tuple(missing))
        return cls(**values)


def _convert(raw: str, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if raw == "":
            return None
        return _convert(raw, args[0])
    if hint is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"expected a boolean (true/false), got {raw!r}")
    if hint is int:
        try:
            return int(raw.replace("_", ""))
        except ValueError:
            raise ValueError(f"expected an integer, got {raw!r}") from None
    if hint is float:
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"expected a number, got {raw!r}") from None
    if origin is tuple:
        (item,) = {a for a in typing.get_args(hint) if a is not Ellipsis}
        return tuple(_convert(part.strip(), item) for part in raw.split(",") if part.strip())
    return raw

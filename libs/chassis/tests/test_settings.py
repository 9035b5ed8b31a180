"""Settings from the environment: prefix rule, conversion, failing fast."""

from dataclasses import dataclass

import pytest

from achats.chassis.settings import ServiceSettings, SettingsError


@dataclass(frozen=True)
class HelpdeskSettings(ServiceSettings):
    max_attachment_bytes: int = 10
    sla_hours: float = 48.0
    allowed_types: tuple[str, ...] = ("application/pdf",)


BASE = {"DATABASE_URL": "sqlite://", "AMQP_URL": "memory://"}


def test_service_prefix_overrides_shared_value():
    env = {**BASE, "HELPDESK_DATABASE_URL": "postgresql://h/db", "IDENTITY_DATABASE_URL": "postgresql://i/db"}
    assert HelpdeskSettings.from_env("helpdesk", env).database_url == "postgresql://h/db"
    assert ServiceSettings.from_env("identity", env).database_url == "postgresql://i/db"
    assert ServiceSettings.from_env("notifier", env).database_url == "sqlite://"


def test_dashes_in_service_names_become_underscores():
    env = {**BASE, "COMPANY_REGISTRY_AMQP_URL": "amqp://x"}
    assert ServiceSettings.from_env("company-registry", env).amqp_url == "amqp://x"


def test_values_are_converted_to_the_field_types():
    env = {**BASE, "HELPDESK_MAX_ATTACHMENT_BYTES": "10_485_760", "SLA_HOURS": "2.5", "LOG_JSON": "false",
           "HELPDESK_ALLOWED_TYPES": "application/pdf, image/png", "RETRY_DELAYS": "0.1,0.2"}
    settings = HelpdeskSettings.from_env("helpdesk", env)
    assert settings.max_attachment_bytes == 10_485_760
    assert settings.sla_hours == 2.5
    assert settings.log_json is False
    assert settings.allowed_types == ("application/pdf", "image/png")
    assert settings.retry_delays == (0.1, 0.2)


def test_every_missing_or_bad_value_is_named_in_one_error():
    with pytest.raises(SettingsError) as excinfo:
        HelpdeskSettings.from_env("helpdesk", {"HELPDESK_MAX_ATTACHMENT_BYTES": "lots", "LOG_JSON": "maybe"})
    message = str(excinfo.value)
    for expected in ("HELPDESK_DATABASE_URL (or DATABASE_URL) is required", "HELPDESK_AMQP_URL",
                     "HELPDESK_MAX_ATTACHMENT_BYTES: expected an integer", "HELPDESK_LOG_JSON: expected a boolean"):
        assert expected in message
    assert excinfo.value.missing == ("HELPDESK_DATABASE_URL", "HELPDESK_AMQP_URL")


def test_explicit_overrides_win_over_the_environment():
    settings = ServiceSettings.from_env("identity", BASE, database_url="sqlite:///x.db")
    assert settings.database_url == "sqlite:///x.db"
    assert settings.service == "identity"

"""Settings: required values fail fast and say which; defaults as the guide has them."""

from __future__ import annotations

import pytest

from achats.chassis.settings import SettingsError
from achats.notifier.app import SERVICE

BASE = {"DATABASE_URL": "sqlite:///x.db", "AMQP_URL": "memory://x"}


def test_the_mail_server_domain_and_public_url_are_required():
    with pytest.raises(SettingsError) as error:
        SERVICE.load_settings(BASE)
    for key in ("NOTIFIER_MAIL_URL", "NOTIFIER_MAIL_DOMAIN", "NOTIFIER_PUBLIC_BASE_URL"):
        assert key in str(error.value)


def test_defaults():
    settings = SERVICE.load_settings({**BASE, "MAIL_URL": "smtp://relay:25", "MAIL_DOMAIN": "marches.example",
                                      "PUBLIC_BASE_URL": "https://marches.example"})
    assert settings.sender == "nepasrepondre@marches.example"
    assert settings.support_phone == "08 20 20 77 43"
    assert settings.platform_name == "La plateforme des marchés publics"
    assert settings.reveal_links is False
    custom = SERVICE.load_settings({**BASE, "NOTIFIER_MAIL_URL": "smtps://u:p@relay", "MAIL_DOMAIN": "m.example",
                                    "PUBLIC_BASE_URL": "https://m.example", "MAIL_FROM": "support@m.example"})
    assert custom.sender == "support@m.example"


@pytest.mark.parametrize(("key", "value", "complaint"), [
    ("MAIL_URL", "http://relay", "MAIL_URL"),
    ("PUBLIC_BASE_URL", "marches.example", "PUBLIC_BASE_URL"),
    ("MAIL_TIMEZONE", "Europe/Atlantide", "MAIL_TIMEZONE"),
])
def test_malformed_values_stop_the_start(key, value, complaint):
    environ = {**BASE, "MAIL_URL": "smtp://relay", "MAIL_DOMAIN": "m.example", "PUBLIC_BASE_URL": "https://m.example",
               key: value}
    with pytest.raises(SettingsError, match=complaint):
        SERVICE.load_settings(environ)


def test_the_embedded_defaults_are_complete(tmp_path):
    environ = {**BASE, **{key: value.format(var=tmp_path) for key, value in SERVICE.embedded.items()}}
    settings = SERVICE.load_settings(environ)
    assert settings.mail_url == f"maildir://{tmp_path}/mail" and settings.reveal_links is True

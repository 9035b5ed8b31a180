"""Factory of the sample service for gunicorn in tests."""

from pathlib import Path

from achats.chassis.app import create_app
from achats.chassis.settings import ServiceSettings


def app():
    settings = ServiceSettings.from_env("sample", database_url="", amqp_url="")
    return create_app(settings, spec=Path(__file__).parent / "sample_service" / "openapi.yaml",
                      api_module="sample_service.api")

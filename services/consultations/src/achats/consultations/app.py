"""Composition root of the consultations service."""

from __future__ import annotations

from pathlib import Path

from achats.chassis.service import ServiceDefinition

from .settings import ConsultationsSettings

HERE = Path(__file__).parent

SERVICE = ServiceDefinition(
    name="consultations",
    port=8107,
    spec=HERE / "openapi.yaml",
    settings_class=ConsultationsSettings,
    migrations=HERE / "migrations",
)

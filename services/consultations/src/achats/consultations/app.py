"""Composition root of the consultations service."""

from __future__ import annotations

from pathlib import Path

from achats.chassis.app import Runtime
from achats.chassis.service import ServiceDefinition, every

from . import deps
from .deposits import purge
from .settings import ConsultationsSettings

HERE = Path(__file__).parent


def background(runtime: Runtime):
    return [every(runtime.settings.purge_interval, lambda: purge(runtime.db.unit_of_work(), runtime.deps.depot),
                  "purge")]


SERVICE = ServiceDefinition(
    name="consultations",
    port=8107,
    spec=HERE / "openapi.yaml",
    settings_class=ConsultationsSettings,
    migrations=HERE / "migrations",
    dependencies=deps.build,
    background=background,
    embedded={"DEPOSIT_STORAGE": "{var}/consultations/deposits",
              "MASTER_KEY_FILE": "{var}/consultations/master.key",
              "TSA_URL": "http://127.0.0.1:8192/tsa",
              "SIGNATURE_URL": "http://127.0.0.1:8104"},
)

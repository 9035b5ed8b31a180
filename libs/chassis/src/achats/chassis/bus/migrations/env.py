"""Alembic environment of the chassis' bus tables (version table ``achats_bus_version``)."""

from achats.chassis.bus.schema import bus_metadata
from achats.chassis.migrations import run_env

run_env(bus_metadata)

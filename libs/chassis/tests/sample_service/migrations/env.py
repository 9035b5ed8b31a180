"""Alembic environment of the sample service."""

from achats.chassis.migrations import run_env

from sample_service.models import Base

run_env(Base.metadata)

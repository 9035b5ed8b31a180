"""Alembic environment of the company registry."""

from achats.chassis.migrations import run_env
from achats.company_registry.models import Base

run_env(Base.metadata)

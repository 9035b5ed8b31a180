"""Alembic environment of identity."""

from achats.chassis.migrations import run_env
from achats.identity.models import Base

run_env(Base.metadata)

"""Alembic environment of the consultations."""

from achats.chassis.migrations import run_env
from achats.consultations.models import Base

run_env(Base.metadata)

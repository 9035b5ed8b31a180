"""Alembic environment of the notifier."""

from achats.chassis.migrations import run_env
from achats.notifier.models import Base

run_env(Base.metadata)

"""Alembic environment of the helpdesk."""

from achats.chassis.migrations import run_env
from achats.helpdesk.models import Base

run_env(Base.metadata)

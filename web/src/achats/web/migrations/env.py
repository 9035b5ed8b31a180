"""Alembic environment of the web front end."""

from achats.chassis.migrations import run_env
from achats.web.models import Base

run_env(Base.metadata)

"""Alembic environment of the signature service."""

from achats.chassis.migrations import run_env
from achats.signature.models import Base

run_env(Base.metadata)

"""What every handler needs: the Identity use-case context, the caller, its address."""

from __future__ import annotations

import flask

from achats.chassis.app import current_runtime
from achats.chassis.db import UnitOfWork
from achats.chassis.security import Principal

from .. import deps
from ..sessions import Identity


def identity() -> Identity:
    return deps.current().identity


def unit_of_work() -> UnitOfWork:
    """A unit of work of identity's database, for one use case."""
    return current_runtime().db.unit_of_work()


def caller(token_info: dict) -> Principal:
    return Principal.from_claims(token_info)


def client_address() -> str:
    request = flask.request
    if identity().settings.trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            # The gateway appends the address it saw: the last hop is the one it vouches for.
            return forwarded.split(",")[-1].strip()[:100]
    return (request.remote_addr or "unknown")[:100]

"""Fixtures of the helpdesk tests: the service on a fresh database (SQLite and PostgreSQL), tokens."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from achats.chassis import security
from achats.chassis.testing.keys import TestKeys

sys.path.insert(0, str(Path(__file__).parent))

from helpdesk_support import make_helpdesk


@pytest.fixture(scope="session")
def key_pair():
    return TestKeys()


@pytest.fixture
def keys(key_pair):
    """Tokens signed by a test key, verified by the process-wide verifier (reset after each test)."""
    security.configure(security.TokenVerifier(security.JWKSCache("http://unused",
                                                                 fetch=lambda _url: key_pair.jwks())))
    yield key_pair
    security.configure(None)


@pytest.fixture
def helpdesk(sqlite_url, keys):
    """The service on SQLite (the embedded mode): most tests."""
    service = make_helpdesk(sqlite_url, keys)
    yield service
    service.runtime.db.dispose()


@pytest.fixture
def any_helpdesk(database_url, keys):
    """The service on SQLite, then on PostgreSQL: the tests whose SQL differs between the two."""
    service = make_helpdesk(database_url, keys)
    yield service
    service.runtime.db.dispose()

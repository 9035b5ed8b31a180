"""Fixtures of the helpdesk tests: the service on a fresh database (SQLite and PostgreSQL), tokens."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpdesk_support import make_helpdesk


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

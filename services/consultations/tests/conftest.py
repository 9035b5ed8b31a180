"""Fixtures of the consultations tests: the service on a fresh database (SQLite and PostgreSQL), tokens."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from consultations_support import make_consultations


@pytest.fixture
def consultations(database_url, keys):
    """The service on SQLite (the embedded mode), then on PostgreSQL."""
    service = make_consultations(database_url, keys)
    yield service
    service.runtime.db.dispose()

"""Fixtures of the consultations tests: the service on a fresh database (SQLite and PostgreSQL), tokens, the
test TSA."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tsa_standin import running_tsa

from consultations_support import make_consultations


@pytest.fixture(scope="session")
def tsa():
    with running_tsa() as running:
        yield running


@pytest.fixture
def consultations(database_url, keys, tsa, tmp_path):
    """The service on SQLite (the embedded mode), then on PostgreSQL."""
    tsa.reset()
    service = make_consultations(database_url, keys, tsa=tsa, storage=tmp_path / "deposits")
    yield service
    service.runtime.db.dispose()

"""Fixtures of the company registry tests: the service on a fresh database, the INSEE stand-in, tokens."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from registry_support import make_registry


@pytest.fixture(scope="session")
def standin():
    from achats.company_registry.standin.testing import running_standin

    with running_standin() as server:
        yield server


@pytest.fixture
def insee(standin):
    standin.reset()
    yield standin
    standin.reset()


@pytest.fixture
def registry(database_url, keys, insee):
    registry = make_registry(database_url, keys, insee.base_url)
    yield registry
    registry.runtime.db.dispose()


@pytest.fixture
def offline_registry(sqlite_url, keys):
    """INSEE unreachable (nothing listens on port 1): manual and foreign paths."""
    registry = make_registry(sqlite_url, keys, "http://127.0.0.1:1/api-sirene/3.11", insee_deadline=1.0)
    yield registry
    registry.runtime.db.dispose()




@pytest.fixture
def unknown_siret():
    from achats.company_registry.standin.dataset import UNKNOWN_SIRET

    return UNKNOWN_SIRET


@pytest.fixture
def hidden_siret():
    from achats.company_registry.standin.dataset import PARTIAL_SIRET

    return PARTIAL_SIRET


@pytest.fixture
def forbidden_siret():
    from achats.company_registry.standin.dataset import NOT_DIFFUSIBLE_SIRET

    return NOT_DIFFUSIBLE_SIRET

"""Fixtures of the identity tests: identity on a fresh database, the real company registry over HTTP
(with the INSEE stand-in) verifying identity's service tokens, and mail-bound events read from the outbox."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from identity_support import Stack, build_stack


@pytest.fixture(scope="session")
def standin():
    from achats.company_registry.standin.testing import running_standin

    with running_standin() as server:
        yield server


@pytest.fixture
def stack(database_url, tmp_path, standin) -> Stack:
    standin.reset()
    with build_stack(database_url, tmp_path, standin) as built:
        yield built

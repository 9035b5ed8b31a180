"""Fixtures of the identity tests: identity on a fresh database, a stand-in of the company registry over
HTTP (registry_standin.py, checked against the registry's contract) verifying identity's service tokens,
and mail-bound events read from the outbox. Nothing of the registry's package: identity stands alone."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from identity_support import Stack, build_stack
from registry_standin import RegistryStandin


@pytest.fixture(scope="session")
def standin():
    return RegistryStandin()


@pytest.fixture
def stack(database_url, tmp_path, standin) -> Stack:
    standin.reset()
    with build_stack(database_url, tmp_path, standin) as built:
        yield built
    assert not standin.broken, f"identity and the registry's contract disagree: {standin.broken}"

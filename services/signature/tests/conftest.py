"""Fixtures of the signature tests: the test PKI and its stand-ins over HTTP, trusted lists, the service."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from signature_support import make_pdf, make_service, make_store


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """A PKI generated for this run (its URLs point to free ports), served by the three stand-ins."""
    from achats.signature.testpki.testing import running_pki

    with running_pki(tmp_path_factory.mktemp("pki")) as running:
        yield running


@pytest.fixture
def lists(pki):
    pki.reset_lists()
    yield pki
    pki.reset_lists()


@pytest.fixture(scope="session")
def store(pki, tmp_path_factory):
    """Trusted lists loaded once for the run; tests about the lists themselves make their own."""
    shared = make_store(pki, tmp_path_factory.mktemp("tl-cache"))
    shared.refresh()
    yield shared
    shared.close()


@pytest.fixture(scope="session")
def material(store):
    return store.snapshot.material


@pytest.fixture
def service(sqlite_url, keys, pki, store, tmp_path):
    """The service on SQLite with the run's trusted lists."""
    built = make_service(sqlite_url, keys, pki, tmp_path / "cache", store=store)
    yield built
    built.runtime.db.dispose()


@pytest.fixture
def build(keys, pki, store, tmp_path):
    """``build(database_url=..., lists=..., **settings)``: a service configured for one test.

    ``lists``: a trust-list store to use; the run's shared one by default, None for the service's own
    (built from its settings, loaded on first use).
    """
    made = []

    def _build(database_url=None, lists=store, **settings):
        url = database_url or f"sqlite:///{tmp_path / f'signature-{len(made)}.db'}"
        built = make_service(url, keys, pki, tmp_path / f"cache-{len(made)}", store=lists, **settings)
        made.append(built)
        return built

    yield _build
    for built in made:
        built.runtime.db.dispose()
        if not any(built.runtime.deps.trust_lists is s for s in [store]):
            built.runtime.deps.trust_lists.close()


@pytest.fixture(scope="session")
def pdf():
    return make_pdf()

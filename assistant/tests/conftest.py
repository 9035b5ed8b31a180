"""Fixtures of the assistant's tests: the project's test PKI (with its stand-ins) and a SoftHSM2 token."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from assistant_support import SOFTHSM_MODULE, SoftHsm


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """A PKI generated for this run, its OCSP/CRL, TSA and trusted lists served on free ports."""
    from achats.signature.testpki.testing import running_pki

    with running_pki(tmp_path_factory.mktemp("pki")) as running:
        yield running


@pytest.fixture
def token(tmp_path, pki, monkeypatch):
    """A SoftHSM2 token « t » with Marie Curie's qualified key (id 01) and Jeanne Expirée's (id 02), each with
    its certificate, and the CA certificates of the chain."""
    hsm = SoftHsm(tmp_path / "softhsm")
    monkeypatch.setenv("SOFTHSM2_CONF", str(hsm.conf))
    folder = pki.pki.folder
    hsm.import_key(folder / "qesig.key.pem", pki.pki.cert("qesig"), cka_id="01", label="qesig",
                   chain=pki.pki.chain("qesig"))
    hsm.import_key(folder / "expired.key.pem", pki.pki.cert("expired"), cka_id="02", label="expired")
    return hsm


@pytest.fixture
def keystore(token):
    from achats.assistant.tokens import Keystore

    store = Keystore(modules=[SOFTHSM_MODULE])
    store.refresh()
    return store

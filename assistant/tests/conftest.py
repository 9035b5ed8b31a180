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


@pytest.fixture
def signature_api(pki, keys, tmp_path):
    """The real signature service over HTTP (SQLite, the run's PKI, TSA and trusted lists), and a user's token:
    ``(base_url, token)``."""
    from achats.chassis.testing.server import serving
    from achats.signature.app import SERVICE

    config = SERVICE.load_settings({}, **{
        "database_url": f"sqlite:///{tmp_path / 'signature.db'}", "amqp_url": "memory://assistant-tests",
        "lotl_url": pki.lotl_url, "lotl_signer_certs": (str(pki.pki.cert_path("lotl-signer")),),
        "tsa_url": pki.tsa_url, "trust_lists_cache_dir": str(tmp_path / "tl-cache"), "validation_workers": 1,
        "log_json": True, "revocation_cache_seconds": 0, "jwks_url": keys.jwks_url})
    SERVICE.migrate(config)
    runtime = SERVICE.runtime(config)
    app = SERVICE.create_app(config, runtime)
    token = keys.token({"sub": "user-marie", "roles": ["supplier"], "email": "marie.curie@curie-sas.example"})
    with serving(app) as base:
        yield f"{base}/signature", token
    runtime.db.dispose()


@pytest.fixture
def service_client(signature_api):
    from achats.assistant.service import SignatureService

    base, token = signature_api
    return SignatureService(base, token)

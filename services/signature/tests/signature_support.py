"""Helpers of the signature tests: the service built on a database, trusted lists; samples re-exported."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from pathlib import Path

from achats.chassis.testing.keys import TestKeys
from achats.signature.app import SERVICE
from achats.signature.testpki.samples import device_sign, key_and_pem, make_pdf, sign
from achats.signature.testpki.testing import RunningPki
from achats.signature.trust.lists import TrustListStore, load_certificates


@dataclass
class Service:
    client: object
    runtime: object
    keys: TestKeys

    def token(self, *roles: str, sub: str | None = None) -> dict:
        claims = {"sub": sub or str(uuid.uuid4()), "roles": list(roles or ("supplier",)),
                  "company_id": str(uuid.uuid4()), "email": "marie.curie@curie-sas.example", "name": "Marie Curie"}
        return {"Authorization": f"Bearer {self.keys.token(claims)}"}

    def verify(self, document: bytes, signature: bytes | None = None, *, name: str = "offre.pdf",
               expect: int = 201) -> dict:
        files = {"file": (name, document, "application/octet-stream")}
        if signature is not None:
            files["signature"] = ("signature.bin", signature, "application/octet-stream")
        response = self.client.post("/signature/verifications", files=files)
        assert response.status_code == expect, response.text
        return response.json()


def make_store(running: RunningPki, cache_dir: Path, **kwargs) -> TrustListStore:
    options = {"lotl_location": running.lotl_url, "lotl_signers": load_certificates(
        [str(running.pki.cert_path("lotl-signer"))]), "anchors": [], "cache_dir": cache_dir,
        "refresh_interval": 3600, "fetch_timeout": 5}
    options.update(kwargs)
    return TrustListStore(**options)


def make_service(database_url: str, keys: TestKeys, running: RunningPki, cache_dir: Path,
                 store: TrustListStore | None = None, **settings) -> Service:
    config = SERVICE.load_settings({}, **{
        "database_url": database_url, "amqp_url": "memory://signature-tests", "lotl_url": running.lotl_url,
        "lotl_signer_certs": (str(running.pki.cert_path("lotl-signer")),), "tsa_url": running.tsa_url,
        "trust_lists_cache_dir": str(cache_dir), "validation_workers": 2, "log_json": True,
        # Each test sees the stand-ins as they are now (a test may take the OCSP responder down).
        "revocation_cache_seconds": 0, "jwks_url": keys.jwks_url, **settings})
    SERVICE.migrate(config)
    runtime = SERVICE.runtime(config)
    if store is not None:
        runtime.deps = dataclasses.replace(runtime.deps, trust_lists=store)
    app = SERVICE.create_app(config, runtime)
    return Service(client=app.test_client(), runtime=runtime, keys=keys)


__all__ = ["Service", "device_sign", "key_and_pem", "make_pdf", "make_service", "make_store", "sign"]

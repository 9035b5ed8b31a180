"""The work done inside the sandbox's worker processes: verify, prepare, finish, sign in one shot.

Each job gets plain, picklable values and returns plain values; a refused input comes back as a
:class:`DocumentRejected` that the parent turns into a French problem+json.
"""

from __future__ import annotations

import asyncio
import base64
import logging

from asn1crypto import x509 as asn1_x509

from . import signers, uploads
from .signers.credentials import Credentials, from_certificates, from_pkcs12
from .trust.lists import TrustMaterial
from .validation import ValidationConfig, verify
from .validation.fetching import CachingFetcherBackend, install_fast_hex_reader

install_fast_hex_reader()

# pyHanko logs every failed path building or revocation check with a traceback: in a verification
# service those are expected results, reported to the user, not errors of ours.
for _name in ("pyhanko", "pyhanko_certvalidator", "signxml", "aiohttp", "urllib3"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


# One event loop and one connection pool per worker process, kept from job to job (keep-alive to the
# OCSP responders, revocation cache); a worker runs one job at a time.
_loop: asyncio.AbstractEventLoop | None = None
_backends: dict[tuple[float, float], CachingFetcherBackend] = {}


def _run(coroutine):
    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()
    return _loop.run_until_complete(coroutine)


def verify_job(material: TrustMaterial, *, document: uploads.Upload, signature: uploads.Upload | None,
               config: ValidationConfig) -> dict:
    key = (config.fetch_timeout, config.revocation_cache_seconds)
    if key not in _backends:
        _backends[key] = CachingFetcherBackend(config.fetch_timeout, config.revocation_cache_seconds)
    return _run(verify(document, signature, material, config, _backends[key]))


def _environment(material: TrustMaterial, tsa_url: str, fetch_timeout: float) -> signers.Environment:
    return signers.Environment(tsa_url=tsa_url, fetch_timeout=fetch_timeout, material=material)


def prepare_job(material: TrustMaterial, *, request: signers.SigningRequest, document: bytes, certificates: bytes,
                tsa_url: str, fetch_timeout: float) -> dict:
    credentials = from_certificates(certificates)
    return asyncio.run(signers.prepare(request, document, credentials, _environment(material, tsa_url,
                                                                                    fetch_timeout)))


def finish_job(material: TrustMaterial, *, request: signers.SigningRequest, state: dict, prepared: bytes,
               signature_value: bytes, tsa_url: str, fetch_timeout: float) -> bytes:
    certs = [asn1_x509.Certificate.load(base64.b64decode(c)) for c in state["certificates"]]
    credentials = Credentials(certificate=certs[0], chain=certs[1:])
    return asyncio.run(signers.finish(request, state, prepared, credentials, signature_value,
                                      _environment(material, tsa_url, fetch_timeout)))


def sign_job(material: TrustMaterial, *, request: signers.SigningRequest, document: bytes, pkcs12: bytes,
             password: str, tsa_url: str, fetch_timeout: float) -> bytes:
    credentials = from_pkcs12(pkcs12, password)
    return asyncio.run(signers.sign(request, document, credentials, _environment(material, tsa_url, fetch_timeout)))


JOBS = {"verify": verify_job, "prepare": prepare_job, "finish": finish_job, "sign": sign_job,
        "ping": lambda _material: "pong"}

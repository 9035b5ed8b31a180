"""Composition root of the signature service."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import structlog

from achats.chassis.app import Runtime
from achats.chassis.service import ServiceDefinition, every

from . import deps, signing, verifications
from .settings import SignatureSettings

HERE = Path(__file__).parent
LOCAL_PKI = HERE / "testpki" / "local"
log = structlog.get_logger(__name__)


def purge(runtime: Runtime) -> int:
    """Delete verification reports past their retention and abandoned signing sessions."""
    with runtime.db.unit_of_work() as uow:
        count = verifications.purge(uow.session) + signing.purge(uow.session)
        uow.commit()
    if count:
        log.info("signature.purged", rows=count)
    return count


def background(runtime: Runtime) -> list[Callable[[threading.Event], None]]:
    settings: SignatureSettings = runtime.settings

    def trust_lists(stop: threading.Event) -> None:
        # The worker process keeps the on-disk cache fresh for the API processes of the host.
        runtime.deps.trust_lists.ensure_started()
        stop.wait()
        runtime.deps.trust_lists.close()

    return [trust_lists, every(settings.purge_interval, lambda: purge(runtime), "signature_purge")]


SERVICE = ServiceDefinition(
    name="signature",
    port=8104,
    spec=HERE / "openapi.yaml",
    settings_class=SignatureSettings,
    migrations=HERE / "migrations",
    dependencies=deps.build,
    background=background,
    # `make run`: the stand-ins of the test PKI (OCSP/CRL 8191, TSA 8192, trusted lists 8193).
    embedded={
        "LOTL_URL": "http://127.0.0.1:8193/lotl.xml",
        "LOTL_SIGNER_CERTS": str(LOCAL_PKI / "lotl-signer.cert.pem"),
        "EXTRA_TRUST_ANCHORS": str(LOCAL_PKI / "art2-ca.cert.pem"),
        "TSA_URL": "http://127.0.0.1:8192/tsa",
        "TRUST_LISTS_CACHE_DIR": "{var}/signature-trust-lists",
        "VALIDATION_WORKERS": "2",
    },
)

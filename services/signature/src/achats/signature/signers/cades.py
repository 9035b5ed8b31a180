"""Detached CAdES (a ``.p7s`` next to any file): the data to be signed are the CMS signed attributes."""

from __future__ import annotations

import base64
import hashlib

from asn1crypto import cms
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .credentials import DIGEST, Credentials


def _external_signer(credentials: Credentials, value: bytes) -> signers.ExternalSigner:
    return signers.ExternalSigner(signing_cert=credentials.certificate,
                                  cert_registry=SimpleCertificateStore.from_certs(credentials.chain),
                                  signature_value=value)


async def prepare(document: bytes, credentials: Credentials) -> tuple[bytes, dict]:
    """(data to be signed, state): CAdES-B signed attributes over the document's SHA-256."""
    digest = hashlib.sha256(document).digest()
    external = _external_signer(credentials, b"")
    # CAdES attributes (ESS signing-certificate-v2, signing time) for a non-PDF detached signature.
    signed_attrs = await external.signed_attrs(digest, DIGEST, use_pades=True, is_pdf_sig=False)
    return signed_attrs.dump(), {"signed_attrs": base64.b64encode(signed_attrs.dump()).decode()}


async def finish(state: dict, credentials: Credentials, signature_value: bytes, *, timestamper) -> bytes:
    """The DER ``.p7s``; with a signature timestamp (B-T) when a timestamper is given."""
    external = _external_signer(credentials, signature_value)
    signed_attrs = cms.CMSAttributes.load(base64.b64decode(state["signed_attrs"]))
    signature = await external.async_sign_prescribed_attributes(DIGEST, signed_attrs, timestamper=timestamper)
    return signature.dump()

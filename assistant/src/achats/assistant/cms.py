"""A detached CAdES-B signature made by the assistant itself (the workstation test's sample signature):
the CMS signed attributes signed on the token, assembled with asn1crypto."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as ax509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .certificates import CertificateInfo


def detached_cades(content: bytes, info: CertificateInfo, sign) -> bytes:
    """``sign(data) -> value``: SHA-256 with RSA PKCS#1 v1.5 or ECDSA (r||s or DER) over ``data``."""
    cert_der = info.certificate.public_bytes(serialization.Encoding.DER)
    cert = ax509.Certificate.load(cert_der)
    attributes = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": core.UTCTime(
            datetime.now(UTC).replace(microsecond=0))})]}),
        cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(content).digest()]}),
        cms.CMSAttribute({"type": "signing_certificate_v2", "values": [tsp.SigningCertificateV2({
            "certs": [{"cert_hash": hashlib.sha256(cert_der).digest()}]})]}),
    ])
    value = sign(attributes.dump())
    is_ec = isinstance(info.certificate.public_key(), ec.EllipticCurvePublicKey)
    if is_ec and not value.startswith(b"\x30"):
        half = len(value) // 2
        value = encode_dss_signature(int.from_bytes(value[:half], "big"), int.from_bytes(value[half:], "big"))
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": cert.issuer, "serial_number": cert.serial_number})}),
        "digest_algorithm": {"algorithm": "sha256"}, "signed_attrs": attributes,
        "signature_algorithm": {"algorithm": "sha256_ecdsa" if is_ec else "sha256_rsa"}, "signature": value})
    chain = [ax509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in info.chain]
    signed_data = cms.SignedData({
        "version": "v1", "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": "data"}, "certificates": [cert, *chain], "signer_infos": [signer]})
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()

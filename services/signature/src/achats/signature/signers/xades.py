"""Detached XAdES baseline signatures (B-B, B-T) of any file, as a separate ``.xml`` token.

The data to be signed are the canonicalised ``ds:SignedInfo`` (exclusive c14n); the signature covers
the file (by its name, SHA-256 of its bytes) and the XAdES signed properties (signing time, signing
certificate, data object format). signxml verifies what this module writes.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from lxml import etree

from achats.chassis import clock

from .credentials import Credentials

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SIGNATURE_METHODS = {"rsa": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                     "ec": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"}
NSMAP = {"ds": DS, "xades": XADES}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _el(parent, ns: str, tag: str, text: str | None = None, **attrib: str):
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", **attrib)
    if text is not None:
        element.text = text
    return element


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _c14n(element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True)


def prepare(document: bytes, filename: str, media_type: str, credentials: Credentials,
            signing_time: datetime | None = None) -> tuple[bytes, bytes]:
    """(data to be signed, the signature XML with an empty ds:SignatureValue)."""
    token = uuid.uuid4().hex[:12]
    signature_id = f"id-{token}"
    signature = etree.Element(f"{{{DS}}}Signature", nsmap=NSMAP, Id=signature_id)
    signed_info = _el(signature, DS, "SignedInfo")
    _el(signed_info, DS, "CanonicalizationMethod", Algorithm=EXC_C14N)
    _el(signed_info, DS, "SignatureMethod", Algorithm=SIGNATURE_METHODS[credentials.certificate.public_key.algorithm])
    document_ref = _el(signed_info, DS, "Reference", Id=f"r-{signature_id}-1", URI=quote(filename or "document"))
    _el(document_ref, DS, "DigestMethod", Algorithm=SHA256)
    _el(document_ref, DS, "DigestValue", _b64(hashlib.sha256(document).digest()))
    _el(signature, DS, "SignatureValue", Id=f"value-{signature_id}")
    key_info = _el(signature, DS, "KeyInfo")
    x509_data = _el(key_info, DS, "X509Data")
    for cert in [credentials.certificate, *credentials.chain]:
        _el(x509_data, DS, "X509Certificate", _b64(cert.dump()))
    qualifying = _el(_el(signature, DS, "Object"), XADES, "QualifyingProperties", Target=f"#{signature_id}")
    signed_properties = _el(qualifying, XADES, "SignedProperties", Id=f"xades-{signature_id}")
    properties = _el(signed_properties, XADES, "SignedSignatureProperties")
    moment = (signing_time or clock.now()).astimezone(UTC).replace(microsecond=0)
    _el(properties, XADES, "SigningTime", moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
    cert_digest = _el(_el(_el(properties, XADES, "SigningCertificateV2"), XADES, "Cert"), XADES, "CertDigest")
    _el(cert_digest, DS, "DigestMethod", Algorithm=SHA256)
    _el(cert_digest, DS, "DigestValue", _b64(hashlib.sha256(credentials.certificate.dump()).digest()))
    object_format = _el(_el(signed_properties, XADES, "SignedDataObjectProperties"), XADES, "DataObjectFormat",
                        ObjectReference=f"#r-{signature_id}-1")
    _el(object_format, XADES, "MimeType", media_type)
    properties_ref = _el(signed_info, DS, "Reference", Type="http://uri.etsi.org/01903#SignedProperties",
                         URI=f"#xades-{signature_id}")
    _el(_el(properties_ref, DS, "Transforms"), DS, "Transform", Algorithm=EXC_C14N)
    _el(properties_ref, DS, "DigestMethod", Algorithm=SHA256)
    _el(properties_ref, DS, "DigestValue", _b64(hashlib.sha256(_c14n(signed_properties)).digest()))
    return _c14n(signed_info), etree.tostring(signature)


def _xml_signature_value(certificate: asn1_x509.Certificate, der_value: bytes) -> bytes:
    """XML-DSig wants ECDSA as r||s, not the DER that CMS and the verification use."""
    if certificate.public_key.algorithm != "ec":
        return der_value
    size = (certificate.public_key.bit_size + 7) // 8
    r, s = decode_dss_signature(der_value)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


async def finish(template: bytes, credentials: Credentials, signature_value: bytes, *, timestamper) -> bytes:
    """Fill in ds:SignatureValue; B-T adds a signature timestamp over it (xades:SignatureTimeStamp)."""
    signature = etree.fromstring(template, _PARSER)
    value_node = signature.find(f"{{{DS}}}SignatureValue")
    value_node.text = _b64(_xml_signature_value(credentials.certificate, signature_value))
    if timestamper is not None:
        token = await timestamper.async_timestamp(hashlib.sha256(_c14n(value_node)).digest(), "sha256")
        qualifying = signature.find(f"{{{DS}}}Object/{{{XADES}}}QualifyingProperties")
        unsigned = _el(_el(qualifying, XADES, "UnsignedProperties"), XADES, "UnsignedSignatureProperties")
        stamp = _el(unsigned, XADES, "SignatureTimeStamp", Id=f"ts-{signature.get('Id')}")
        _el(stamp, DS, "CanonicalizationMethod", Algorithm=EXC_C14N)
        _el(stamp, XADES, "EncapsulatedTimeStamp", _b64(token.dump()))
    return etree.tostring(signature, xml_declaration=True, encoding="UTF-8")

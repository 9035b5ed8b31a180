"""The signer's certificate and key: from a PKCS#12 (one-shot, in memory only) or a bare certificate
(two steps, the key stays on the user's device); and checking a signature value made elsewhere."""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import keys, pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import pkcs12

from ..validation.common import DocumentRejected

DIGEST = "sha256"


@dataclass
class Credentials:
    certificate: asn1_x509.Certificate
    chain: list[asn1_x509.Certificate]
    # Only for one-shot signing; never stored, never logged, dropped with the job.
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None

    def __repr__(self) -> str:  # a key must never end up in a log line
        return f"Credentials({self.certificate.subject.human_friendly!r})"

    @property
    def public_key(self):
        return x509.load_der_x509_certificate(self.certificate.dump()).public_key()

    @property
    def key_info(self) -> keys.PrivateKeyInfo:
        der = self.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
        return keys.PrivateKeyInfo.load(der)

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def from_pkcs12(data: bytes, password: str) -> Credentials:
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode("utf-8") if password else None)
    except (ValueError, TypeError):
        raise DocumentRejected("pkcs12_invalid", "Le certificat (PKCS#12) est illisible ou le mot de passe est "
                                                 "incorrect.", "pkcs12") from None
    if key is None or cert is None:
        raise DocumentRejected("pkcs12_invalid", "Le fichier PKCS#12 ne contient pas de clé privée et de "
                                                 "certificat.", "pkcs12")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise DocumentRejected("key_type_unsupported", "Type de clé non pris en charge (RSA ou ECDSA attendu).",
                               "pkcs12")
    return Credentials(certificate=_to_asn1(cert), chain=[_to_asn1(c) for c in extra or []], key=key)


def from_certificates(data: bytes, field: str = "certificate") -> Credentials:
    """The signer's certificate (first) and optionally its chain, PEM (one or several) or DER."""
    try:
        if pem.detect(data):
            certs = [asn1_x509.Certificate.load(der) for _t, _h, der in pem.unarmor(data, multiple=True)]
        else:
            certs = [asn1_x509.Certificate.load(data)]
        for cert in certs:
            cert.native  # noqa: B018 - parse now: garbage fails here
    except (ValueError, TypeError, KeyError):
        raise DocumentRejected("certificate_invalid", "Le certificat du signataire est illisible (PEM ou DER "
                                                      "attendu).", field) from None
    if not certs:
        raise DocumentRejected("certificate_invalid", "Aucun certificat trouvé.", field)
    algorithm = certs[0].public_key.algorithm
    if algorithm not in ("rsa", "ec"):
        raise DocumentRejected("key_type_unsupported", "Type de clé non pris en charge (RSA ou ECDSA attendu).",
                               field)
    return Credentials(certificate=certs[0], chain=certs[1:])


def signature_algorithm(credentials: Credentials) -> str:
    return "rsa_pkcs1v15_sha256" if credentials.certificate.public_key.algorithm == "rsa" else "ecdsa_sha256"


def normalise_signature(credentials: Credentials, value: bytes) -> bytes:
    """ECDSA values from WebCrypto and most tokens are r||s; CMS wants DER. RSA values pass unchanged."""
    public_key = credentials.public_key
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        size = (public_key.curve.key_size + 7) // 8
        if len(value) == 2 * size and value[:1] != b"\x30":
            return encode_dss_signature(int.from_bytes(value[:size], "big"), int.from_bytes(value[size:], "big"))
    return value


def check_signature(credentials: Credentials, data: bytes, value: bytes) -> None:
    """The signature value must be the certificate's key signing ``data`` (SHA-256): else 422."""
    public_key = credentials.public_key
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(value, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            public_key.verify(value, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise DocumentRejected("signature_value_invalid", "La valeur de signature ne correspond pas aux données à "
                                                          "signer et au certificat donnés : vérifiez que vous avez "
                                                          "signé avec la clé de ce certificat (SHA-256).",
                               "signature_value") from None

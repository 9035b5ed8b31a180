"""Sample documents and signatures made with the test PKI, for tests, benchmarks and demos."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from reportlab.pdfgen import canvas

from .. import signers
from ..signers.credentials import from_pkcs12
from .testing import RunningPki


def make_pdf(text: str = "Offre de Curie SAS — mémoire technique", pages: int = 1) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    for number in range(pages):
        pdf.drawString(72, 770, f"{text} — page {number + 1}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def sign(running: RunningPki, person: str, document: bytes, *, format: str = "pades", level: str = "B-B",
         filename: str = "offre.pdf", material=None, p12: bytes | None = None, **options) -> bytes:
    """Sign with the service's own signing code, in this process (the API has its own tests).

    ``p12``: a PKCS#12 (protected by the PKI's password) made by :func:`make_person`, instead of ``person``'s.
    """
    request = signers.SigningRequest(format=format, level=level, filename=filename,
                                     media_type="application/pdf" if document.startswith(b"%PDF") else
                                     "application/octet-stream", **options)
    credentials = from_pkcs12(p12 or running.pki.p12(person), running.pki.password)
    environment = signers.Environment(tsa_url=running.tsa_url, fetch_timeout=5, material=material)
    return asyncio.run(signers.sign(request, document, credentials, environment))


def key_and_pem(running: RunningPki, person: str):
    """A user's private key (to sign « on the device ») and their certificate chain in PEM."""
    key, cert, chain = pkcs12.load_key_and_certificates(running.pki.p12(person), running.pki.password.encode())
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [cert, *chain])
    return key, pem


def device_sign(key, data: bytes) -> bytes:
    """What the user's device does in a two-step signing: RSA PKCS#1 v1.5 over SHA-256 of the data."""
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def make_person(running: RunningPki, issuer: str | None, *, name: str = "Marie Dupont",
                qualified: bool = True,
                extensions: tuple[x509.ExtensionType, ...] = ()) -> bytes:
    """A PKCS#12 for a signer certificate made on the spot: issued by the PKI's CA ``issuer``, or
    self-signed (``issuer`` None). It names no OCSP responder and no CRL, as some CAs do."""
    from cryptography.x509.oid import NameOID

    from .generate import PEOPLE, QC_STATEMENTS_OID, QCP_N_QSCD, _qc_statements

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    given, surname = name.split(" ", 1)
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Dupont SAS"),
                         x509.NameAttribute(NameOID.GIVEN_NAME, given), x509.NameAttribute(NameOID.SURNAME, surname),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_cert = running.pki.cert(issuer) if issuer else None
    issuer_key = running.pki.key(issuer) if issuer else key
    now = datetime.now(UTC).replace(microsecond=0)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer_cert.subject if issuer_cert else subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=30)).not_valid_after(now + timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                              critical=False)
               .add_extension(x509.SubjectAlternativeName([x509.RFC822Name("marie.dupont@dupont.example")]),
                              critical=False)
               .add_extension(x509.CertificatePolicies([x509.PolicyInformation(QCP_N_QSCD, None)]), critical=False))
    if qualified:
        builder = builder.add_extension(x509.UnrecognizedExtension(QC_STATEMENTS_OID, _qc_statements(PEOPLE[0])),
                                        critical=False)
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    cert = builder.sign(issuer_key, hashes.SHA256())
    chain = running.pki.chain(issuer) if issuer else []
    if issuer:
        chain = [running.pki.cert(issuer), *chain]
    return pkcs12.serialize_key_and_certificates(b"person", key, cert, chain or None,
                                                 serialization.BestAvailableEncryption(running.pki.password.encode()))

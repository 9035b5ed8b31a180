"""Sample documents and signatures made with the test PKI, for tests, benchmarks and demos."""

from __future__ import annotations

import asyncio
import io

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
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
         filename: str = "offre.pdf", material=None, **options) -> bytes:
    """Sign with the service's own signing code, in this process (the API has its own tests)."""
    request = signers.SigningRequest(format=format, level=level, filename=filename,
                                     media_type="application/pdf" if document.startswith(b"%PDF") else
                                     "application/octet-stream", **options)
    credentials = from_pkcs12(running.pki.p12(person), running.pki.password)
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

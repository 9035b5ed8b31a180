"""The test TSA: an RFC 3161 timestamp authority over HTTP whose clock a test can move — a TSA a few seconds
ahead of our clock is what the deadline race is about.

It stands alone (the consultations' tests need neither the signature service nor its test PKI): its identity,
an RSA key (pyHanko's test timestamper signs with RSA only) and a certificate for time stamping alone (extended
key usage ``timeStamping``, critical, as RFC 3161 § 2.3 requires), is made when it starts, and its replies are
built and signed by pyHanko's own test timestamper (``DummyTimeStamper``), the one pyHanko's test suite uses.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from achats.chassis.testing.server import serving


def tsa_identity(name: str = "Horodatage de test des consultations") -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A self-signed certificate for time stamping, valid from yesterday for a year, and its key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Plateforme des achats (tests)"),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=365))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
                   .sign(key, hashes.SHA256()))
    return certificate, key


@dataclass
class Tsa:
    url: str
    certificate: str  # its certificate's PEM file: what TSA_CERTIFICATE pins
    offset: timedelta = field(default_factory=timedelta)
    fixed: datetime | None = None
    down: bool = False
    calls: int = 0

    def at(self, moment: datetime | None) -> None:
        """Stamp this time (None: the clock again)."""
        self.fixed = moment

    def reset(self) -> None:
        self.offset, self.fixed, self.down, self.calls = timedelta(), None, False, 0


@contextlib.contextmanager
def running_tsa() -> Iterator[Tsa]:
    certificate, key = tsa_identity()
    signer_cert = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    signer_key = asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    state: dict[str, Tsa] = {}

    async def stamp(request: Request) -> Response:
        tsa = state["tsa"]
        if tsa.down:
            return Response(status_code=503)
        if request.headers.get("content-type") != "application/timestamp-query":
            return Response(status_code=415)
        tsa.calls += 1
        moment = (tsa.fixed or datetime.now(UTC) + tsa.offset).replace(microsecond=0)
        stamper = DummyTimeStamper(tsa_cert=signer_cert, tsa_key=signer_key, fixed_dt=moment)
        reply = stamper.request_tsa_response(tsp.TimeStampReq.load(await request.body()))
        return Response(reply.dump(), media_type="application/timestamp-reply")

    with tempfile.TemporaryDirectory(prefix="achats-test-tsa-") as folder:
        pem = Path(folder) / "tsa.pem"
        pem.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        with serving(Starlette(routes=[Route("/tsa", stamp, methods=["POST"])])) as base:
            state["tsa"] = Tsa(url=f"{base}/tsa", certificate=str(pem))
            yield state["tsa"]

"""RFC 3161 timestamps: the deposit time of every answer comes from a timestamp authority, not our clock.

A small client of the protocol (a ``TimeStampReq`` over HTTP, ``application/timestamp-query`` /
``-reply``), the one the signature service's signers speak to the same TSA. The reply is checked before
its time is believed: granted status, our SHA-256 imprint and our nonce echoed, the CMS signature of the
TSTInfo valid under the TSA's certificate — and, when ``TSA_CERTIFICATE`` is set, that certificate must be
the one configured (pinning: a reply signed by anybody else is refused).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
import structlog
from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from achats.chassis.problems import Problem

log = structlog.get_logger(__name__)

QUERY, REPLY = "application/timestamp-query", "application/timestamp-reply"
_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


class TimestampError(Exception):
    """The TSA could not be reached, refused, or answered something that cannot be trusted."""


@dataclass(frozen=True)
class Timestamp:
    time: datetime
    serial_number: int
    policy: str
    tsa_name: str
    token: bytes  # the DER TimeStampToken (a CMS SignedData), kept with the deposit as its proof

    @property
    def token_sha256(self) -> str:
        return hashlib.sha256(self.token).hexdigest()


def unavailable() -> Problem:
    return Problem(status=503, code="tsa_unavailable",
                   detail="Le service d'horodatage ne répond pas : votre dépôt n'a pas été enregistré. "
                          "Réessayez dans quelques instants.")


class TimestampAuthority:
    def __init__(self, url: str, *, certificate: str = "", timeout: float = 10.0):
        self.url = url
        self.timeout = timeout
        self.pinned = (x509.load_pem_x509_certificate(Path(certificate).read_bytes()).public_bytes(
            serialization.Encoding.DER) if certificate else None)
        self.http = requests.Session()

    def stamp(self, digest: bytes) -> Timestamp:
        """A timestamp of ``digest`` (SHA-256); TimestampError when there is none to trust."""
        if not self.url:
            raise TimestampError("TSA_URL is not set")
        nonce = secrets.randbits(63)
        request = tsp.TimeStampReq({
            "version": "v1", "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": digest},
            "nonce": nonce, "cert_req": True})
        try:
            response = self.http.post(self.url, data=request.dump(), headers={"Content-Type": QUERY},
                                      timeout=self.timeout)
        except requests.RequestException as exc:
            raise TimestampError(f"TSA unreachable: {exc!r}") from None
        if response.status_code != 200:
            raise TimestampError(f"TSA answered HTTP {response.status_code}")
        return self._check(response.content, digest, nonce)

    def _check(self, body: bytes, digest: bytes, nonce: int) -> Timestamp:
        try:
            reply = tsp.TimeStampResp.load(body)
            status = reply["status"]["status"].native
            if status not in ("granted", "granted_with_mods"):
                raise TimestampError(f"TSA refused: {status}")
            token = reply["time_stamp_token"]
            signed = token["content"]
            info = signed["encap_content_info"]["content"].parsed
            imprint = info["message_imprint"]
            if imprint["hash_algorithm"]["algorithm"].native != "sha256" or \
                    imprint["hashed_message"].native != digest:
                raise TimestampError("the reply stamps another imprint")
            if info["nonce"].native != nonce:
                raise TimestampError("the reply does not echo our nonce")
            certificate = self._verify_signature(signed, info.dump())
            gen_time = info["gen_time"].native.astimezone(UTC)
            return Timestamp(time=gen_time, serial_number=info["serial_number"].native,
                             policy=info["policy"].native, tsa_name=certificate.subject.rfc4514_string(),
                             token=token.dump())
        except TimestampError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise TimestampError(f"unreadable TSA reply: {exc!r}") from None

    def _verify_signature(self, signed: cms.SignedData, content: bytes) -> x509.Certificate:
        signer = signed["signer_infos"][0]
        sid = signer["sid"].chosen
        candidates = [c.chosen for c in signed["certificates"] or [] if isinstance(c.chosen, asn1_x509.Certificate)]
        found = next((c for c in candidates if isinstance(sid, cms.IssuerAndSerialNumber)
                      and c.serial_number == sid["serial_number"].native and c.issuer == sid["issuer"]), None)
        if found is None:
            raise TimestampError("the TSA's certificate is not in the reply")
        der = found.dump()
        if self.pinned is not None and der != self.pinned:
            raise TimestampError("the reply is signed by another certificate than TSA_CERTIFICATE")
        certificate = x509.load_der_x509_certificate(der)
        algorithm = _HASHES.get(signer["digest_algorithm"]["algorithm"].native)
        if algorithm is None:
            raise TimestampError("unsupported digest algorithm")
        attrs = signer["signed_attrs"]
        digests = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
        wanted = hashes.Hash(algorithm())
        wanted.update(content)
        if digests != [wanted.finalize()]:
            raise TimestampError("the signed attributes do not match the TSTInfo")
        # The signature covers the attributes' DER as a SET (tag 0x31), not as the [0] they are sent in.
        signed_bytes = b"\x31" + attrs.dump()[1:]
        key = certificate.public_key()
        try:
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(signer["signature"].native, signed_bytes, padding.PKCS1v15(), algorithm())
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(signer["signature"].native, signed_bytes, ec.ECDSA(algorithm()))
            else:
                raise TimestampError("unsupported TSA key")
        except InvalidSignature:
            raise TimestampError("the TSA's signature is invalid") from None
        return certificate

"""A generated test PKI on disk, and what its authorities answer: OCSP, CRLs, RFC 3161 timestamps."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

from asn1crypto import algos, cms, core, keys, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp

from .generate import MANIFEST

# RFC 3161 policy of the test TSA (a private arc: it is a test authority).
TSA_POLICY = "1.3.6.1.4.1.99999.1.1"
_REVOCATION_REASON = x509.ReasonFlags.key_compromise


class TestPki:
    """Read access to a PKI written by :mod:`.generate`, plus the authorities' behaviour."""

    __test__ = False  # not a pytest test class

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.manifest = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))

    # -- material ---------------------------------------------------------------------------------

    def cert(self, slug: str) -> x509.Certificate:
        return self._certs[slug]

    def key(self, slug: str) -> rsa.RSAPrivateKey:
        return self._keys[slug]

    def cert_path(self, slug: str) -> Path:
        return self.folder / self.manifest["entities"][slug]["cert"]

    def pem(self, slug: str) -> bytes:
        return self.cert_path(slug).read_bytes()

    def p12(self, person: str) -> bytes:
        return (self.folder / self.manifest["people"][person]["p12"]).read_bytes()

    @property
    def password(self) -> str:
        return self.manifest["password"]

    @property
    def people(self) -> dict[str, dict]:
        return self.manifest["people"]

    @cached_property
    def _certs(self) -> dict[str, x509.Certificate]:
        return {slug: x509.load_pem_x509_certificate((self.folder / entry["cert"]).read_bytes())
                for slug, entry in self.manifest["entities"].items()}

    @cached_property
    def _keys(self) -> dict[str, rsa.RSAPrivateKey]:
        return {slug: serialization.load_pem_private_key((self.folder / entry["key"]).read_bytes(), password=None)
                for slug, entry in self.manifest["entities"].items()}

    def chain(self, slug: str) -> list[x509.Certificate]:
        """The certificates above ``slug`` (issuer first), as its PKCS#12 carries them."""
        issuer = self.manifest["people"].get(slug, {}).get("issuer") or self._issuer_slug(slug)
        out = []
        while issuer:
            out.append(self.cert(issuer))
            issuer = self.manifest["cas"][issuer]["parent"]
        return out

    def _issuer_slug(self, slug: str) -> str | None:
        issuer = self.cert(slug).issuer
        for ca in self.manifest["cas"]:
            if self.cert(ca).subject == issuer and ca != slug:
                return ca
        return None

    def revoked(self, ca: str) -> dict[int, datetime]:
        """Serial numbers revoked by ``ca`` and when."""
        out = {}
        for person, entry in self.manifest["people"].items():
            if entry["issuer"] == ca and entry["revoked_at"]:
                out[self.cert(person).serial_number] = datetime.fromisoformat(entry["revoked_at"])
        return out

    def issued_by(self, ca: str) -> set[int]:
        ca_subject = self.cert(ca).subject
        return {cert.serial_number for slug, cert in self._certs.items()
                if cert.issuer == ca_subject and slug != ca}

    # -- CRL ----------------------------------------------------------------------------------------

    def crl(self, ca: str, now: datetime | None = None) -> bytes:
        now = (now or datetime.now(UTC)).replace(microsecond=0)
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self.cert(ca).subject)
                   .last_update(now - timedelta(minutes=1)).next_update(now + timedelta(days=1))
                   .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key(ca).public_key()),
                                  critical=False))
        for serial, when in self.revoked(ca).items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
                .add_extension(x509.CRLReason(_REVOCATION_REASON), critical=False).build())
        return builder.sign(self.key(ca), hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    # -- OCSP (RFC 6960) ----------------------------------------------------------------------------

    def ocsp(self, ca: str, request_der: bytes, now: datetime | None = None) -> bytes:
        """The DER OCSP response of ``ca``'s delegated responder; malformed requests get malformedRequest."""
        try:
            request = ocsp.load_der_ocsp_request(request_der)
            serial = request.serial_number
            issuer_key_hash = request.issuer_key_hash
            algorithm = request.hash_algorithm
        except (ValueError, TypeError):
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(serialization.Encoding.DER)
        issuer = self.cert(ca)
        if issuer_key_hash != _key_hash(issuer, algorithm):
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(serialization.Encoding.DER)
        now = (now or datetime.now(UTC)).replace(microsecond=0)
        revoked = self.revoked(ca)
        if serial in revoked:
            status, revoked_at, reason = ocsp.OCSPCertStatus.REVOKED, revoked[serial], _REVOCATION_REASON
        elif serial in self.issued_by(ca):
            status, revoked_at, reason = ocsp.OCSPCertStatus.GOOD, None, None
        else:
            status, revoked_at, reason = ocsp.OCSPCertStatus.UNKNOWN, None, None
        responder = f"{ca}-ocsp"
        builder = (ocsp.OCSPResponseBuilder()
                   .add_response_by_hash(issuer_name_hash=_name_hash(issuer, algorithm),
                                         issuer_key_hash=_key_hash(issuer, algorithm), serial_number=serial,
                                         algorithm=algorithm, cert_status=status, this_update=now - timedelta(
                                             seconds=5), next_update=now + timedelta(hours=1),
                                         revocation_time=revoked_at, revocation_reason=reason)
                   .responder_id(ocsp.OCSPResponderEncoding.HASH, self.cert(responder))
                   .certificates([self.cert(responder)]))
        nonce = next((ext for ext in request.extensions if isinstance(ext.value, x509.OCSPNonce)), None)
        if nonce is not None:
            builder = builder.add_extension(nonce.value, critical=False)
        return builder.sign(self.key(responder), hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    # -- RFC 3161 timestamps -----------------------------------------------------------------------

    def timestamp(self, request_der: bytes, now: datetime | None = None) -> bytes:
        """The DER TimeStampResp of the test TSA for a DER TimeStampReq."""
        try:
            request = tsp.TimeStampReq.load(request_der)
            imprint = request["message_imprint"]
            digest_algorithm = imprint["hash_algorithm"]["algorithm"].native
            hashed = imprint["hashed_message"].native
            expected_length = hashlib.new(digest_algorithm).digest_size
            if len(hashed) != expected_length:
                raise ValueError("imprint length")
            nonce = request["nonce"].native
            cert_req = bool(request["cert_req"].native)
        except (ValueError, TypeError, KeyError):
            return _rejection()
        now = (now or datetime.now(UTC)).replace(microsecond=0)
        tsa_cert = asn1_x509.Certificate.load(self.cert("tsa").public_bytes(serialization.Encoding.DER))
        tst_info = tsp.TSTInfo({
            "version": "v1", "policy": TSA_POLICY, "message_imprint": imprint,
            "serial_number": secrets.randbits(63), "gen_time": now,
            "accuracy": {"seconds": 1}, "ordering": False,
            "tsa": asn1_x509.GeneralName(name="directory_name", value=tsa_cert.subject),
            **({"nonce": nonce} if nonce is not None else {})})
        content = tst_info.dump()
        signing_certificate_v2 = tsp.SigningCertificateV2({"certs": [{
            "hash_algorithm": {"algorithm": "sha256"}, "cert_hash": hashlib.sha256(tsa_cert.dump()).digest()}]})
        signed_attrs = cms.CMSAttributes([
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": core.UTCTime(now)})]}),
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(content).digest()]}),
            cms.CMSAttribute({"type": "signing_certificate_v2", "values": [signing_certificate_v2]}),
        ])
        signature = self.key("tsa").sign(signed_attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
        signer_info = cms.SignerInfo({
            "version": "v1",
            "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
                "issuer": tsa_cert.issuer, "serial_number": tsa_cert.serial_number})}),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
            "signed_attrs": signed_attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
            "signature": signature,
        })
        chain = [tsa_cert] + [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
                              for c in self.chain("tsa")]
        signed_data = cms.SignedData({
            "version": "v3", "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {"content_type": "tst_info", "content": cms.ParsableOctetString(content)},
            "signer_infos": [signer_info], **({"certificates": chain} if cert_req else {}),
        })
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


def _rejection() -> bytes:
    """TimeStampResp ::= SEQUENCE { status PKIStatusInfo } (no token): asn1crypto insists on a token."""
    status = tsp.PKIStatusInfo({"status": "rejection", "fail_info": tsp.PKIFailureInfo({"bad_request"})}).dump()
    return core.Sequence.load(b"\x30" + _der_length(len(status)) + status).dump()


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def _name_hash(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    digest = hashes.Hash(algorithm)
    digest.update(cert.subject.public_bytes())
    return digest.finalize()


def _key_hash(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    info = keys.PublicKeyInfo.load(cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    digest = hashes.Hash(algorithm)
    digest.update(info["public_key"].contents[1:])  # the BIT STRING's bytes, without the unused-bits byte
    return digest.finalize()

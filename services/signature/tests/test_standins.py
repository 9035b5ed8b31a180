"""The stand-ins speak the real protocols: OCSP (RFC 6960), CRL (RFC 5280), RFC 3161, signed TS 119 612 lists;
and small units of the service that are easier to check alone."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

import pytest
import requests
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from pyhanko.sign.validation.qualified import eutl_parse

from achats.signature import uploads
from achats.signature.signers.credentials import Credentials, normalise_signature
from achats.signature.validation.verdict import document_verdict


def _ocsp(pki, person: str) -> ocsp.OCSPResponse:
    request = ocsp.OCSPRequestBuilder().add_certificate(pki.pki.cert(person), pki.pki.cert("qualified-ca"),
                                                        hashes.SHA1()).build()
    response = requests.post(f"{pki.pki_url}/ocsp/qualified-ca", data=request.public_bytes(Encoding.DER),
                             headers={"Content-Type": "application/ocsp-request"}, timeout=5)
    assert response.headers["content-type"] == "application/ocsp-response"
    return ocsp.load_der_ocsp_response(response.content)


def test_ocsp_answers_good_revoked_and_unknown(pki):
    assert _ocsp(pki, "qesig").certificate_status == ocsp.OCSPCertStatus.GOOD
    revoked = _ocsp(pki, "revoked")
    assert revoked.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_time_utc is not None
    assert _ocsp(pki, "untrusted").certificate_status == ocsp.OCSPCertStatus.UNKNOWN  # not issued by this CA
    malformed = requests.post(f"{pki.pki_url}/ocsp/qualified-ca", data=b"not ocsp", timeout=5)
    assert ocsp.load_der_ocsp_response(malformed.content).response_status == \
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_crl_lists_the_revoked_certificate(pki):
    response = requests.get(f"{pki.pki_url}/crl/qualified-ca.crl", timeout=5)
    crl = x509.load_der_x509_crl(response.content)
    assert crl.is_signature_valid(pki.pki.cert("qualified-ca").public_key())
    assert crl.get_revoked_certificate_by_serial_number(pki.pki.cert("revoked").serial_number) is not None
    assert crl.get_revoked_certificate_by_serial_number(pki.pki.cert("qesig").serial_number) is None


def test_tsa_speaks_rfc_3161(pki):
    digest = hashlib.sha256(b"offre").digest()
    request = tsp.TimeStampReq({"version": 1, "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                                                                  "hashed_message": digest},
                                "nonce": 42, "cert_req": True})
    response = requests.post(pki.tsa_url, data=request.dump(),
                             headers={"Content-Type": "application/timestamp-query"}, timeout=5)
    answer = tsp.TimeStampResp.load(response.content)
    assert answer["status"]["status"].native == "granted"
    info = answer["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == digest and info["nonce"].native == 42
    bad = requests.post(pki.tsa_url, data=b"junk", timeout=5, headers={"Content-Type": "application/timestamp-query"})
    assert tsp.PKIStatusInfo.load(bad.content[2:])["status"].native == "rejection"
    assert requests.post(pki.tsa_url, data=b"x", timeout=5).status_code == 415


def test_trusted_lists_are_signed_like_the_real_ones(lists, pki):
    lotl = requests.get(pki.lotl_url, timeout=10)
    assert lotl.headers["content-type"].startswith("application/vnd.etsi.tsl+xml")
    signer = x509.load_pem_x509_certificate(pki.pki.pem("lotl-signer"))
    parsed = eutl_parse.validate_and_parse_lotl(lotl.text, [asn1_x509.Certificate.load(
        signer.public_bytes(Encoding.DER))])
    fr = next(ref for ref in parsed.references if ref.territory == "FR")
    registry, errors = eutl_parse.trust_list_to_registry(requests.get(fr.location_uri, timeout=10).text,
                                                         fr.tlso_certs)
    assert errors == [] and len(registry.known_certificate_authorities) == 1
    lists.set_list_mode("fr", "missing")
    assert requests.get(fr.location_uri, timeout=10).status_code == 404


@pytest.mark.parametrize(("content", "kind"), [
    (b"%PDF-1.7\n...", uploads.PDF),
    (b"\xef\xbb\xbf<?xml version='1.0'?><ds:Signature xmlns:ds='http://www.w3.org/2000/09/xmldsig#'/>",
     uploads.XML_SIGNATURE),
    (b"PK\x03\x04zip", uploads.OTHER),
    (b"hello", uploads.OTHER),
])
def test_uploads_are_sorted_by_content(content, kind):
    assert uploads.classify("file", "whatever.bin", content).kind == kind


def test_ecdsa_values_from_webcrypto_become_der():
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.sign(b"data", ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    builder = x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(x509.Name([])) \
        .public_key(key.public_key()).serial_number(1).not_valid_before(datetime(2020, 1, 1)) \
        .not_valid_after(datetime(2040, 1, 1))
    cert = builder.sign(key, hashes.SHA256())
    credentials = Credentials(certificate=asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)), chain=[])
    assert normalise_signature(credentials, raw) == der
    assert normalise_signature(credentials, der) == der


def test_document_verdict_is_the_worst_of_its_signatures():
    def entry(code):
        return {"verdict": {"code": code, "human_checks": ["Vérifier"]}}

    assert document_verdict([entry("compliant"), entry("compliant")])["code"] == "compliant"
    assert document_verdict([entry("compliant"), entry("to_verify")])["code"] == "to_verify"
    assert document_verdict([entry("to_verify"), entry("non_compliant")])["code"] == "non_compliant"
    assert document_verdict([])["code"] == "non_compliant"


def test_get_ocsp_is_supported(pki):
    request = ocsp.OCSPRequestBuilder().add_certificate(pki.pki.cert("qesig"), pki.pki.cert("qualified-ca"),
                                                        hashes.SHA1()).build()
    encoded = base64.b64encode(request.public_bytes(Encoding.DER)).decode()
    response = requests.get(f"{pki.pki_url}/ocsp/qualified-ca/{encoded}", timeout=5)
    assert ocsp.load_der_ocsp_response(response.content).certificate_status == ocsp.OCSPCertStatus.GOOD


@pytest.mark.parametrize("raw", [b"<48656c6c6f>", b"<48 65 6c\n6c 6f>", b"<4865 6C6C 6F0>", b"<>", b"<4>"])
def test_fast_hex_reader_reads_like_pyhanko(raw):
    import io

    from achats.signature.validation.fetching import PYHANKO_HEX_READER, read_hex_string_from_stream

    ours = io.BytesIO(raw + b" trailing")
    theirs = io.BytesIO(raw + b" trailing")
    assert read_hex_string_from_stream(ours) == PYHANKO_HEX_READER(theirs)
    assert ours.tell() == theirs.tell()


def test_revocation_answers_are_reused_within_the_cache_time(build, pki, pdf):
    from signature_support import sign

    signed = sign(pki, "qesig", pdf)
    cached = build(revocation_cache_seconds=300)
    cached.verify(signed)
    before = pki.calls("pki").get("ocsp", 0)
    assert cached.verify(signed)["signatures"][0]["revocation"]["status"] == "good"
    assert pki.calls("pki").get("ocsp", 0) == before  # the same worker answered from its cache
    uncached = build(revocation_cache_seconds=0)
    uncached.verify(signed)
    assert pki.calls("pki").get("ocsp", 0) > before

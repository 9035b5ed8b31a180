"""Detached CAdES (.p7s), enveloping CMS (.p7m) and detached XAdES (.xml), ours and other tools'."""

from __future__ import annotations

import base64
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import SignatureConstructionMethod
from signxml.xades import XAdESSigner

from signature_support import sign

DOCUMENT = "Mémoire technique — lot 2".encode() * 200


def require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is required by this test: install it with `apt-get install -y {package}`.")
    return path


def only(report: dict) -> dict:
    assert report["signature_count"] == 1
    return report["signatures"][0]


def _pem_files(pki, tmp_path, person: str):
    key = pki.pki.key(person).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
    (tmp_path / "key.pem").write_bytes(key)
    (tmp_path / "cert.pem").write_bytes(pki.pki.pem(person))
    (tmp_path / "chain.pem").write_bytes(pki.pki.pem("qualified-ca") + pki.pki.pem("qualified-root"))
    (tmp_path / "root.pem").write_bytes(pki.pki.pem("qualified-root"))
    (tmp_path / "document.bin").write_bytes(DOCUMENT)


@pytest.mark.parametrize("level", ["B-B", "B-T"])
def test_cades_round_trip(service, pki, level):
    p7s = sign(pki, "qesig", DOCUMENT, format="cades", level=level, filename="memoire.txt")
    report = service.verify(DOCUMENT, p7s, name="memoire.txt")
    signature = only(report)
    assert report["format"] == "CAdES"
    assert signature["level"] == f"CAdES-BASELINE-{level[-1]}"
    assert signature["integrity"]["packaging"] == "detached"
    assert signature["claimed_signing_time"] is not None
    assert signature["verdict"]["code"] == "compliant"
    assert report["signature_file"]["media_type"] == "application/pkcs7-signature"


def test_cades_fields_may_be_swapped_and_pem_armoured(service, pki):
    p7s = sign(pki, "qesig", DOCUMENT, format="cades", filename="memoire.txt")
    pem = b"-----BEGIN PKCS7-----\n" + base64.encodebytes(p7s) + b"-----END PKCS7-----\n"
    response = service.client.post("/signature/verifications", files={
        "file": ("memoire.txt.p7s", pem, "application/octet-stream"),
        "signature": ("memoire.txt", DOCUMENT, "text/plain")})
    assert response.status_code == 201, response.text
    assert only(response.json())["verdict"]["code"] == "compliant"
    assert response.json()["document"]["filename"] == "memoire.txt"


def test_cades_tampered_file(service, pki):
    p7s = sign(pki, "qesig", DOCUMENT, format="cades")
    signature = only(service.verify(DOCUMENT.replace(b"lot 2", b"lot 3", 1), p7s))
    assert (signature["indication"], signature["sub_indication"]) == ("TOTAL_FAILED", "HASH_FAILURE")
    assert signature["verdict"]["code"] == "non_compliant"


def test_detached_signature_alone_is_refused(service, pki):
    p7s = sign(pki, "qesig", DOCUMENT, format="cades")
    response = service.client.post("/signature/verifications", files={"file": ("memoire.p7s", p7s)})
    assert response.status_code == 422
    assert response.json()["code"] == "signed_file_missing"
    assert "joignez" in response.json()["detail"]


def test_zip_signed_as_a_whole_is_flagged(service, pki):
    import io
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("offre.pdf", b"%PDF-1.4 ...")
    p7s = sign(pki, "qesig", archive.getvalue(), format="cades", filename="offre.zip")
    signature = only(service.verify(archive.getvalue(), p7s, name="offre.zip"))
    assert any("archive ZIP" in check for check in signature["verdict"]["human_checks"])


def test_openssl_cades_detached_and_enveloping(service, pki, tmp_path):
    openssl = require("openssl", "openssl")
    _pem_files(pki, tmp_path, "qesig")
    common = [openssl, "cms", "-sign", "-binary", "-cades", "-md", "sha256", "-in", str(tmp_path / "document.bin"),
              "-signer", str(tmp_path / "cert.pem"), "-inkey", str(tmp_path / "key.pem"),
              "-certfile", str(tmp_path / "chain.pem"), "-outform", "DER"]
    subprocess.run([*common, "-out", str(tmp_path / "detached.p7s")], check=True, capture_output=True)
    subprocess.run([*common, "-nodetach", "-out", str(tmp_path / "enveloping.p7m")], check=True, capture_output=True)

    detached = only(service.verify(DOCUMENT, (tmp_path / "detached.p7s").read_bytes()))
    assert detached["format"] == "CAdES" and detached["level"] == "CAdES-BASELINE-B"
    assert detached["indication"] == "TOTAL_PASSED" and detached["verdict"]["code"] == "compliant"

    report = service.verify((tmp_path / "enveloping.p7m").read_bytes(), name="document.p7m")
    enveloping = only(report)
    assert enveloping["integrity"]["packaging"] == "enveloping"
    assert enveloping["verdict"]["code"] == "compliant"


def test_openssl_verifies_our_cades(pki, tmp_path):
    openssl = require("openssl", "openssl")
    _pem_files(pki, tmp_path, "qesig")
    for level in ("B-B", "B-T"):
        (tmp_path / "ours.p7s").write_bytes(sign(pki, "qesig", DOCUMENT, format="cades", level=level))
        result = subprocess.run([openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in",
                                 str(tmp_path / "ours.p7s"), "-content", str(tmp_path / "document.bin"), "-CAfile",
                                 str(tmp_path / "root.pem"), "-purpose", "any", "-out", "/dev/null"],
                                capture_output=True, text=True)
        assert result.returncode == 0 and "Verification successful" in result.stderr, result.stderr


@pytest.mark.parametrize("level", ["B-B", "B-T"])
def test_xades_round_trip(service, pki, level):
    token = sign(pki, "qesig", DOCUMENT, format="xades", level=level, filename="memoire.txt")
    report = service.verify(DOCUMENT, token, name="memoire.txt")
    signature = only(report)
    assert report["format"] == "XAdES"
    assert signature["level"] == f"XAdES-BASELINE-{level[-1]}"
    assert signature["integrity"]["reference"] == "memoire.txt"
    assert signature["qualification"]["label"] == "QESig"
    assert signature["verdict"]["code"] == "compliant"
    if level == "B-T":
        assert signature["timestamp"]["valid"] is True


def test_xades_tampered_and_revoked(service, pki):
    token = sign(pki, "qesig", DOCUMENT, format="xades")
    tampered = only(service.verify(DOCUMENT + b"!", token))
    assert tampered["sub_indication"] == "HASH_FAILURE" and tampered["verdict"]["code"] == "non_compliant"
    revoked = only(service.verify(DOCUMENT, sign(pki, "revoked", DOCUMENT, format="xades", level="B-T")))
    assert revoked["sub_indication"] == "REVOKED_NO_POE" and revoked["verdict"]["code"] == "non_compliant"
    forged = token.replace(b"<ds:SignatureValue", b"<ds:SignatureValue").replace(b"</ds:SignatureValue>",
                                                                                  b"AAAA</ds:SignatureValue>")
    assert only(service.verify(DOCUMENT, forged))["indication"] == "TOTAL_FAILED"


def test_xades_made_by_signxml_for_an_xml_document(service, pki):
    document = b'<?xml version="1.0"?><offre xmlns="urn:achats:test"><prix devise="EUR">100</prix></offre>'
    key = pki.pki.key("qesig").private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
    signer = XAdESSigner(method=SignatureConstructionMethod.detached, signature_algorithm="rsa-sha256",
                         digest_algorithm="sha256")
    signature = signer.sign(etree.fromstring(document), key=key, reference_uri=["offre.xml"],
                            cert=[pki.pki.pem("qesig").decode(), pki.pki.pem("qualified-ca").decode()])
    token = etree.tostring(signature)
    report = service.verify(document, token, name="offre.xml")
    assert only(report)["format"] == "XAdES"
    assert only(report)["verdict"]["code"] == "compliant"
    assert only(service.verify(document.replace(b"100", b"1"), token, name="offre.xml"))["sub_indication"] \
        == "HASH_FAILURE"


@pytest.mark.parametrize(("content", "code"), [
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
     b'<x xmlns:ds="http://www.w3.org/2000/09/xmldsig#">&e;</x>', "signature_unreadable"),
    (b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><broken', "signature_unreadable"),
    (b"\x30\x82\x10\x00garbage that is not a CMS", "signature_unreadable"),
    (b"-----BEGIN PKCS7-----\nnot base64 at all\n-----END PKCS7-----\n", "signature_unreadable"),
])
def test_garbage_signatures_are_422_in_french(service, content, code):
    response = service.client.post("/signature/verifications", files={
        "file": ("memoire.txt", DOCUMENT), "signature": ("signature", content)})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == code
    assert body["detail"] and "signature" in body["detail"].lower()
    assert response.headers["content-type"].startswith("application/problem+json")

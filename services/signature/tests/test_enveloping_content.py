"""Enveloping signatures (CAdES .p7m, enveloping XAdES): the signed content in the report, and its download."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree
from pyhanko.sign import signers
from signxml import SignatureConstructionMethod
from signxml.xades import XAdESSigner

from signature_support import make_pdf, sign

TEXT = "Mémoire technique — lot 2 : délais et moyens.\n".encode() * 40


def p7m(pki, content: bytes, person: str = "qesig") -> bytes:
    """An enveloping CAdES made by pyHanko (the content inside the CMS)."""
    async def run() -> bytes:
        signer = signers.SimpleSigner.load_pkcs12_data(pki.pki.p12(person), other_certs=[],
                                                       passphrase=pki.pki.password.encode())
        signed = await signer.async_sign_general_data(content, "sha256", detached=False, use_cades=True)
        return signed.dump()
    return asyncio.run(run())


def enveloping_xades(pki, data) -> bytes:
    key = pki.pki.key("qesig").private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
    signer = XAdESSigner(method=SignatureConstructionMethod.enveloping, signature_algorithm="rsa-sha256",
                         digest_algorithm="sha256")
    signature = signer.sign(data, key=key, cert=[pki.pki.pem("qesig").decode(), pki.pki.pem("qualified-ca").decode()])
    return etree.tostring(signature)


def only(report: dict) -> dict:
    assert report["signature_count"] == 1
    return report["signatures"][0]


def test_p7m_report_gives_the_signed_content_and_its_download(service, pki):
    pdf = make_pdf("Offre signée en CAdES enveloppante")
    report = service.verify(p7m(pki, pdf), name="offre.pdf.p7m")
    assert only(report)["integrity"]["packaging"] == "enveloping"
    assert only(report)["indication"] == "TOTAL_PASSED"
    content = report["signed_content"]
    assert content == {"filename": "offre.pdf", "size": len(pdf), "media_type": "application/pdf",
                       "sha256": hashlib.sha256(pdf).hexdigest(),
                       "download": f"/signature/verifications/{report['id']}/signed-content"}
    response = service.client.get(content["download"])
    assert response.status_code == 200
    assert response.content == pdf
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="offre.pdf"' in disposition and "filename*=UTF-8''offre.pdf" in disposition
    assert response.headers["x-content-type-options"] == "nosniff"
    # The same capability as the report: the id; the stored report says the same.
    assert service.client.get(f"/signature/verifications/{report['id']}").json()["report"]["signed_content"] == content


def test_p7m_names_french_and_default(service, pki):
    report = service.verify(p7m(pki, TEXT), name="Mémoire technique « lot 2 ».txt.P7M")
    assert report["signed_content"]["filename"] == "Mémoire technique « lot 2 ».txt"
    disposition = service.client.get(report["signed_content"]["download"]).headers["content-disposition"]
    assert "filename*=UTF-8''M%C3%A9moire%20technique%20%C2%AB%20lot%202%20%C2%BB.txt" in disposition
    ascii_part = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert ascii_part.isascii() and ascii_part.endswith(".txt")

    unnamed = service.verify(p7m(pki, make_pdf("Sans nom")), name="signature.der")
    assert unnamed["signed_content"]["filename"] == "contenu-signe.pdf"


def test_detached_signature_has_no_signed_content_to_download(service, pki):
    p7s = sign(pki, "qesig", TEXT, format="cades", filename="memoire.txt")
    report = service.verify(TEXT, p7s, name="memoire.txt")
    assert report["signed_content"] is None
    response = service.client.get(f"/signature/verifications/{report['id']}/signed-content")
    assert response.status_code == 404 and response.json()["code"] == "signed_content_not_found"
    assert "enveloppante" in response.json()["detail"]


def test_signed_content_goes_with_the_report(build, pki):
    service = build(report_retention=0)
    report = service.verify(p7m(pki, TEXT), name="memoire.txt.p7m")
    gone = service.client.get(f"/signature/verifications/{report['id']}/signed-content")
    assert gone.status_code == 410 and gone.json()["code"] == "report_expired"


@pytest.mark.parametrize("kind", ["text", "xml"])
def test_enveloping_xades(service, pki, kind):
    data = TEXT.decode() if kind == "text" else etree.fromstring(b'<offre xmlns="urn:achats:test"><prix>100</prix>'
                                                                  b'</offre>')
    token = enveloping_xades(pki, data)
    report = service.verify(token, name="offre-signee.xml")
    signature = only(report)
    assert report["format"] == "XAdES"
    assert signature["integrity"]["packaging"] == "enveloping"
    assert (signature["indication"], signature["verdict"]["code"]) == ("TOTAL_PASSED", "compliant")
    content = report["signed_content"]
    served = service.client.get(content["download"])
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == content["sha256"] and len(served.content) == content["size"]
    if kind == "text":
        assert served.content == TEXT
        assert content["filename"] == "contenu-signe.txt"
    else:
        assert etree.fromstring(served.content).findtext("{urn:achats:test}prix") == "100"
        assert content["filename"] == "contenu-signe.xml"


def test_enveloping_xades_tampered(service, pki):
    token = enveloping_xades(pki, TEXT.decode())
    tampered = token.replace(b"moyens", b"moyen", 1)
    assert tampered != token
    signature = only(service.verify(tampered, name="offre.xml"))
    assert (signature["indication"], signature["sub_indication"]) == ("TOTAL_FAILED", "HASH_FAILURE")


def test_enveloping_xades_with_a_second_object_of_the_same_id_is_refused(service, pki):
    """Signature wrapping: a second element with the signed object's Id must not be what is shown."""
    token = enveloping_xades(pki, TEXT.decode())
    root = etree.fromstring(token)
    ds = "http://www.w3.org/2000/09/xmldsig#"
    signed_object = next(o for o in root.findall(f"{{{ds}}}Object") if o.get("Id") == "object")
    forged = etree.SubElement(root, f"{{{ds}}}Object", Id="object")
    forged.text = "Prix : 1 euro"
    root.remove(forged)
    root.insert(list(root).index(signed_object), forged)
    response = service.client.post("/signature/verifications",
                                   files={"file": ("offre.xml", etree.tostring(root))})
    if response.status_code == 201:
        report = response.json()
        assert report["signatures"][0]["indication"] == "TOTAL_FAILED"
        assert not report["signed_content"] or report["signed_content"]["sha256"] != \
            hashlib.sha256(b"Prix : 1 euro").hexdigest()
    else:
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "signature_unreadable"


def test_signed_content_on_postgresql_and_purged_with_the_report(database_url, build, pki):
    from achats.signature import app as signature_app

    service = build(database_url=database_url)
    report = service.verify(p7m(pki, TEXT), name="memoire.txt.p7m")
    assert service.client.get(report["signed_content"]["download"]).content == TEXT
    short = build(database_url=database_url, report_retention=0)
    expired = short.verify(p7m(pki, TEXT), name="memoire.txt.p7m")
    assert signature_app.purge(short.runtime) >= 1
    assert short.client.get(expired["signed_content"]["download"]).status_code == 410


def test_pdf_and_etsi_reports_of_an_enveloping_xades(service, pki, tmp_path):
    import shutil
    import subprocess

    report = service.verify(enveloping_xades(pki, TEXT.decode()), name="offre.xml")
    xml = service.client.get(f"/signature/verifications/{report['id']}/report.xml")
    assert xml.status_code == 200 and b"total-passed" in xml.content
    pdf = service.client.get(f"/signature/verifications/{report['id']}/report.pdf")
    assert pdf.status_code == 200
    if shutil.which("pdftotext"):
        (tmp_path / "r.pdf").write_bytes(pdf.content)
        text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True).stdout
        assert "Contenu signé" in text and report["signed_content"]["sha256"] in text.replace("\n", "")


def test_enveloping_xades_sent_with_a_file_is_told_to_come_alone(service, pki):
    token = enveloping_xades(pki, TEXT.decode())
    response = service.client.post("/signature/verifications", files={
        "file": ("memoire.txt", TEXT), "signature": ("offre.xml", token)})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "signature_not_detached"
    assert "envoyez-la seule" in response.json()["detail"]

"""« Signer un document »: one shot with a PKCS#12, two steps with the key on the device; each format and
level goes through a full sign → verify round trip over HTTP."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from achats.signature.models import SigningSession

from signature_support import device_sign, key_and_pem, make_pdf

CASES = [("pades", "B-B"), ("pades", "B-T"), ("pades", "B-LT"), ("cades", "B-B"), ("cades", "B-T"),
         ("xades", "B-B"), ("xades", "B-T")]
LEVEL_NAMES = {"pades": "PAdES-BASELINE", "cades": "CAdES-BASELINE", "xades": "XAdES-BASELINE"}


def _verify(service, fmt: str, document: bytes, signed: bytes) -> dict:
    if fmt == "pades":
        return service.verify(signed)
    return service.verify(document, signed)


def one_shot(service, pki, document: bytes, *, person: str = "qesig", password: str | None = None,
             headers: dict | None = None, filename: str = "offre.pdf", **form):
    data = {"password": pki.pki.password if password is None else password, **form}
    return service.client.post("/signature/signatures", headers=headers or service.token(), data=data, files={
        "file": (filename, document, "application/octet-stream"),
        "pkcs12": ("certificat.p12", pki.pki.p12(person), "application/x-pkcs12")})


@pytest.mark.parametrize(("fmt", "level"), CASES)
def test_one_shot_round_trip(service, pki, pdf, fmt, level):
    response = one_shot(service, pki, pdf, format=fmt, level=level)
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert {"pades": "offre-signe.pdf", "cades": "offre.pdf.p7s", "xades": "offre.pdf.xades.xml"}[fmt] in disposition
    signature = _verify(service, fmt, pdf, response.content)["signatures"][0]
    assert signature["level"] == f"{LEVEL_NAMES[fmt]}-{level[-1] if level != 'B-LT' else 'LT'}"
    assert signature["signer"]["name"] == "Marie Curie"
    assert signature["verdict"]["code"] == "compliant"


@pytest.mark.parametrize(("fmt", "level"), CASES)
def test_two_steps_round_trip(service, pki, pdf, fmt, level):
    key, pem = key_and_pem(pki, "qesig")
    headers = service.token()
    opened = service.client.post("/signature/signing-sessions", headers=headers,
                                 data={"format": fmt, "level": level},
                                 files={"file": ("offre.pdf", pdf), "certificate": ("qesig.pem", pem)})
    assert opened.status_code == 201, opened.text
    session = opened.json()
    assert session["signature_algorithm"] == "rsa_pkcs1v15_sha256" and session["digest_algorithm"] == "sha256"
    data_to_be_signed = base64.b64decode(session["data_to_be_signed"])
    # « On the device »: the key never travels; only this value does.
    value = base64.b64encode(device_sign(key, data_to_be_signed)).decode()
    finished = service.client.post(f"/signature/signing-sessions/{session['id']}/signature", headers=headers,
                                   json={"signature_value": value})
    assert finished.status_code == 200, finished.text
    signature = _verify(service, fmt, pdf, finished.content)["signatures"][0]
    assert signature["verdict"]["code"] == "compliant"
    assert signature["indication"] == "TOTAL_PASSED"
    # The session is gone once used.
    again = service.client.post(f"/signature/signing-sessions/{session['id']}/signature", headers=headers,
                                json={"signature_value": value})
    assert again.status_code == 404


def test_visible_stamp(service, pki):
    document = make_pdf(pages=2)
    response = one_shot(service, pki, document, format="pades", visible="true", stamp_page="2", stamp_x="100",
                        stamp_y="120", stamp_width="220", stamp_height="50")
    assert response.status_code == 200, response.text
    reader = PdfFileReader(io.BytesIO(response.content))
    page = reader.root["/Pages"]["/Kids"][1].get_object()
    widgets = [a.get_object() for a in page["/Annots"]]
    assert [float(v) for v in widgets[0]["/Rect"]] == [100, 120, 320, 170]
    assert service.verify(response.content)["signatures"][0]["verdict"]["code"] == "compliant"
    missing_page = one_shot(service, pki, document, format="pades", visible="true", stamp_page="9")
    assert missing_page.status_code == 422 and missing_page.json()["code"] == "stamp_page_invalid"


def test_wrong_value_is_refused_and_the_session_kept(service, pki, pdf):
    _key, pem = key_and_pem(pki, "qesig")
    other_key, _pem = key_and_pem(pki, "adesig")
    headers = service.token()
    session = service.client.post("/signature/signing-sessions", headers=headers, data={"format": "cades"},
                                  files={"file": ("offre.pdf", pdf), "certificate": ("qesig.pem", pem)}).json()
    wrong = base64.b64encode(device_sign(other_key, base64.b64decode(session["data_to_be_signed"]))).decode()
    response = service.client.post(f"/signature/signing-sessions/{session['id']}/signature", headers=headers,
                                   json={"signature_value": wrong})
    assert response.status_code == 422
    assert response.json()["code"] == "signature_value_invalid"
    assert service.client.get(f"/signature/signing-sessions/{session['id']}", headers=headers).status_code == 200
    not_base64 = service.client.post(f"/signature/signing-sessions/{session['id']}/signature", headers=headers,
                                     json={"signature_value": "%%%"})
    assert not_base64.status_code == 400


def test_sessions_belong_to_their_owner_and_expire(service, pki, pdf):
    _key, pem = key_and_pem(pki, "qesig")
    alice = service.token(sub="alice")
    session = service.client.post("/signature/signing-sessions", headers=alice, data={"format": "xades"},
                                  files={"file": ("offre.pdf", pdf), "certificate": ("qesig.pem", pem)}).json()
    bob = service.token(sub="bob")
    assert service.client.get(f"/signature/signing-sessions/{session['id']}", headers=bob).status_code == 404
    assert service.client.delete(f"/signature/signing-sessions/{session['id']}", headers=bob).status_code == 404
    with service.runtime.db.unit_of_work() as uow:
        uow.session.get(SigningSession, uuid.UUID(session["id"])).expires_at = datetime.now(UTC) - timedelta(seconds=1)
        uow.commit()
    assert service.client.get(f"/signature/signing-sessions/{session['id']}", headers=alice).status_code == 404


def test_cancel(service, pki, pdf):
    _key, pem = key_and_pem(pki, "qesig")
    headers = service.token()
    session = service.client.post("/signature/signing-sessions", headers=headers, data={"format": "cades"},
                                  files={"file": ("offre.pdf", pdf), "certificate": ("qesig.pem", pem)}).json()
    assert service.client.delete(f"/signature/signing-sessions/{session['id']}", headers=headers).status_code == 204
    assert service.client.get(f"/signature/signing-sessions/{session['id']}", headers=headers).status_code == 404


def test_wrong_password_is_a_french_422_and_never_logged(service, pki, pdf, capsys):
    secret = "mot-de-passe-faux-Zx81"
    response = one_shot(service, pki, pdf, password=secret, format="pades")
    assert response.status_code == 422
    assert response.json()["code"] == "pkcs12_invalid"
    assert "mot de passe" in response.json()["detail"]
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err


def test_signing_needs_login(service, pki, pdf):
    response = service.client.post("/signature/signatures", data={"format": "pades", "password": "x"},
                                   files={"file": ("offre.pdf", pdf), "pkcs12": ("c.p12", pki.pki.p12("qesig"))})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_form_errors(service, pki, pdf):
    not_pdf = one_shot(service, pki, b"just text", filename="note.txt", format="pades")
    assert not_pdf.status_code == 415 and not_pdf.json()["code"] == "pdf_required"
    bad_format = one_shot(service, pki, pdf, format="docx")
    assert bad_format.status_code == 400
    assert bad_format.json()["errors"][0]["field"] == "format"
    lt_cades = one_shot(service, pki, pdf, format="cades", level="B-LT")
    assert lt_cades.status_code == 422 and lt_cades.json()["code"] == "level_unsupported"
    not_a_certificate = service.client.post("/signature/signing-sessions", headers=service.token(),
                                            data={"format": "cades"},
                                            files={"file": ("o.pdf", pdf), "certificate": ("c.pem", b"garbage")})
    assert not_a_certificate.status_code == 422 and not_a_certificate.json()["code"] == "certificate_invalid"


def test_timestamp_levels_need_a_tsa(build, pki, pdf):
    service = build(tsa_url="")
    response = one_shot(service, pki, pdf, format="pades", level="B-T")
    assert response.status_code == 422
    assert response.json()["code"] == "tsa_not_configured"
    assert one_shot(service, pki, pdf, format="pades", level="B-B").status_code == 200


def test_long_term_needs_a_valid_chain(service, pki, pdf):
    response = one_shot(service, pki, pdf, person="revoked", format="pades", level="B-LT")
    assert response.status_code == 422
    assert response.json()["code"] == "long_term_unavailable"

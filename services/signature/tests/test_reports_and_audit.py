"""Reports (JSON, PDF, ETSI XML) kept for a while, the audit trail, its event — on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import uuid
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from lxml import etree
from sqlalchemy import func, select

import achats.signature
from achats.chassis.bus import outbox
from achats.signature import app as signature_app
from achats.signature.models import SigningSession, Verification, VerificationReport

from signature_support import device_sign, key_and_pem, sign

CONTRACT = yaml.safe_load((Path(achats.signature.__file__).parent / "asyncapi.yaml").read_text())
VR = "http://uri.etsi.org/19102/v1.2.1#"


def test_verification_is_kept_as_hash_verdict_and_time_only(database_url, build, pki, pdf):
    service = build(database_url=database_url)
    signed = sign(pki, "qesig", pdf)
    report = service.verify(signed)
    with service.runtime.db.session() as session:
        record = session.get(Verification, uuid.UUID(report["id"]))
        assert record.document_sha256 == hashlib.sha256(signed).hexdigest()
        assert record.verdict == "compliant" and record.signature_count == 1
        assert record.created_at is not None
        columns = {c.name for c in Verification.__table__.columns}
        assert not {"content", "document", "signer"} & columns
        published = session.execute(select(outbox.c.type, outbox.c.body)).all()
    assert [row.type for row in published] == ["signature.verification.completed"]
    envelope = json.loads(published[0].body)
    assert envelope["source"] == "/signature" and envelope["subject"] == report["id"]
    message = CONTRACT["channels"]["signature.verification.completed"]["subscribe"]["message"]["$ref"]
    validator = Draft202012Validator({"$ref": f"{message}/payload", "components": CONTRACT["components"]})
    assert list(validator.iter_errors(envelope["data"])) == []
    assert envelope["data"]["document_sha256"] == hashlib.sha256(signed).hexdigest()


def test_two_step_session_persists_between_requests(database_url, build, pki, pdf):
    service = build(database_url=database_url)
    key, pem = key_and_pem(pki, "qesig")
    headers = service.token(sub="marie")
    session = service.client.post("/signature/signing-sessions", headers=headers, data={"format": "pades"},
                                  files={"file": ("offre.pdf", pdf), "certificate": ("c.pem", pem)}).json()
    fetched = service.client.get(f"/signature/signing-sessions/{session['id']}", headers=headers).json()
    assert fetched["data_to_be_signed"] == session["data_to_be_signed"]
    value = device_sign(key, base64.b64decode(session["data_to_be_signed"]))
    finished = service.client.post(f"/signature/signing-sessions/{session['id']}/signature", headers=headers,
                                   json={"signature_value": base64.b64encode(value).decode()})
    assert finished.status_code == 200
    with service.runtime.db.session() as db:
        assert db.execute(select(func.count()).select_from(SigningSession)).scalar_one() == 0


def test_json_pdf_and_etsi_xml_reports(service, pki, pdf, tmp_path):
    report = service.verify(sign(pki, "qesig", pdf, level="B-T"))
    fetched = service.client.get(f"/signature/verifications/{report['id']}").json()
    assert fetched["audit"]["verdict"] == "compliant"
    assert fetched["report"]["signatures"][0]["signer"]["name"] == "Marie Curie"

    pdf_report = service.client.get(f"/signature/verifications/{report['id']}/report.pdf")
    assert pdf_report.status_code == 200
    assert pdf_report.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf_report.headers["content-disposition"]
    assert pdf_report.content.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        (tmp_path / "report.pdf").write_bytes(pdf_report.content)
        text = subprocess.run(["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True,
                              text=True).stdout
        for expected in ("Rapport de vérification", "Marie Curie", "QESig", "Signature conforme", "TOTAL_PASSED",
                         "Résultat ETSI du document", report["document"]["sha256"],
                         "Nom commun : Achats Test CA Qualifiée", "Nom commun : Marie Curie"):
            assert expected in text.replace("\n", " ") or expected in text, expected
        for english in ("Common Name", "Serial Number", "Organization", "Country"):
            assert english not in text, english

    xml = service.client.get(f"/signature/verifications/{report['id']}/report.xml")
    assert xml.status_code == 200
    root = etree.fromstring(xml.content)
    assert root.tag == f"{{{VR}}}ValidationReport"
    ns = {"vr": VR}
    assert root.findtext(".//vr:SignatureValidationStatus/vr:MainIndication", namespaces=ns) == \
        "urn:etsi:019102:mainindication:total-passed"
    assert root.findtext(".//vr:SignatureQuality/vr:SignatureQualityInformation", namespaces=ns).endswith("QESig")
    assert root.findtext(".//vr:SignerInformation/vr:Signer", namespaces=ns) == "Marie Curie"
    assert root.find(".//vr:SignatureAttributes/vr:SignatureTimeStamp", ns) is not None
    object_types = {node.text for node in root.iterfind(".//vr:ValidationObject/vr:ObjectType", ns)}
    assert {"urn:etsi:019102:validationObject:certificate",
            "urn:etsi:019102:validationObject:OCSPResponse"} <= object_types


def test_failed_signature_in_the_xml_report(service, pki, pdf):
    signed = bytearray(sign(pki, "qesig", pdf))
    signed[300] ^= 1  # inside the signed byte range
    report = service.verify(bytes(signed))
    root = etree.fromstring(service.client.get(f"/signature/verifications/{report['id']}/report.xml").content)
    ns = {"vr": VR}
    assert root.findtext(".//vr:MainIndication", namespaces=ns) == "urn:etsi:019102:mainindication:total-failed"
    assert root.findtext(".//vr:SubIndication", namespaces=ns) == "urn:etsi:019102:subindication:HASH_FAILURE"


def test_reports_expire_but_the_audit_record_stays(build, pki, pdf):
    service = build(report_retention=0)
    report = service.verify(sign(pki, "qesig", pdf))
    gone = service.client.get(f"/signature/verifications/{report['id']}/report.pdf")
    assert gone.status_code == 410 and gone.json()["code"] == "report_expired"
    assert service.client.get(f"/signature/verifications/{report['id']}/report.xml").status_code == 410
    body = service.client.get(f"/signature/verifications/{report['id']}").json()
    assert body["report"] is None and body["audit"]["verdict"] == "compliant"
    assert signature_app.purge(service.runtime) == 1
    with service.runtime.db.session() as session:
        assert session.get(VerificationReport, uuid.UUID(report["id"])) is None
        assert session.get(Verification, uuid.UUID(report["id"])) is not None


def test_unknown_verification(service):
    response = service.client.get(f"/signature/verifications/{uuid.uuid4()}")
    assert response.status_code == 404 and response.json()["code"] == "verification_not_found"
    assert service.client.get("/signature/verifications/not-a-uuid").status_code == 400


def test_audit_trail_is_for_staff_and_paginated(build, pki, pdf):
    service = build()
    signed = sign(pki, "qesig", pdf)
    ids = [service.verify(signed)["id"] for _ in range(3)]
    assert service.client.get("/signature/verifications").status_code == 401
    assert service.client.get("/signature/verifications", headers=service.token("supplier")).status_code == 403
    agent = service.token("support_agent")
    first = service.client.get("/signature/verifications", headers=agent, params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = service.client.get("/signature/verifications", headers=agent,
                                params={"limit": 2, "cursor": first["next_cursor"]}).json()
    seen = [item["id"] for item in first["items"] + second["items"]]
    assert seen == list(reversed(ids)) and second["next_cursor"] is None
    by_hash = service.client.get("/signature/verifications", headers=agent,
                                 params={"document_sha256": hashlib.sha256(signed).hexdigest()}).json()
    assert len(by_hash["items"]) == 3
    bad = service.client.get("/signature/verifications", headers=agent, params={"cursor": "nonsense"})
    assert bad.status_code == 400 and bad.json()["code"] == "cursor_invalid"


def test_probes(service):
    assert service.client.get("/healthz").json() == {"status": "ok", "service": "signature"}
    assert service.client.get("/readyz").status_code == 200

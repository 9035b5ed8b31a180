"""The accusé de réception: the PDF at any time, the event the notifier mails, and each file's signature."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from test_dce import text_of

from achats.chassis.testing.server import serving

from consultations_support import WORKS, consultation_id, deposit, make_consultations, pdf, stored


def test_the_receipt_pdf_lists_the_files_their_sha256_and_the_timestamp(consultations, tsa):
    stamped = datetime(2026, 12, 7, 10, 0, 5, tzinfo=UTC)
    tsa.at(stamped)
    body = deposit(consultations, consultation_id(WORKS), 1, files=[
        ("candidature", "dc1.pdf", pdf("dc1")), ("offre", "offre.pdf", pdf("prix"))]).json()
    response = consultations.client.get(body["receipt"], headers=consultations.auth())
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = " ".join(text_of(response.content).split())
    assert "Accusé de réception de votre dépôt" in text and WORKS in text
    assert "le 07/12/2026 à 11:00:05 (heure de Paris)" in text, "the timestamp's time, in Paris time"
    assert body["timestamp"]["serial_number"] in text
    for name, content in (("dc1.pdf", pdf("dc1")), ("offre.pdf", pdf("prix"))):
        assert name in text and hashlib.sha256(content).hexdigest() in text
    # Any time: after the deadline too; another company never.
    assert consultations.client.get(body["receipt"], headers=consultations.auth("pierre")).status_code == 404


def test_a_deposit_announces_itself_for_the_acknowledgement_mail(consultations):
    body = deposit(consultations, consultation_id(WORKS), 2).json()
    (event,) = consultations.events("consultations.deposit.received")
    data = event["data"]
    assert data["deposit_id"] == body["id"] and data["reference"] == WORKS and data["lot_number"] == 2
    assert data["depositor"] == {"email": "marie.curie@example.fr", "name": "Marie"}
    assert data["deposited_at"] == body["deposited_at"]
    sent = [(f["filename"], f["sha256"]) for f in body["files"]]
    assert [(f["filename"], f["sha256"]) for f in data["files"]] == sent
    assert data["receipt_url"].endswith(f"/api/consultations/deposits/{body['id']}/receipt.pdf")
    # The same Idempotency-Key twice: one deposit, one mail.
    deposit(consultations, consultation_id(WORKS), 1, key="k")
    deposit(consultations, consultation_id(WORKS), 1, key="k")
    assert len(consultations.events("consultations.deposit.received")) == 2


# -- signatures: a stand-in of the signature service's verification contract ------------------------------


REPORTS: dict[str, dict] = {}


def _report(report_id: str, sha256: str, verdict: str, indication: str) -> dict:
    return {"id": report_id, "verified_at": "2026-12-07T10:00:00+00:00", "format": "PAdES",
            "document": {"filename": "x", "size": 1, "media_type": "application/pdf", "sha256": sha256},
            "signature_count": 1, "indication": indication,
            "verdict": {"code": verdict, "label": verdict, "reasons": [], "human_checks": []},
            "signatures": [{"signer": {"name": "Marie Curie"}, "indication": indication,
                            "verdict": {"code": verdict}}]}


@pytest.fixture(scope="module")
def signature_service():
    async def verify(request: Request):
        form = await request.form()
        content = await form["file"].read()
        digest = hashlib.sha256(content).hexdigest()
        if b"SIGNED-OK" in content:
            return JSONResponse(_report("11111111-1111-4111-8111-111111111111", digest, "compliant", "TOTAL_PASSED"),
                                status_code=201)
        if b"TAMPERED" in content:
            return JSONResponse(_report("22222222-2222-4222-8222-222222222222", digest, "non_compliant",
                                        "TOTAL_FAILED"), status_code=201)
        return JSONResponse(_report("33333333-3333-4333-8333-333333333333", digest, "non_compliant",
                                    "NO_SIGNATURE_FOUND"), status_code=201)

    async def get(request: Request):
        found = REPORTS.get(request.path_params["vid"])
        if found is None:
            return JSONResponse({"code": "verification_not_found"}, status_code=404)
        return JSONResponse({"audit": {"id": found["id"], "document_sha256": found["document"]["sha256"],
                                       "signature_sha256": found.get("signature_sha256"), "signature_count": 1,
                                       "verdict": found["verdict"]["code"], "verified_at": found["verified_at"]},
                             "report": found})

    from starlette.routing import Route
    app = Starlette(routes=[Route("/signature/verifications", verify, methods=["POST"]),
                            Route("/signature/verifications/{vid}", get, methods=["GET"])])
    with serving(app) as base:
        yield base


@pytest.fixture
def signed(database_url, keys, tsa, tmp_path, signature_service):
    tsa.reset()
    service = make_consultations(database_url, keys, tsa=tsa, storage=tmp_path / "s", signature_url=signature_service)
    yield service
    service.runtime.db.dispose()


def test_an_invalid_signature_needs_the_users_confirmation(signed):
    files = [("offre", "ae.pdf", pdf("SIGNED-OK")), ("offre", "prix.pdf", pdf("TAMPERED"))]
    refused = deposit(signed, consultation_id(WORKS), files=files)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "signature_invalid_unconfirmed"
    assert problem["errors"] == [{"field": "offre", "message": "« prix.pdf » : signature non conforme."}]
    assert stored(signed) == (0, 0, [])
    confirmed = deposit(signed, consultation_id(WORKS), files=files, data={"accept_invalid_signatures": "true"})
    assert confirmed.status_code == 201, confirmed.text
    body = confirmed.json()
    assert body["invalid_signatures_confirmed"] is True
    assert [(f["filename"], f["signature"]["status"], f["signature"]["report_id"]) for f in body["files"]] == [
        ("ae.pdf", "compliant", "11111111-1111-4111-8111-111111111111"),
        ("prix.pdf", "non_compliant", "22222222-2222-4222-8222-222222222222")]


def test_an_unsigned_file_counts_as_invalid_and_a_docx_is_not_sent_to_verify(signed):
    refused = deposit(signed, consultation_id(WORKS), files=[("offre", "brut.pdf", pdf("rien"))])
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["message"] == "« brut.pdf » : aucune signature électronique."


def test_a_report_id_verified_beforehand_is_kept_for_its_file(signed):
    content = pdf("signé ailleurs, avec .p7s")
    digest = hashlib.sha256(content).hexdigest()
    REPORTS["44444444-4444-4444-8444-444444444444"] = _report("44444444-4444-4444-8444-444444444444", digest,
                                                              "compliant", "TOTAL_PASSED")
    ok = deposit(signed, consultation_id(WORKS), files=[("offre", "ae.pdf", content)],
                 data={"signature_report_ids": "44444444-4444-4444-8444-444444444444"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["files"][0]["signature"]["status"] == "compliant"
    mismatch = deposit(signed, consultation_id(WORKS), files=[("offre", "autre.pdf", pdf("SIGNED-OK autre"))],
                       data={"signature_report_ids": "44444444-4444-4444-8444-444444444444"})
    assert mismatch.status_code == 422 and mismatch.json()["code"] == "signature_report_mismatch"
    unknown = deposit(signed, consultation_id(WORKS), files=[("offre", "ae.pdf", content)],
                      data={"signature_report_ids": "55555555-5555-4555-8555-555555555555"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "signature_report_unknown"


def test_the_signature_service_down_refuses_the_deposit(database_url, keys, tsa, tmp_path):
    from achats.chassis.testing.server import free_port

    service = make_consultations(database_url, keys, tsa=tsa, storage=tmp_path / "s",
                                 signature_url=f"http://127.0.0.1:{free_port()}")
    try:
        refused = deposit(service, consultation_id(WORKS), files=[("offre", "ae.pdf", pdf())])
        assert refused.status_code == 503 and refused.json()["code"] == "signature_service_unavailable"
        assert stored(service) == (0, 0, [])
    finally:
        service.runtime.db.dispose()



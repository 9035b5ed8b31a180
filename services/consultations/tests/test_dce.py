"""The DCE: real PDF documents, one by one or as a zip, each download recorded for the caller's company."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile

from consultations_support import SERVICES, WORKS, consultation_id


def dce(consultations, reference: str, path: str, who: str | None = "marie"):
    headers = consultations.auth(who) if who else {}
    return consultations.client.get(f"/consultations/consultations/{consultation_id(reference)}/{path}",
                                    headers=headers)


def text_of(pdf: bytes) -> str:
    """The text of a PDF, by poppler's pdftotext (Debian poppler-utils), as the web's guide tests read theirs."""
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, check=True,
                          capture_output=True).stdout.decode()


def form_fields(pdf: bytes) -> set[str]:
    """The names of the PDF's form fields (reportlab writes the field dictionaries uncompressed)."""
    return {name.decode() for name in re.findall(rb"/T \((\w+)\)", pdf)}


def test_each_document_is_a_real_pdf_about_the_consultation(consultations):
    for slug, heading in (("reglement-consultation", "Règlement de la consultation"),
                          ("ccap", "Cahier des clauses administratives particulières"),
                          ("acte-engagement", "Acte d'engagement")):
        response = dce(consultations, WORKS, f"dce/{slug}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
        assert "attachment" in response.headers["content-disposition"]
        text = text_of(response.content)
        assert heading in text and WORKS in text
        if slug != "ccap":
            assert "Gros œuvre et désamiantage" in text, "the lots"
        assert "Date limite de remise des plis" in text


def test_the_acte_d_engagement_has_fields_to_fill_one_price_per_lot(consultations):
    pdf = dce(consultations, WORKS, "dce/acte-engagement").content
    fields = form_fields(pdf)
    assert {"raison_sociale", "siret", "signataire", "lot_1_prix_ht", "lot_2_prix_ht", "lot_3_prix_ht"} <= set(fields)
    services = form_fields(dce(consultations, SERVICES, "dce/acte-engagement").content)
    assert "lot_2_prix_ht" in services and "lot_3_prix_ht" not in services


def test_the_same_document_twice_is_the_same_bytes(consultations):
    assert dce(consultations, WORKS, "dce/ccap").content == dce(consultations, WORKS, "dce/ccap").content


def test_the_zip_holds_the_three_documents(consultations):
    response = dce(consultations, WORKS, "dce.zip")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == sorted(f"{WORKS}_{k}.pdf" for k in ("RC", "CCAP", "AE"))
    assert archive.read(f"{WORKS}_CCAP.pdf") == dce(consultations, WORKS, "dce/ccap").content


def test_downloads_are_recorded_per_company_and_published(consultations):
    dce(consultations, WORKS, "dce/reglement-consultation")
    dce(consultations, WORKS, "dce.zip")
    dce(consultations, SERVICES, "dce/ccap", who="pierre")
    mine = consultations.client.get("/consultations/downloads", headers=consultations.auth("marie")).json()
    assert [(d["reference"], d["document"]) for d in mine["items"]] == [
        (WORKS, "dce.zip"), (WORKS, "reglement-consultation")]
    theirs = consultations.client.get("/consultations/downloads", headers=consultations.auth("pierre")).json()
    assert [(d["reference"], d["document"]) for d in theirs["items"]] == [(SERVICES, "ccap")]
    only = consultations.client.get("/consultations/downloads", params={"consultation_id": consultation_id(SERVICES)},
                                    headers=consultations.auth("marie")).json()
    assert only["count"] == 0
    events = consultations.events("consultations.dce.downloaded")
    assert [(e["data"]["reference"], e["data"]["document"]) for e in events] == [
        (WORKS, "reglement-consultation"), (WORKS, "dce.zip"), (SERVICES, "ccap")]
    assert events[0]["data"]["company_id"] == "0e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b"


def test_a_download_needs_a_company_account(consultations):
    anonymous = dce(consultations, WORKS, "dce/ccap", who=None)
    assert anonymous.status_code == 401
    agent = dce(consultations, WORKS, "dce.zip", who="agent")
    assert agent.status_code == 403 and "réservé aux comptes rattachés à une entreprise" in agent.json()["detail"]
    assert consultations.events("consultations.dce.downloaded") == []
    unknown = dce(consultations, WORKS, "dce/cctp")
    assert unknown.status_code in (400, 404)

"""Verification of PDF signatures: every status the report can give, produced over the real protocols."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers, timestamps
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko_certvalidator import ValidationContext

from achats.signature.validation.common import CombinedTrustManager

from signature_support import make_pdf, sign


def require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is required by this test: install it with `apt-get install -y {package}` "
                    f"(scripts/ensure-services.sh does it for `make test`).")
    return path


def only(report: dict) -> dict:
    assert report["signature_count"] == len(report["signatures"]) == 1
    return report["signatures"][0]


def test_qualified_signature_is_compliant_with_full_details(service, pki, pdf):
    signed = sign(pki, "qesig", pdf)
    report = service.verify(signed)
    signature = only(report)
    assert report["format"] == "PAdES"
    assert report["verdict"]["code"] == "compliant"
    assert signature["level"] == "PAdES-BASELINE-B"
    assert signature["indication"] == "TOTAL_PASSED" and signature["sub_indication"] is None
    assert signature["signer"]["name"] == "Marie Curie"
    assert signature["signer"]["email"] == "marie.curie@curie-sas.example"
    assert signature["signer"]["organization"] == "Curie SAS"
    assert signature["signer"]["serial_number"] == format(pki.pki.cert("qesig").serial_number, "X")
    assert signature["signer"]["subject_serial_number"] == "IDCFR-QES-0001"
    assert [c["trust_anchor"] for c in signature["chain"]] == [False, True]
    assert signature["chain"][1]["anchor_source"] == "trusted_list"
    assert signature["integrity"] == {"intact": True, "signature_valid": True, "packaging": "embedded",
                                      "coverage": "entire_file", "modifications": "none", "signed_revision": 2,
                                      "revisions": 2}
    assert signature["certificate_validity"]["valid_at_signing_time"] is True
    assert signature["certificate_validity"]["basis"] == "claimed"
    assert signature["revocation"]["status"] == "good" and signature["revocation"]["source"] == "ocsp"
    qualification = signature["qualification"]
    assert qualification["label"] == "QESig" and qualification["qscd"] is True
    assert qualification["trusted_list"]["country"] == "FR"
    assert qualification["trusted_list"]["provider"] == "Confiance Qualifiée (test)"
    assert qualification["trusted_list"]["service"] == "Achats Test CA Qualifiée"
    assert any("Marie Curie" in check for check in signature["verdict"]["human_checks"])
    assert "evidence" not in signature  # kept for the XML report, not shown


ENGLISH_LABELS = ("Common Name", "Serial Number", "Organization", "Country", "Given Name", "Surname",
                  "Email Address", "Locality", "Organizational Unit", "Title")


def test_distinguished_names_are_in_french_with_a_machine_form(service, pki, pdf):
    signature = only(service.verify(sign(pki, "qesig", pdf, level="B-T")))
    shown = [signature["signer"]["subject"], signature["certificate"]["subject"], signature["certificate"]["issuer"],
             signature["timestamp"]["tsa"], *(c["subject"] for c in signature["chain"])]
    for text in shown:
        assert not any(label in text for label in ENGLISH_LABELS), text
    subject = signature["certificate"]["subject"]
    for part in ("Nom commun : Marie Curie", "Prénom : Marie", "Nom : Curie", "Numéro de série : IDCFR-QES-0001",
                 "Organisation : Curie SAS", "Identifiant d'organisation : NTRFR-552100554", "Pays : FR"):
        assert part in subject, subject
    assert subject.startswith("Nom commun : Marie Curie")  # most specific first, as RFC 4514 writes it
    assert signature["certificate"]["issuer"].startswith("Nom commun : Achats Test CA Qualifiée")
    assert "Nom commun : Achats Test Horodatage Qualifié" in signature["timestamp"]["tsa"]
    # The machine form, RFC 4514, for programs.
    assert signature["certificate"]["subject_dn"] == pki.pki.cert("qesig").subject.rfc4514_string()
    assert signature["certificate"]["issuer_dn"] == pki.pki.cert("qualified-ca").subject.rfc4514_string()
    assert signature["signer"]["subject_dn"] == signature["certificate"]["subject_dn"]
    assert signature["certificate"]["name"] == "Marie Curie"


@pytest.mark.parametrize(("person", "label", "verdict"), [
    ("adesig-qc", "AdESig-QC", "compliant"),
    ("adesig", "AdESig", "non_compliant"),
])
def test_qualification_from_the_trusted_list(service, pki, pdf, person, label, verdict):
    signature = only(service.verify(sign(pki, person, pdf)))
    assert signature["indication"] == "TOTAL_PASSED"
    assert signature["qualification"]["label"] == label
    assert signature["verdict"]["code"] == verdict


def test_untrusted_ca_is_to_verify(service, pki, pdf):
    signature = only(service.verify(sign(pki, "untrusted", pdf)))
    assert (signature["indication"], signature["sub_indication"]) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
    assert signature["qualification"]["label"] == "N/A"
    assert signature["verdict"]["code"] == "to_verify"
    assert any("art. 2" in check for check in signature["verdict"]["human_checks"])


def test_tampered_document_fails(service, pki, pdf):
    signed = bytearray(sign(pki, "qesig", pdf))
    signed[300] ^= 0x01  # one byte, inside the signed range
    signature = only(service.verify(bytes(signed)))
    assert (signature["indication"], signature["sub_indication"]) == ("TOTAL_FAILED", "HASH_FAILURE")
    assert signature["integrity"]["intact"] is False
    assert signature["verdict"]["code"] == "non_compliant"


def test_revoked_certificate(service, pki, pdf):
    signature = only(service.verify(sign(pki, "revoked", pdf, level="B-T")))
    assert signature["sub_indication"] == "REVOKED_NO_POE"
    assert signature["revocation"]["status"] == "revoked"
    assert signature["revocation"]["revoked_at"] is not None
    assert signature["certificate_validity"]["revoked_before"] is True
    assert signature["qualification"]["label"] == "Indeterminate QESig"
    assert signature["verdict"]["code"] == "non_compliant"


def test_expired_certificate_even_with_a_timestamp(service, pki, pdf):
    signature = only(service.verify(sign(pki, "expired", pdf, level="B-T")))
    # The timestamp is after the expiry: it proves nothing for the certificate's validity.
    assert (signature["indication"], signature["sub_indication"]) == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")
    assert signature["certificate_validity"]["valid_at_signing_time"] is False
    assert signature["certificate_validity"]["basis"] == "timestamp"
    assert signature["verdict"]["code"] == "non_compliant"


def test_timestamped_signature(service, pki, pdf):
    signature = only(service.verify(sign(pki, "qesig", pdf, level="B-T")))
    assert signature["level"] == "PAdES-BASELINE-T"
    assert signature["timestamp"]["valid"] is True
    assert "Horodatage" in signature["timestamp"]["tsa"]
    assert signature["best_signature_time"] == signature["timestamp"]["time"]
    assert signature["certificate_validity"]["basis"] == "timestamp"
    assert signature["verdict"]["code"] == "compliant"


def test_long_term_levels(service, pki, pdf, material):
    lt = sign(pki, "qesig", pdf, level="B-LT", material=material)
    assert only(service.verify(lt))["level"] == "PAdES-BASELINE-LT"

    async def archive(document: bytes) -> bytes:
        context = ValidationContext(trust_manager=CombinedTrustManager(material.registry, material.anchors),
                                    allow_fetching=True)
        stamper = signers.PdfTimeStamper(timestamps.HTTPTimeStamper(pki.tsa_url))
        out = await stamper.async_timestamp_pdf(IncrementalPdfFileWriter(io.BytesIO(document)), "sha256",
                                                validation_context=context)
        return out.getvalue()

    lta = asyncio.run(archive(lt))
    signature = only(service.verify(lta))
    assert signature["level"] == "PAdES-BASELINE-LTA"
    assert signature["validation_process"] == "LTA"
    assert signature["indication"] == "TOTAL_PASSED"
    assert signature["verdict"]["code"] == "compliant"


def test_several_signatures(service, pki, pdf):
    first = sign(pki, "qesig", pdf)
    both = sign(pki, "adesig-qc", first, field_name="Signature2")
    report = service.verify(both)
    assert report["signature_count"] == 2
    one, two = report["signatures"]
    assert (one["signer"]["name"], two["signer"]["name"]) == ("Marie Curie", "Louis Pasteur")
    assert one["integrity"]["coverage"] == "entire_revision"
    assert one["integrity"]["modifications"] == "form_filling"
    assert two["integrity"]["coverage"] == "entire_file"
    assert [s["indication"] for s in report["signatures"]] == ["TOTAL_PASSED", "TOTAL_PASSED"]
    assert report["indication"] == "TOTAL_PASSED"
    assert report["verdict"]["code"] == "compliant"


@pytest.mark.parametrize(("people", "expected"), [
    (("qesig",), "TOTAL_PASSED"),
    (("qesig", "untrusted"), "INDETERMINATE"),   # the worst of the signatures
    (("untrusted",), "INDETERMINATE"),
])
def test_document_indication_is_the_worst_of_its_signatures(service, pki, pdf, people, expected):
    signed = pdf
    for number, person in enumerate(people, start=1):
        signed = sign(pki, person, signed, field_name=f"Signature{number}")
    report = service.verify(signed)
    assert [s["indication"] for s in report["signatures"]] == [
        "TOTAL_PASSED" if p == "qesig" else "INDETERMINATE" for p in people]
    assert report["indication"] == expected


def test_document_indication_total_failed_wins(service, pki, pdf):
    signed = bytearray(sign(pki, "untrusted", sign(pki, "qesig", pdf), field_name="Signature2"))
    signed[300] ^= 0x01  # inside both signed ranges
    report = service.verify(bytes(signed))
    assert "TOTAL_FAILED" in [s["indication"] for s in report["signatures"]]
    assert report["indication"] == "TOTAL_FAILED"


def test_incremental_update_after_signing_is_flagged(service, pki, pdf):
    signed = sign(pki, "qesig", pdf)
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    # New page content after the signature: what is displayed is no longer what was signed.
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 600 Td (Prix : 1 euro) Tj ET")
    page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), writer.add_object(stream)])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    signature = only(service.verify(out.getvalue()))
    assert signature["integrity"]["intact"] is True  # the signed revision itself is untouched
    assert signature["integrity"]["coverage"] == "entire_revision"
    assert signature["integrity"]["modifications"] == "other"
    assert signature["verdict"]["code"] == "to_verify"
    assert signature["warnings"]


def test_pdf_without_signature(service):
    report = service.verify(make_pdf("Sans signature"))
    assert report["signature_count"] == 0
    assert report["indication"] == "NO_SIGNATURE_FOUND"
    assert report["verdict"]["code"] == "non_compliant"


@pytest.mark.parametrize(("mode", "indication", "status"), [
    ("hard", "INDETERMINATE", "unknown"),
    ("soft", "TOTAL_PASSED", "not_checked"),
])
def test_revocation_service_down(build, pki, pdf, mode, indication, status):
    signed = sign(pki, "qesig", pdf)
    service = build(revocation_mode=mode)
    pki.set_revocation_mode("unavailable")
    try:
        signature = only(service.verify(signed))
    finally:
        pki.set_revocation_mode("normal")
    assert signature["indication"] == indication
    assert signature["revocation"]["status"] == status
    assert signature["revocation"]["mode"] == mode
    if mode == "hard":
        assert signature["sub_indication"] == "TRY_LATER"
        assert signature["verdict"]["code"] == "to_verify"


def test_signature_made_by_pdfsig_is_verified_like_ours(service, pki, pdf, tmp_path):
    pdfsig = require("pdfsig", "poppler-utils")
    certutil = require("certutil", "libnss3-tools")
    pk12util = require("pk12util", "libnss3-tools")
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run([certutil, "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    (tmp_path / "qesig.p12").write_bytes(pki.pki.p12("qesig"))
    subprocess.run([pk12util, "-i", str(tmp_path / "qesig.p12"), "-d", f"sql:{nss}", "-W", pki.pki.password],
                   check=True, capture_output=True)
    (tmp_path / "plain.pdf").write_bytes(pdf)
    subprocess.run([pdfsig, "-nssdir", f"sql:{nss}", "-add-signature", "-nick", "qesig", "-reason", "Offre",
                    str(tmp_path / "plain.pdf"), str(tmp_path / "signed.pdf")], check=True, capture_output=True)
    signature = only(service.verify((tmp_path / "signed.pdf").read_bytes()))
    assert signature["format"] == "PKCS7"  # pdfsig writes adbe.pkcs7.detached
    assert signature["indication"] == "TOTAL_PASSED"
    assert signature["qualification"]["label"] == "QESig"
    assert signature["verdict"]["code"] == "compliant"


def test_our_signatures_satisfy_pdfsig(pki, pdf, material, tmp_path):
    pdfsig = require("pdfsig", "poppler-utils")
    for level in ("B-B", "B-T", "B-LT"):
        path = tmp_path / f"{level}.pdf"
        path.write_bytes(sign(pki, "qesig", pdf, level=level, material=material))
        output = subprocess.run([pdfsig, "-nocert", str(path)], capture_output=True, text=True).stdout
        assert "Signature is Valid." in output, output
        assert "ETSI.CAdES.detached" in output


def test_pdfsig_sees_the_incremental_update_too(pki, pdf, tmp_path):
    pdfsig = require("pdfsig", "poppler-utils")
    signed = sign(pki, "qesig", pdf)
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.root["/Pages"]["/Kids"][0].get_object()["/Rotate"] = generic.NumberObject(90)
    writer.update_container(writer.root["/Pages"]["/Kids"][0].get_object())
    out = io.BytesIO()
    writer.write(out)
    (tmp_path / "updated.pdf").write_bytes(out.getvalue())
    output = subprocess.run([pdfsig, "-nocert", str(tmp_path / "updated.pdf")], capture_output=True, text=True).stdout
    assert "Signature is Valid." in output and "Total document signed" not in output


def test_legacy_pkcs7_from_pyhanko(service, pki, pdf):
    async def legacy() -> bytes:
        signer = signers.SimpleSigner.load_pkcs12_data(pki.pki.p12("qesig"), other_certs=[],
                                                       passphrase=pki.pki.password.encode())
        meta = signers.PdfSignatureMetadata(field_name="Sig", subfilter=SigSeedSubFilter.ADOBE_PKCS7_DETACHED)
        return (await signers.async_sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)).getvalue()

    signature = only(service.verify(asyncio.run(legacy())))
    assert signature["format"] == "PKCS7" and signature["level"] == "PKCS7-B"
    assert signature["indication"] == "TOTAL_PASSED"

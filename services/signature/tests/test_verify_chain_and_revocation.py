"""Certificates the test PKI's users do not cover: no revocation service named, self-signed signers."""

from __future__ import annotations

import pytest

from achats.signature.testpki.samples import make_person
from achats.signature.trust.lists import load_certificates

from signature_support import make_store, sign


def only(report: dict) -> dict:
    assert report["signature_count"] == 1
    return report["signatures"][0]


def _texts(signature: dict) -> str:
    return " ".join(signature["verdict"]["reasons"] + signature["verdict"]["human_checks"])


@pytest.fixture(scope="module")
def no_revinfo_qualified(pki):
    """Issued by the listed qualified CA, naming neither an OCSP responder nor a CRL."""
    return make_person(pki, "qualified-ca")


@pytest.fixture(scope="module")
def no_revinfo_art2(pki):
    """Issued by the CA meant as an art. 2 equivalent anchor, naming no revocation service."""
    return make_person(pki, "art2-ca", qualified=False)


@pytest.fixture
def with_art2_anchor(build, pki, tmp_path):
    store = make_store(pki, tmp_path / "anchors", anchors=load_certificates([str(pki.pki.cert_path("art2-ca"))]))
    store.refresh()
    yield build(lists=store)
    store.close()


def test_no_revocation_information_is_said_as_such_never_try_later(service, pki, pdf, no_revinfo_qualified):
    signature = only(service.verify(sign(pki, None, pdf, p12=no_revinfo_qualified)))
    assert signature["indication"] == "INDETERMINATE"
    # TRY_LATER (EN 319 102-1) means revocation data may come later: it never will for this certificate.
    assert signature["sub_indication"] == "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    assert signature["cause"] == "no_revocation_info"
    assert signature["revocation"]["status"] == "no_revocation_info"
    assert signature["revocation"]["source"] is None
    text = _texts(signature)
    assert "aucun service de révocation" in text
    assert "réessayez" not in text.lower() and "plus tard" not in text.lower()
    assert signature["verdict"]["code"] == "to_verify"
    assert signature["qualification"]["label"] == "Indeterminate QESig"


def test_under_an_art2_anchor_revocation_data_is_still_required(with_art2_anchor, pki, pdf, no_revinfo_art2):
    """As the EU DSS default policy: revocation data is required for the signing certificate whatever its
    anchor (trust anchors themselves need none); an equivalent CA must publish revocation status too."""
    signature = only(with_art2_anchor.verify(sign(pki, None, pdf, p12=no_revinfo_art2)))
    assert signature["chain"][-1]["anchor_source"] == "configured"
    assert (signature["indication"], signature["cause"]) == ("INDETERMINATE", "no_revocation_info")
    assert signature["verdict"]["code"] == "to_verify"
    assert "réessayez" not in _texts(signature).lower()


def test_soft_revocation_mode_accepts_a_certificate_without_revocation_service(build, pki, pdf,
                                                                                no_revinfo_qualified):
    signature = only(build(revocation_mode="soft").verify(sign(pki, None, pdf, p12=no_revinfo_qualified)))
    assert signature["indication"] == "TOTAL_PASSED"
    assert signature["revocation"]["status"] == "not_checked"


def test_a_revocation_service_down_is_still_try_later(build, pki, pdf):
    signed = sign(pki, "qesig", pdf)
    service = build(revocation_mode="hard")
    pki.set_revocation_mode("unavailable")
    try:
        signature = only(service.verify(signed))
    finally:
        pki.set_revocation_mode("normal")
    assert (signature["sub_indication"], signature["cause"]) == ("TRY_LATER", "revocation_unavailable")
    assert signature["revocation"]["status"] == "unknown"


def test_self_signed_signer_has_no_certificate_chain(service, pki, pdf):
    signature = only(service.verify(sign(pki, None, pdf, p12=make_person(pki, None))))
    assert (signature["indication"], signature["sub_indication"]) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
    assert signature["cause"] == "self_signed"
    assert signature["certificate"]["self_signed"] is True
    assert "certificat auto-signé, aucune autorité de confiance" in " ".join(signature["verdict"]["reasons"])
    assert "contraintes" not in " ".join(signature["verdict"]["reasons"])
    assert signature["verdict"]["code"] == "to_verify"


def test_self_signed_cades_and_xades_too(service, pki):
    document = b"Offre de Dupont SAS" * 50
    p12 = make_person(pki, None)
    for fmt in ("cades", "xades"):
        token = sign(pki, None, document, p12=p12, format=fmt, filename="offre.txt")
        signature = only(service.verify(document, token, name="offre.txt"))
        assert (signature["sub_indication"], signature["cause"]) == ("NO_CERTIFICATE_CHAIN_FOUND", "self_signed"), fmt


def test_a_ca_listed_nowhere_is_not_called_self_signed(service, pki, pdf):
    signature = only(service.verify(sign(pki, "untrusted", pdf)))
    assert signature["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND"
    assert signature["cause"] is None
    assert "auto-signé" not in " ".join(signature["verdict"]["reasons"])


@pytest.mark.parametrize("extension", ["ocsp_nocheck", "valassured_st_certs"])
def test_a_certificate_exempt_from_revocation_checking_passes(service, pki, pdf, extension):
    """The EU DSS default policy skips the revocation data of a certificate carrying id-pkix-ocsp-nocheck
    or ETSI EN 319 412-1's id-etsi-ext-valassured-ST-certs (short-term certificate): so do we."""
    from cryptography import x509
    from cryptography.x509.oid import ObjectIdentifier

    chosen = (x509.OCSPNoCheck() if extension == "ocsp_nocheck"
              else x509.UnrecognizedExtension(ObjectIdentifier("0.4.0.194121.2.1"), b"\x05\x00"))
    p12 = make_person(pki, "qualified-ca", extensions=(chosen,))
    for fmt, document in (("pades", pdf), ("xades", b"Offre" * 100)):
        signed = sign(pki, None, document, p12=p12, format=fmt, filename="offre.pdf" if fmt == "pades" else "o.txt")
        report = service.verify(signed) if fmt == "pades" else service.verify(document, signed, name="o.txt")
        signature = only(report)
        assert signature["indication"] == "TOTAL_PASSED", (fmt, signature["sub_indication"], signature["cause"])
        assert signature["revocation"]["status"] == "not_required"
        assert signature["verdict"]["code"] == "compliant"

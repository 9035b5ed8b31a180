"""Signing documents with the token through the real signature service's two-step protocol; the results checked
by the service and by independent tools (pdfsig, openssl cms)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from achats.assistant import signing
from achats.assistant.errors import AssistantError
from achats.assistant.signing import sign_documents, summary

from assistant_support import PIN


def require(tool: str, package: str) -> str:
    found = shutil.which(tool)
    if not found:
        raise RuntimeError(f"{tool} is missing: apt-get install -y {package}")
    return found


@pytest.fixture
def documents(tmp_path):
    from achats.signature.testpki.samples import make_pdf

    folder = tmp_path / "offre"
    folder.mkdir()
    (folder / "memoire.pdf").write_bytes(make_pdf("Mémoire technique de Curie SAS"))
    (folder / "bordereau.csv").write_bytes(b"poste;prix\nlot 1;1200\n")
    return folder


def marie(keystore, pki):
    return next(i for i in keystore.certificates() if i.certificate == pki.pki.cert("qesig"))


def test_several_documents_signed_on_the_token_and_saved_beside_them(keystore, pki, service_client, documents,
                                                                     tmp_path):
    asked = []
    outcomes = sign_documents([documents / "memoire.pdf", documents / "bordereau.csv"], marie(keystore, pki).ref,
                              keystore=keystore, service=service_client,
                              pin_provider=lambda info: asked.append(info.holder) or PIN)
    assert [o.status for o in outcomes] == ["signed", "signed"]
    assert len(asked) == 1  # one PIN for the batch
    assert [(o.format, o.level) for o in outcomes] == [("pades", "B-T"), ("cades", "B-T")]
    pdf, p7s = documents / "memoire-signe.pdf", documents / "bordereau.csv.p7s"
    assert [o.output for o in outcomes] == [str(pdf), str(p7s)]
    assert sorted(p.name for p in documents.iterdir()) == ["bordereau.csv", "bordereau.csv.p7s", "memoire-signe.pdf",
                                                           "memoire.pdf"]
    text = summary(outcomes)
    assert "2 document(s) signé(s) sur 2." in text and "memoire.pdf → memoire-signe.pdf (PADES B-T)" in text

    # The signature service's own verification: compliant, by Marie Curie.
    report = service_client.verify(pdf.read_bytes(), pdf.name)
    assert report["signatures"][0]["signer"]["name"] == "Marie Curie"
    assert report["signatures"][0]["level"] == "PAdES-BASELINE-T"
    assert report["indication"] == "TOTAL_PASSED", report
    cades = service_client.verify((documents / "bordereau.csv").read_bytes(), "bordereau.csv", p7s.read_bytes())
    assert cades["indication"] == "TOTAL_PASSED" and cades["signatures"][0]["format"] == "CAdES"

    # Independent checkers.
    pdfsig = subprocess.run([require("pdfsig", "poppler-utils"), "-nocert", str(pdf)], capture_output=True,
                            text=True).stdout
    assert "Signature is Valid." in pdfsig and "ETSI.CAdES.detached" in pdfsig and "Marie Curie" in pdfsig, pdfsig
    root = tmp_path / "root.pem"
    root.write_bytes(pki.pki.cert("qualified-root").public_bytes(serialization.Encoding.PEM))
    checked = subprocess.run([require("openssl", "openssl"), "cms", "-verify", "-binary", "-inform", "DER", "-in",
                              str(p7s), "-content", str(documents / "bordereau.csv"), "-CAfile", str(root),
                              "-purpose", "any", "-out", "/dev/null"], capture_output=True, text=True)
    assert checked.returncode == 0 and "Verification successful" in checked.stderr, checked.stderr


def test_wrong_pin_stops_and_writes_nothing(keystore, pki, service_client, documents):
    before = sorted(p.name for p in documents.iterdir())
    outcomes = sign_documents([documents / "memoire.pdf", documents / "bordereau.csv"], marie(keystore, pki).ref,
                              keystore=keystore, service=service_client, pin_provider=lambda _info: "9999")
    assert [o.status for o in outcomes] == ["failed", "not_done"]
    assert outcomes[0].message.startswith("Code PIN incorrect")
    assert sorted(p.name for p in documents.iterdir()) == before  # no signed file, no temporary file


def test_cancelled_pin_prompt_signs_nothing(keystore, pki, service_client, documents):
    before = sorted(p.name for p in documents.iterdir())
    outcomes = sign_documents([documents / "memoire.pdf"], marie(keystore, pki).ref, keystore=keystore,
                              service=service_client, pin_provider=lambda _info: None)
    assert outcomes[0].status == "cancelled" and "annulée" in outcomes[0].message
    assert sorted(p.name for p in documents.iterdir()) == before


def test_removed_token_during_the_batch(keystore, token, pki, service_client, documents):
    ref = marie(keystore, pki).ref

    def pin_then_pull_out(_info):
        token.remove()  # the key is pulled out while the PIN is typed
        return PIN

    outcomes = sign_documents([documents / "memoire.pdf", documents / "bordereau.csv"], ref, keystore=keystore,
                              service=service_client, pin_provider=pin_then_pull_out)
    assert [o.status for o in outcomes] == ["failed", "not_done"]
    assert outcomes[0].code == "token_removed" and "a été retirée" in outcomes[0].message
    assert not (documents / "memoire-signe.pdf").exists()


def test_an_expired_certificate_is_refused_before_anything(keystore, pki, service_client, documents):
    expired = next(i for i in keystore.certificates() if i.certificate == pki.pki.cert("expired"))
    with pytest.raises(AssistantError) as caught:
        sign_documents([documents / "memoire.pdf"], expired.ref, keystore=keystore, service=service_client,
                       pin_provider=lambda _info: PIN)
    assert caught.value.code == "certificate_expired" and "a expiré" in caught.value.message


def test_a_failure_while_writing_leaves_no_half_file(tmp_path, monkeypatch):
    target = tmp_path / "offre-signe.pdf"

    def broken_fsync(_fd):
        raise OSError("disque plein")

    monkeypatch.setattr(signing.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        signing.write_atomically(target, b"%PDF-1.7 signed")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    signing.write_atomically(target, b"%PDF-1.7 signed")
    assert target.read_bytes() == b"%PDF-1.7 signed" and [p.name for p in tmp_path.iterdir()] == [target.name]


def test_without_timestamping_the_service_advises_b_b(keystore, pki, documents, keys, tmp_path):
    from achats.assistant.service import SignatureService
    from achats.chassis.testing.server import serving
    from achats.signature.app import SERVICE

    config = SERVICE.load_settings({}, database_url=f"sqlite:///{tmp_path / 'nots.db'}",
                                   amqp_url="memory://assistant-nots", lotl_url=pki.lotl_url, tsa_url="",
                                   trust_lists_cache_dir=str(tmp_path / "tl"), validation_workers=1,
                                   jwks_url=keys.jwks_url)
    SERVICE.migrate(config)
    runtime = SERVICE.runtime(config)
    with serving(SERVICE.create_app(config, runtime)) as base:
        client = SignatureService(f"{base}/signature", keys.token({"sub": "u", "roles": ["supplier"]}))
        outcomes = sign_documents([documents / "memoire.pdf"], marie(keystore, pki).ref, keystore=keystore,
                                  service=client, pin_provider=lambda _info: PIN)
    runtime.db.dispose()
    assert (outcomes[0].status, outcomes[0].level) == ("signed", "B-B")


def test_not_logged_in(keystore, pki, signature_api, documents):
    from achats.assistant.service import SignatureService

    outcomes = sign_documents([documents / "memoire.pdf"], marie(keystore, pki).ref, keystore=keystore,
                              service=SignatureService(signature_api[0], None), pin_provider=lambda _info: PIN)
    assert outcomes[0].code == "login_required" and "reconnectez-vous" in outcomes[0].message


def test_the_sign_command(token, pki, signature_api, documents, monkeypatch, capsys):
    from achats.assistant import cli

    from assistant_support import SOFTHSM_MODULE

    monkeypatch.setenv("ACHATS_ASSISTANT_SIGNATURE_API", signature_api[0])
    monkeypatch.setenv("ACHATS_ASSISTANT_TOKEN", signature_api[1])
    prompts = []
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: prompts.append(prompt) or PIN)
    code = cli.main(["--module", SOFTHSM_MODULE, "signer", str(documents / "memoire.pdf")])  # the one usable
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 document(s) signé(s) sur 1." in out and (documents / "memoire-signe.pdf").exists()
    assert len(prompts) == 1 and prompts[0].startswith("Code PIN de la carte « t » pour Marie Curie")

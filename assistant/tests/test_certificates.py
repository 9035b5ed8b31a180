"""Certificates from a real PKCS#11 token (SoftHSM2) and from PKCS#12 files: what the user sees, the warnings,
and the French messages of the token's errors."""

from __future__ import annotations

import pkcs11
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import NameOID

from achats.assistant import tokens
from achats.assistant.errors import AssistantError
from achats.assistant.tokens import Keystore, configured_modules, map_pkcs11_error

from assistant_support import PIN, SOFTHSM_MODULE, unfit_certificate


def test_token_certificates_are_listed_with_holder_issuer_validity_and_usage(keystore, pki):
    found = keystore.certificates()
    assert len(found) == 2  # the two signers; the token's CA certificates are not choices
    marie = next(info for info in found if info.certificate == pki.pki.cert("qesig"))
    shown = marie.as_dict()
    assert shown["source"] == "pkcs11" and shown["location"] == "t"
    assert shown["holder"].startswith("Marie Curie")
    ca_name = pki.pki.cert("qualified-ca").subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert shown["issuer"].startswith(ca_name)
    assert shown["holder_dn"] == pki.pki.cert("qesig").subject.rfc4514_string()
    assert shown["not_after"].endswith("Z") and shown["not_before"] < shown["not_after"]
    assert shown["key_usage"] == ["digitalSignature", "nonRepudiation"]
    assert shown["warnings"] == [] and shown["usable"] is True
    # The CA certificates on the token are the chain, not choices.
    assert [c.subject for c in marie.chain] == [c.subject for c in pki.pki.chain("qesig")]
    assert marie.pem_with_chain().count(b"BEGIN CERTIFICATE") == 3


def test_an_expired_certificate_is_flagged(keystore, pki):
    expired = next(i for i in keystore.certificates() if i.certificate == pki.pki.cert("expired"))
    assert [w["code"] for w in expired.warnings()] == ["expired"]
    assert "a expiré le" in expired.warnings()[0]["message"]
    assert expired.usable is False


def test_a_certificate_not_for_signing_is_flagged(token, pki):
    key_pem, cert = unfit_certificate(pki.pki)
    token.import_key(key_pem, cert, cka_id="03", label="chiffrement")
    store = Keystore(modules=[SOFTHSM_MODULE])
    store.refresh()
    unfit = next(i for i in store.certificates() if i.certificate == cert)
    assert unfit.key_usage == ["keyEncipherment"]
    assert [w["code"] for w in unfit.warnings()] == ["not_for_signing"]
    assert "n'est pas destiné à la signature" in unfit.warnings()[0]["message"]


def test_the_token_signs_and_the_key_stays_on_it(keystore, pki):
    marie = next(i for i in keystore.certificates() if i.certificate == pki.pki.cert("qesig"))
    asked = []
    value = keystore.sign(marie.ref, b"donnees a signer", lambda info: asked.append(info.ref) or PIN)
    assert asked == [marie.ref]
    pki.pki.cert("qesig").public_key().verify(value, b"donnees a signer", padding.PKCS1v15(), hashes.SHA256())
    # The key cannot be read out of the token (CKA_SENSITIVE, not extractable).
    lib = pkcs11.lib(SOFTHSM_MODULE)
    with lib.get_token(token_label="t").open(user_pin=PIN) as session:
        key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, id=b"\x01")
        assert key[pkcs11.Attribute.SENSITIVE] is True
        with pytest.raises(pkcs11.PKCS11Error):
            key[pkcs11.Attribute.PRIVATE_EXPONENT]


def test_wrong_pin_is_a_french_message(keystore, pki):
    marie = next(i for i in keystore.certificates() if i.certificate == pki.pki.cert("qesig"))
    with pytest.raises(AssistantError) as caught:
        keystore.sign(marie.ref, b"x", lambda _info: "9999")
    assert caught.value.code == "pin_incorrect"
    assert caught.value.message.startswith("Code PIN incorrect")


def test_cancelled_pin_prompt(keystore, pki):
    marie = next(i for i in keystore.certificates() if i.certificate == pki.pki.cert("qesig"))
    with pytest.raises(AssistantError) as caught:
        keystore.sign(marie.ref, b"x", lambda _info: None)
    assert caught.value.code == "cancelled" and "annulée" in caught.value.message


def test_a_removed_token_is_a_french_message(keystore, token, pki):
    marie = next(i for i in keystore.certificates() if i.certificate == pki.pki.cert("qesig"))
    token.remove()
    with pytest.raises(AssistantError) as caught:
        keystore.sign(marie.ref, b"x", lambda _info: PIN)
    assert caught.value.code == "token_removed"
    assert "a été retirée" in caught.value.message
    assert keystore.certificates(refresh=True) == []


@pytest.mark.parametrize(("exception", "code", "words"), [
    (pkcs11.PinIncorrect, "pin_incorrect", "Code PIN incorrect"),
    # SoftHSM2 never locks a token: CKR_PIN_LOCKED is mapped as a real card returns it.
    (pkcs11.PinLocked, "pin_locked", "est bloquée"),
    (pkcs11.TokenNotPresent, "token_removed", "a été retirée"),
    (pkcs11.DeviceRemoved, "token_removed", "a été retirée"),
    (pkcs11.DeviceError, "token_error", "a renvoyé une erreur"),
])
def test_pkcs11_errors_are_french(exception, code, words):
    mapped = map_pkcs11_error(exception())
    assert mapped.code == code and words in mapped.message


def test_a_locked_token_during_signing(keystore, pki, monkeypatch):
    """The signing path turns the token's CKR_PIN_LOCKED (here raised where the module would) into the message."""
    marie = next(i for i in keystore.certificates() if i.certificate == pki.pki.cert("qesig"))
    real = keystore._find_token(keystore._entries[marie.ref])

    class LockedToken:
        label, serial = real.label, real.serial

        def open(self, **kwargs):
            raise pkcs11.PinLocked()

    monkeypatch.setattr(keystore, "_find_token", lambda _entry: LockedToken())
    with pytest.raises(AssistantError) as caught:
        keystore.sign(marie.ref, b"x", lambda _info: PIN)
    assert caught.value.code == "pin_locked"


def test_pkcs12_files(tmp_path, pki):
    path = tmp_path / "marie.p12"
    path.write_bytes(pki.pki.p12("qesig"))
    store = Keystore(modules=[])
    with pytest.raises(AssistantError) as caught:
        store.add_pkcs12(path, "mauvais")
    assert caught.value.code == "pkcs12_password"
    info = store.add_pkcs12(path, pki.pki.password)
    assert info.source == "pkcs12" and "Marie Curie" in info.holder and info.usable
    value = store.sign(info.ref, b"abc", lambda _info: pki.pki.password)
    pki.pki.cert("qesig").public_key().verify(value, b"abc", padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(AssistantError) as wrong:
        store.sign(info.ref, b"abc", lambda _info: "mauvais")
    assert wrong.value.code == "pkcs12_password"


def test_modules_configured_or_probed(tmp_path):
    assert configured_modules({"ACHATS_ASSISTANT_PKCS11_MODULES": "/a.so:/b.so"}) == ["/a.so", "/b.so"]
    probed = configured_modules({}, platform="linux")
    assert SOFTHSM_MODULE in probed
    assert all(p in tokens.COMMON_MODULES["linux"] for p in probed)
    assert configured_modules({}, platform="win32") == []  # none of Windows' paths exist here
    assert any("opensc-pkcs11" in p for p in tokens.COMMON_MODULES["darwin"])


def test_a_module_that_cannot_load_is_reported_not_fatal(tmp_path, keystore):
    broken = tmp_path / "broken.so"
    broken.write_bytes(b"not a library")
    keystore.modules.insert(0, str(broken))
    assert len(keystore.certificates()) == 2
    assert [p["code"] for p in keystore.problems] == ["module_unavailable"]
    assert "ne peut pas être chargé" in keystore.problems[0]["message"]


def test_the_command_lists_the_token(token, pki, tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "SOFTHSM2_CONF": str(token.conf), "ACHATS_ASSISTANT_PKCS11_MODULES": SOFTHSM_MODULE,
           "ACHATS_ASSISTANT_SIGNATURE_API": "http://127.0.0.1:9/signature"}  # no service: qualification unknown
    done = subprocess.run([sys.executable, "-m", "achats.assistant", "certificats", "--json"], env=env,
                          capture_output=True, text=True, check=True)
    listed = json.loads(done.stdout)["certificates"]
    assert sorted(c["holder"].split(" (")[0] for c in listed) == ["Jeanne Expirée", "Marie Curie"]
    assert {c["qualified_issuer"]["status"] for c in listed} == {"unknown"}
    human = subprocess.run([sys.executable, "-m", "achats.assistant", "certificats"], env=env,
                           capture_output=True, text=True, check=True).stdout
    assert "Émis par" in human and "Attention : Ce certificat a expiré" in human


def test_whether_the_issuer_is_qualified_is_asked_of_the_signature_service(keystore, pki, service_client, tmp_path):
    from achats.assistant.qualification import annotate

    untrusted = tmp_path / "mallory.p12"
    untrusted.write_bytes(pki.pki.p12("untrusted"))
    keystore.add_pkcs12(untrusted, pki.pki.password)
    infos = keystore.certificates()
    shown = {i.holder.split(" (")[0]: d for i, d in zip(infos, annotate([i.as_dict() for i in infos], infos,
                                                                         service_client), strict=True)}
    marie = shown["Marie Curie"]["qualified_issuer"]
    assert marie["status"] == "listed" and marie["territory"] == "FR"
    assert marie["message"].startswith("Émetteur qualifié : Confiance Qualifiée (test) (FR)")
    assert shown["Mallory Inconnu"]["qualified_issuer"]["status"] == "not_found"
    assert "n'a pas été trouvé dans les listes de confiance" in shown["Mallory Inconnu"]["qualified_issuer"]["message"]

"""Helpers of the assistant's tests: a real SoftHSM2 token holding keys and certificates of the test PKI."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
SO_PIN, PIN = "1234", "0000"


def require_softhsm() -> None:
    if not (Path(SOFTHSM_MODULE).is_file() and shutil.which("softhsm2-util")):
        raise RuntimeError("SoftHSM2 is missing: apt-get install -y softhsm2 (scripts/ensure-services.sh does it)")


class SoftHsm:
    """One SoftHSM2 token « t » (PIN 0000) in its own folder; ``SOFTHSM2_CONF`` points at it."""

    def __init__(self, folder: Path, label: str = "t") -> None:
        require_softhsm()
        self.folder = folder
        self.tokens = folder / "tokens"
        self.tokens.mkdir(parents=True)
        self.conf = folder / "softhsm2.conf"
        self.conf.write_text(f"directories.tokendir = {self.tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
        self.label = label
        self.env = {**os.environ, "SOFTHSM2_CONF": str(self.conf)}
        self.util("--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", PIN)

    def util(self, *args: str) -> str:
        done = subprocess.run(["softhsm2-util", *args], env=self.env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def import_key(self, key_pem: Path | bytes, cert: x509.Certificate, *, cka_id: str, label: str,
                   chain: list[x509.Certificate] = ()) -> None:
        """The key through softhsm2-util (PKCS#8 PEM), the certificates through PKCS#11 (python-pkcs11)."""
        if isinstance(key_pem, bytes):
            path = self.folder / f"{label}.key.pem"
            path.write_bytes(key_pem)
            key_pem = path
        self.util("--import", str(key_pem), "--token", self.label, "--label", label, "--id", cka_id, "--pin", PIN)
        self.add_certificate(cert, cka_id=bytes.fromhex(cka_id), label=label)
        for number, ca in enumerate(chain):
            self.add_certificate(ca, cka_id=bytes.fromhex(f"ca{number:02d}"), label=f"ca-{number}")

    def add_certificate(self, cert: x509.Certificate, *, cka_id: bytes, label: str) -> None:
        import pkcs11
        from pkcs11 import Attribute, CertificateType, ObjectClass

        lib = self.lib()
        token = lib.get_token(token_label=self.label)
        with token.open(rw=True, user_pin=PIN) as session:
            session.create_object({
                Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True, Attribute.PRIVATE: False, Attribute.LABEL: label, Attribute.ID: cka_id,
                Attribute.SUBJECT: cert.subject.public_bytes(), Attribute.ISSUER: cert.issuer.public_bytes(),
                Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER)})
        del pkcs11

    def lib(self):
        """The module, (re)initialised with this token's configuration."""
        import pkcs11

        os.environ["SOFTHSM2_CONF"] = str(self.conf)
        lib = pkcs11.lib(SOFTHSM_MODULE)
        lib.reinitialize()
        return lib

    def remove(self) -> None:
        """Take the token away (as pulling a USB key out): its files go, the module is reinitialised."""
        shutil.rmtree(self.tokens)
        self.tokens.mkdir()
        self.lib()


def unfit_certificate(pki, *, name: str = "Chiffrement Seul") -> tuple[bytes, x509.Certificate]:
    """A certificate of the test PKI's qualified CA whose key usage is encipherment only (PKCS#8 key PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    ca = pki.cert("qualified-ca")
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=True,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(pki.key("qualified-ca"), hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return pem, cert

"""Where the certificates are: PKCS#11 tokens (smart cards, USB keys, through their vendor's module or OpenSC)
and PKCS#12 files. The private key of a token never leaves it: the token signs; a PKCS#12's key is read in
memory for one signature, with the file's password, and forgotten."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from . import errors
from .certificates import CertificateInfo, chain_for, is_ca
from .errors import AssistantError

# The modules of the cards and keys French suppliers are given (certification authorities' tokens), by OS.
# ACHATS_ASSISTANT_PKCS11_MODULES (paths separated by os.pathsep) replaces the probing.
COMMON_MODULES = {
    "linux": [
        "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
        "/usr/lib64/opensc-pkcs11.so", "/usr/lib/opensc-pkcs11.so", "/usr/local/lib/opensc-pkcs11.so",
        "/usr/lib/libeTPkcs11.so",                      # SafeNet Authentication Client (eToken)
        "/usr/lib/libIDPrimePKCS11.so", "/usr/lib/pkcs11/libIDPrimePKCS11.so",  # Thales IDPrime
        "/usr/lib/libaetpkss.so.3",                     # SafeSign (A.E.T.)
        "/usr/lib/libbit4xpki.so",                      # bit4id
        "/usr/lib/libcastle.so.1",                      # IDEMIA (Oberthur) AWP
        "/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/local/lib/softhsm/libsofthsm2.so",
    ],
    "win32": [
        r"C:\Windows\System32\opensc-pkcs11.dll",
        r"C:\Program Files\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll",
        r"C:\Windows\System32\eTPKCS11.dll", r"C:\Windows\System32\IDPrimePKCS11.dll",
        r"C:\Windows\System32\aetpkss1.dll", r"C:\Windows\System32\bit4xpki.dll",
        r"C:\Windows\System32\OcsCryptoki.dll",
        r"C:\SoftHSM2\lib\softhsm2-x64.dll",
    ],
    "darwin": [
        "/Library/OpenSC/lib/opensc-pkcs11.so", "/opt/homebrew/lib/opensc-pkcs11.so",
        "/usr/local/lib/opensc-pkcs11.so", "/usr/local/lib/libeTPkcs11.dylib",
        "/Library/Frameworks/eToken.framework/Versions/Current/libeToken.dylib",
        "/usr/local/lib/libIDPrimePKCS11.dylib", "/usr/local/lib/libbit4xpki.dylib",
        "/opt/homebrew/lib/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so",
    ],
}

PinProvider = Callable[[CertificateInfo], "str | None"]
"""Asks the user for the PIN (or the PKCS#12 password) of a certificate; None means « Annuler »."""


def configured_modules(environ: dict | None = None, platform: str | None = None) -> list[str]:
    """The PKCS#11 modules to load: the configured ones, else those of the common paths that exist."""
    environ = os.environ if environ is None else environ
    configured = environ.get("ACHATS_ASSISTANT_PKCS11_MODULES", "").strip()
    if configured:
        return [p for p in configured.split(os.pathsep) if p]
    platform = platform or sys.platform
    key = "win32" if platform.startswith("win") else "darwin" if platform == "darwin" else "linux"
    return [p for p in COMMON_MODULES[key] if Path(p).is_file()]


def map_pkcs11_error(exc: Exception) -> AssistantError:
    """A PKCS#11 return value as the French message a person understands (CKR_* → message)."""
    import pkcs11.exceptions as p11

    if isinstance(exc, AssistantError):
        return exc
    if isinstance(exc, p11.PinIncorrect):
        return errors.error(errors.PIN_INCORRECT)
    if isinstance(exc, p11.PinLocked):
        return errors.error(errors.PIN_LOCKED, status=423)
    if isinstance(exc, p11.PinLenRange | p11.PinInvalid):
        return errors.error(errors.PIN_LENGTH)
    if isinstance(exc, p11.PinExpired):
        return errors.error(errors.PIN_EXPIRED)
    if isinstance(exc, p11.TokenNotPresent | p11.DeviceRemoved | p11.TokenNotRecognised | p11.SessionClosed
                  | p11.SessionHandleInvalid | p11.SlotIDInvalid | p11.NoSuchToken):
        return errors.error(errors.TOKEN_REMOVED, status=409)
    if isinstance(exc, p11.FunctionCancelled):
        return errors.error(errors.CANCELLED, status=409)
    return errors.error(errors.TOKEN_ERROR, status=502)


@dataclass
class _Pkcs11Entry:
    module: str
    token_serial: str
    token_label: str
    cka_id: bytes


@dataclass
class _Pkcs12Entry:
    path: Path


class Keystore:
    """The certificates of the PKCS#11 modules and the PKCS#12 files the user added, and signing with them."""

    def __init__(self, modules: Iterable[str] | None = None, pkcs12_files: Iterable[str | Path] = ()) -> None:
        self.modules = list(configured_modules() if modules is None else modules)
        self.pkcs12_files = [Path(p) for p in pkcs12_files]
        self._pkcs12_read: dict[Path, tuple[x509.Certificate, list[x509.Certificate]]] = {}
        self._entries: dict[str, _Pkcs11Entry | _Pkcs12Entry] = {}
        self._infos: dict[str, CertificateInfo] = {}
        self._lock = threading.RLock()
        self.problems: list[dict] = []  # modules that could not be loaded, files that cannot be read

    # --- modules ---------------------------------------------------------------------------------------

    def _lib(self, module: str):
        import pkcs11

        try:
            return pkcs11.lib(module)
        except pkcs11.PKCS11Error as exc:
            if pkcs11._loaded.get(module) is None:  # the file is no PKCS#11 library (or cannot be loaded)
                raise AssistantError("module_unavailable", f"Le module de carte « {module} » ne peut pas être "
                                                           "chargé.", status=502) from exc
            raise

    def _slots(self, module: str):
        """The slots holding an initialised token (SoftHSM2 and some readers show an empty, uninitialised one)."""
        from pkcs11 import TokenFlag

        return [slot for slot in self._lib(module).get_slots(token_present=True)
                if slot.get_token().flags & TokenFlag.TOKEN_INITIALIZED]

    def refresh(self) -> None:
        """Forget what the modules knew (a card inserted or removed, a changed configuration) and list again."""
        import pkcs11

        with self._lock:
            for module in self.modules:
                loaded = pkcs11._loaded.get(module)
                if loaded is not None and loaded.initialized:
                    loaded.reinitialize()

    def tokens(self) -> list[dict]:
        """The tokens present: module, label, manufacturer, model, serial."""
        found = []
        for module in self.modules:
            try:
                for slot in self._slots(module):
                    token = slot.get_token()
                    found.append({"module": module, "label": token.label.strip(), "serial": _serial(token),
                                  "manufacturer": token.manufacturer_id.strip(), "model": token.model.strip(),
                                  "slot": slot.slot_description.strip()})
            except Exception as exc:
                self._problem(module, exc)
        return found

    def _problem(self, where: str, exc: Exception) -> None:
        mapped = map_pkcs11_error(exc)
        self.problems.append({"where": where, "code": mapped.code, "message": mapped.message})

    # --- listing ---------------------------------------------------------------------------------------

    def certificates(self, *, refresh: bool = False) -> list[CertificateInfo]:
        """Every signer certificate (CA certificates are only used as chains), tokens first."""
        import pkcs11
        from pkcs11 import Attribute, ObjectClass

        with self._lock:
            if refresh:
                self.refresh()
            self.problems = []
            entries: dict[str, _Pkcs11Entry | _Pkcs12Entry] = {}
            infos: dict[str, CertificateInfo] = {}
            for module in self.modules:
                try:
                    slots = self._slots(module)
                except Exception as exc:
                    self._problem(module, exc)
                    continue
                for slot in slots:
                    try:
                        token = slot.get_token()
                        with token.open() as session:
                            objects = [(o[Attribute.VALUE], _attribute(o, Attribute.ID))
                                       for o in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})]
                    except pkcs11.PKCS11Error as exc:
                        self._problem(module, exc)
                        continue
                    parsed = [(x509.load_der_x509_certificate(bytes(der)), cka_id) for der, cka_id in objects]
                    pool = [cert for cert, _ in parsed]
                    for cert, cka_id in parsed:
                        if is_ca(cert):
                            continue
                        entry = _Pkcs11Entry(module, _serial(token), token.label.strip(), bytes(cka_id or b""))
                        ref = "p11-" + _digest(module, entry.token_serial, entry.cka_id.hex(),
                                               cert.fingerprint(hashes.SHA256()).hex())
                        entries[ref] = entry
                        infos[ref] = CertificateInfo(ref, "pkcs11", entry.token_label, cert, chain_for(cert, pool))
            for path in self.pkcs12_files:
                try:
                    cert, pool = self._pkcs12_certificates(path)
                except OSError:
                    self.problems.append({"where": str(path), "code": "file_unreadable",
                                          "message": f"Le fichier « {path} » ne peut pas être lu."})
                    continue
                if cert is None:
                    self.problems.append({"where": str(path), "code": "pkcs12_locked",
                                          "message": f"Le fichier « {path.name} » est protégé : saisissez son mot "
                                                     "de passe pour voir son certificat."})
                    continue
                ref = "p12-" + _digest(str(path.resolve()), cert.fingerprint(hashes.SHA256()).hex())
                entries[ref] = _Pkcs12Entry(path)
                infos[ref] = CertificateInfo(ref, "pkcs12", str(path), cert, chain_for(cert, pool))
            self._entries, self._infos = entries, infos
            return list(infos.values())

    def add_pkcs12(self, path: str | Path, password: str | None = None) -> CertificateInfo:
        """Add a PKCS#12 file; its password (most files encrypt their certificates too) is used to read the
        certificates only: the key is read again, with the password asked again, for each signature."""
        path = Path(path)
        if password is not None:
            _key, cert, extra = _load_pkcs12(path, password)
            self._pkcs12_read[path] = (cert, list(extra))
        if path not in self.pkcs12_files:
            self.pkcs12_files.append(path)
        for info in self.certificates():
            if info.source == "pkcs12" and Path(info.location) == path:
                return info
        raise errors.error(errors.PKCS12_PASSWORD)

    def _pkcs12_certificates(self, path: Path) -> tuple[x509.Certificate | None, list[x509.Certificate]]:
        if path in self._pkcs12_read:
            return self._pkcs12_read[path]
        data = path.read_bytes()
        try:
            _key, cert, extra = pkcs12.load_key_and_certificates(data, None)
        except ValueError:  # encrypted: add_pkcs12(path, password) reads it
            return None, []
        return cert, list(extra)

    def certificate(self, ref: str) -> CertificateInfo:
        with self._lock:
            if ref not in self._infos:
                self.certificates()
            try:
                return self._infos[ref]
            except KeyError:
                raise errors.error(errors.CERTIFICATE_NOT_FOUND, status=404) from None

    # --- signing ---------------------------------------------------------------------------------------

    def sign(self, ref: str, data: bytes, pin_provider: PinProvider, *, algorithm: str = "rsa_pkcs1v15_sha256"
             ) -> bytes:
        """The signature of ``data`` (SHA-256 then RSA PKCS#1 v1.5 or ECDSA) by the key of certificate ``ref``.

        ECDSA values are r||s from a token, DER from a PKCS#12 (the signature service takes both)."""
        info = self.certificate(ref)
        entry = self._entries[ref]
        pin = pin_provider(info)
        if pin is None:
            raise errors.error(errors.CANCELLED, status=409)
        if isinstance(entry, _Pkcs12Entry):
            return _sign_pkcs12(entry.path, pin, data)
        with self._lock:
            return self._sign_pkcs11(entry, pin, data)

    def _sign_pkcs11(self, entry: _Pkcs11Entry, pin: str, data: bytes) -> bytes:
        import pkcs11
        from pkcs11 import KeyType, Mechanism, ObjectClass

        try:
            token = self._find_token(entry)
            with token.open(user_pin=pin) as session:
                try:
                    key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=entry.cka_id)
                except (pkcs11.NoSuchKey, pkcs11.MultipleObjectsReturned):
                    raise errors.error(errors.KEY_NOT_FOUND) from None
                if key.key_type == KeyType.EC:
                    try:
                        return key.sign(data, mechanism=Mechanism.ECDSA_SHA256)
                    except pkcs11.MechanismInvalid:  # tokens that only sign digests
                        return key.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA)
                try:
                    return key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS)
                except pkcs11.MechanismInvalid:  # tokens that only do raw PKCS#1 v1.5: the DigestInfo is ours
                    return key.sign(SHA256_DIGEST_INFO + hashlib.sha256(data).digest(), mechanism=Mechanism.RSA_PKCS)
        except pkcs11.PKCS11Error as exc:
            raise map_pkcs11_error(exc) from None

    def _find_token(self, entry: _Pkcs11Entry):
        import pkcs11

        for slot in self._slots(entry.module):
            token = slot.get_token()
            if _serial(token) == entry.token_serial and token.label.strip() == entry.token_label:
                return token
        raise pkcs11.TokenNotPresent()


# DER of DigestInfo { sha256, NULL } before the 32 bytes of the digest (RFC 8017 § 9.2).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def _load_pkcs12(path: Path, password: str):
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(path.read_bytes(), password.encode())
    except ValueError:
        raise errors.error(errors.PKCS12_PASSWORD) from None
    if key is None or cert is None:
        raise errors.error(errors.KEY_NOT_FOUND)
    return key, cert, extra


def _sign_pkcs12(path: Path, password: str, data: bytes) -> bytes:
    key, _cert, _extra = _load_pkcs12(path, password)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    raise AssistantError("key_unsupported", "Ce type de clé n'est pas pris en charge (RSA ou ECDSA attendu).")


def _serial(token) -> str:
    serial = token.serial
    return (serial.decode("ascii", "replace") if isinstance(serial, bytes) else str(serial)).strip()


def _attribute(obj, attribute):
    try:
        return obj[attribute]
    except Exception:
        return None


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def certificate_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)

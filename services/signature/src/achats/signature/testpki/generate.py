"""Generate the test PKI of the stand-ins: CAs, users, OCSP responders, a TSA and trusted-list signers.

The hierarchy (DESIGN §9) produces every status the verifier reports, over the real protocols:

- ``qualified-ca``: an issuing CA listed in the test French trusted list as a qualified CA
  (CA/QC, granted, « ForeSignatures »), under ``qualified-root`` which is not listed;
- ``untrusted-ca``: a CA listed nowhere;
- ``art2-ca``: a CA listed nowhere either, meant to be configured as an extra trust anchor
  (arrêté du 22 mars 2019, art. 2: a CA meeting requirements equivalent to eIDAS);
- users of the qualified CA: ``qesig`` (qualified certificate, key on a QSCD), ``adesig-qc`` (qualified
  certificate, no QSCD), ``adesig`` (no qualified statement), ``revoked``, ``expired``; ``untrusted`` under
  the untrusted CA; ``art2`` under the art. 2 CA;
- ``tsa``: a timestamp authority issued by the qualified CA (listed as TSA/QTST);
- one delegated OCSP responder per CA; CRLs are signed by the CA itself;
- ``lotl-signer`` and ``tl-signer-fr``: the keys that sign the list of the lists and the French list.

Everything is written as PEM files plus PKCS#12 files for users, and described by ``pki.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from pyhanko.sign.ades import qualified_asn1

PASSWORD = "achats-test"  # noqa: S105 - the PKCS#12 password of a test PKI, published on purpose
MANIFEST = "pki.json"
QC_STATEMENTS_OID = ObjectIdentifier("1.3.6.1.5.5.7.1.3")
# ETSI EN 319 411-2 policies: qualified certificate for a natural person, with and without a QSCD.
QCP_N_QSCD = ObjectIdentifier("0.4.0.194112.1.2")
QCP_N = ObjectIdentifier("0.4.0.194112.1.0")
NCP = ObjectIdentifier("0.4.0.2042.1.1")


@dataclass(frozen=True)
class Person:
    slug: str
    issuer: str
    given_name: str
    surname: str
    email: str
    organization: str
    organization_id: str
    serial: str
    qc: bool = True
    qscd: bool = True
    revoked: bool = False
    expired: bool = False


PEOPLE = (
    Person("qesig", "qualified-ca", "Marie", "Curie", "marie.curie@curie-sas.example", "Curie SAS",
           "NTRFR-552100554", "IDCFR-QES-0001"),
    Person("adesig-qc", "qualified-ca", "Louis", "Pasteur", "louis.pasteur@pasteur-sa.example", "Pasteur SA",
           "NTRFR-775672272", "IDCFR-QC-0002", qscd=False),
    Person("adesig", "qualified-ca", "Irène", "Joliot", "irene.joliot@joliot.example", "Joliot SARL",
           "NTRFR-401234560", "IDCFR-ADV-0003", qc=False, qscd=False),
    Person("revoked", "qualified-ca", "Paul", "Révoqué", "paul.revoque@exemple.example", "Révoqué et Fils",
           "NTRFR-300000001", "IDCFR-REV-0004", revoked=True),
    Person("expired", "qualified-ca", "Jeanne", "Expirée", "jeanne.expiree@exemple.example", "Expirée SAS",
           "NTRFR-300000002", "IDCFR-EXP-0005", expired=True),
    Person("untrusted", "untrusted-ca", "Mallory", "Inconnu", "mallory@inconnu.example", "Inconnu SA",
           "NTRFR-300000003", "IDCFR-UNK-0006"),
    Person("art2", "art2-ca", "Ada", "Équivalente", "ada@equivalente.example", "Équivalente SAS",
           "NTRFR-300000004", "IDCFR-ART2-0007"),
)

CAS = {
    # slug: (common name, organisation, parent slug or None)
    "qualified-root": ("Achats Test Racine Qualifiée", "Confiance Qualifiée (test)", None),
    "qualified-ca": ("Achats Test CA Qualifiée", "Confiance Qualifiée (test)", "qualified-root"),
    "untrusted-ca": ("Achats Test CA Non Reconnue", "Autorité Inconnue (test)", None),
    "art2-ca": ("Achats Test CA Équivalente Art. 2", "Autorité Équivalente (test)", None),
}


def _name(*pairs: tuple[ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs])


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _qc_statements(person: Person) -> bytes:
    statements = [{"statement_id": "qc_compliance"},
                  {"statement_id": "qc_type", "statement_info": qualified_asn1.QcCertificateType(["qct_esign"])}]
    if person.qscd:
        statements.append({"statement_id": "qc_sscd"})
    return qualified_asn1.QcStatements(statements).dump()


class Generator:
    """Builds the PKI in memory, then writes it to a folder."""

    def __init__(self, pki_url: str, now: datetime | None = None):
        self.pki_url = pki_url.rstrip("/")
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)
        self.start = self.now - timedelta(days=400)
        self.end = self.now + timedelta(days=365 * 20)
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.certs: dict[str, x509.Certificate] = {}
        self.revocations: dict[str, str] = {}
        self._serial = 0x1000

    def serial(self) -> int:
        self._serial += 1
        return self._serial

    def urls(self, ca: str) -> dict[str, str]:
        return {"ocsp": f"{self.pki_url}/ocsp/{ca}", "crl": f"{self.pki_url}/crl/{ca}.crl",
                "ca_issuers": f"{self.pki_url}/certs/{ca}.cer"}

    def _builder(self, subject: x509.Name, issuer: str | None, key: rsa.RSAPrivateKey,
                 not_before: datetime, not_after: datetime) -> x509.CertificateBuilder:
        issuer_name = subject if issuer is None else self.certs[issuer].subject
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
                   .public_key(key.public_key()).serial_number(self.serial())
                   .not_valid_before(not_before).not_valid_after(not_after)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        authority_key = (self.keys[issuer] if issuer else key).public_key()
        return builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key),
                                     critical=False)

    def _with_revocation_pointers(self, builder: x509.CertificateBuilder, issuer: str) -> x509.CertificateBuilder:
        urls = self.urls(issuer)
        return (builder
                .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                    full_name=[x509.UniformResourceIdentifier(urls["crl"])], relative_name=None, reasons=None,
                    crl_issuer=None)]), critical=False)
                .add_extension(x509.AuthorityInformationAccess([
                    x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(
                        urls["ocsp"])),
                    x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(
                        urls["ca_issuers"]))]), critical=False))

    def _sign(self, slug: str, builder: x509.CertificateBuilder, issuer: str | None) -> None:
        signing_key = self.keys[issuer] if issuer else self.keys[slug]
        self.certs[slug] = builder.sign(signing_key, hashes.SHA256())

    def ca(self, slug: str) -> None:
        common_name, organization, parent = CAS[slug]
        key = self.keys[slug] = _key()
        subject = _name((NameOID.COUNTRY_NAME, "FR"), (NameOID.ORGANIZATION_NAME, organization),
                        (NameOID.COMMON_NAME, common_name))
        builder = (self._builder(subject, parent, key, self.start - timedelta(days=365), self.end)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None if parent is None else 0),
                                  critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                                key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                key_cert_sign=True, crl_sign=True, encipher_only=False,
                                                decipher_only=False), critical=True))
        if parent is not None:
            builder = self._with_revocation_pointers(builder, parent)
        self._sign(slug, builder, parent)

    def ocsp_responder(self, ca: str) -> None:
        slug = f"{ca}-ocsp"
        key = self.keys[slug] = _key()
        subject = _name((NameOID.COUNTRY_NAME, "FR"), (NameOID.ORGANIZATION_NAME, CAS[ca][1]),
                        (NameOID.COMMON_NAME, f"{CAS[ca][0]} — répondeur OCSP"))
        builder = (self._builder(subject, ca, key, self.start, self.end)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                key_cert_sign=False, crl_sign=False, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=True)
                   .add_extension(x509.OCSPNoCheck(), critical=False))
        self._sign(slug, builder, ca)

    def tsa(self) -> None:
        key = self.keys["tsa"] = _key()
        subject = _name((NameOID.COUNTRY_NAME, "FR"), (NameOID.ORGANIZATION_NAME, CAS["qualified-ca"][1]),
                        (NameOID.COMMON_NAME, "Achats Test Horodatage Qualifié"))
        builder = (self._builder(subject, "qualified-ca", key, self.start, self.end)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                key_cert_sign=False, crl_sign=False, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True))
        self._sign("tsa", self._with_revocation_pointers(builder, "qualified-ca"), "qualified-ca")

    def list_signer(self, slug: str, common_name: str, organization: str, country: str) -> None:
        key = self.keys[slug] = _key()
        subject = _name((NameOID.COUNTRY_NAME, country), (NameOID.ORGANIZATION_NAME, organization),
                        (NameOID.COMMON_NAME, common_name))
        builder = (self._builder(subject, None, key, self.start, self.end)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                                key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                key_cert_sign=False, crl_sign=False, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ObjectIdentifier("0.4.0.2231.3.0")]), critical=False))
        self._sign(slug, builder, None)

    def user(self, person: Person) -> None:
        key = self.keys[person.slug] = _key()
        subject = _name((NameOID.COUNTRY_NAME, "FR"), (NameOID.ORGANIZATION_NAME, person.organization),
                        (ObjectIdentifier("2.5.4.97"), person.organization_id),
                        (NameOID.GIVEN_NAME, person.given_name), (NameOID.SURNAME, person.surname),
                        (NameOID.SERIAL_NUMBER, person.serial),
                        (NameOID.COMMON_NAME, f"{person.given_name} {person.surname}"))
        if person.expired:
            not_before, not_after = self.now - timedelta(days=800), self.now - timedelta(days=30)
        else:
            not_before, not_after = self.start, self.now + timedelta(days=365 * 10)
        policy = QCP_N_QSCD if person.qc and person.qscd else QCP_N if person.qc else NCP
        builder = (self._builder(subject, person.issuer, key, not_before, not_after)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                                key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                key_cert_sign=False, crl_sign=False, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(person.email)]), critical=False)
                   .add_extension(x509.CertificatePolicies([x509.PolicyInformation(policy, None)]), critical=False))
        if person.qc:
            builder = builder.add_extension(x509.UnrecognizedExtension(QC_STATEMENTS_OID, _qc_statements(person)),
                                            critical=False)
        self._sign(person.slug, self._with_revocation_pointers(builder, person.issuer), person.issuer)
        if person.revoked:
            self.revocations[person.slug] = (self.now - timedelta(days=2)).isoformat()

    def build(self) -> Generator:
        for slug in CAS:
            self.ca(slug)
        for slug in ("qualified-ca", "untrusted-ca", "art2-ca", "qualified-root"):
            self.ocsp_responder(slug)
        self.tsa()
        self.list_signer("lotl-signer", "Achats Test LOTL Signer", "Commission européenne (test)", "BE")
        self.list_signer("tl-signer-fr", "Achats Test TL Signer FR", "ANSSI (test)", "FR")
        for person in PEOPLE:
            self.user(person)
        return self

    def write(self, folder: Path, *, tsa_url: str, tl_url: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        entities: dict[str, dict] = {}
        for slug, cert in self.certs.items():
            cert_file, key_file = f"{slug}.cert.pem", f"{slug}.key.pem"
            (folder / cert_file).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            key_bytes = self.keys[slug].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption())
            _write_private(folder / key_file, key_bytes)
            entities[slug] = {"cert": cert_file, "key": key_file, "serial": cert.serial_number}
        people = {}
        for person in PEOPLE:
            chain = [self.certs[person.issuer]]
            parent = CAS[person.issuer][2]
            if parent:
                chain.append(self.certs[parent])
            p12 = pkcs12.serialize_key_and_certificates(
                person.slug.encode(), self.keys[person.slug], self.certs[person.slug], chain,
                serialization.BestAvailableEncryption(PASSWORD.encode()))
            _write_private(folder / f"{person.slug}.p12", p12)
            people[person.slug] = {"issuer": person.issuer, "p12": f"{person.slug}.p12", "qualified": person.qc,
                                   "qscd": person.qscd, "email": person.email,
                                   "name": f"{person.given_name} {person.surname}",
                                   "revoked_at": self.revocations.get(person.slug), "expired": person.expired}
        manifest = {"generated_at": self.now.isoformat(), "pki_url": self.pki_url, "tsa_url": tsa_url,
                    "tl_url": tl_url.rstrip("/"), "password": PASSWORD, "entities": entities, "people": people,
                    "cas": {slug: {"parent": parent, "ocsp_responder": f"{slug}-ocsp"}
                            for slug, (_cn, _o, parent) in CAS.items()}}
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return folder


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    os.chmod(path, 0o600)


def generate(folder: Path, *, pki_url: str, tsa_url: str, tl_url: str, now: datetime | None = None) -> Path:
    """Generate a fresh PKI into ``folder`` (about a second: RSA-2048 keys)."""
    return Generator(pki_url, now).build().write(folder, tsa_url=tsa_url, tl_url=tl_url)


"""What a person needs to know of a certificate before signing with it: holder, issuer, validity, key usage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID, NameOID

KEY_USAGES = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
              "key_cert_sign", "crl_sign")
# RFC 5280 names: content_commitment is nonRepudiation.
USAGE_NAMES = {"digital_signature": "digitalSignature", "content_commitment": "nonRepudiation",
               "key_encipherment": "keyEncipherment", "data_encipherment": "dataEncipherment",
               "key_agreement": "keyAgreement", "key_cert_sign": "keyCertSign", "crl_sign": "cRLSign"}
SOON = timedelta(days=30)


@dataclass
class CertificateInfo:
    """One certificate the user may sign with, from a token or a PKCS#12 file."""

    ref: str
    source: str  # "pkcs11" | "pkcs12"
    location: str  # the token's label, or the file's path
    certificate: x509.Certificate
    chain: list[x509.Certificate] = field(default_factory=list)
    # What the PIN is asked for (a signature requested by the platform's page: its origin and documents).
    purpose: dict | None = field(default=None, compare=False)

    @property
    def holder(self) -> str:
        return display_name(self.certificate.subject)

    @property
    def issuer(self) -> str:
        return display_name(self.certificate.issuer)

    @property
    def key_usage(self) -> list[str]:
        try:
            usage = self.certificate.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
        except x509.ExtensionNotFound:
            return []
        return [USAGE_NAMES[name] for name in KEY_USAGES if getattr(usage, name)]

    def warnings(self, now: datetime | None = None) -> list[dict]:
        now = now or datetime.now(UTC)
        found = []
        cert = self.certificate
        if cert.not_valid_after_utc < now:
            found.append({"code": "expired", "message": f"Ce certificat a expiré le {_date(cert.not_valid_after_utc)} "
                                                        ": il ne permet plus de signer. Demandez-en un nouveau à votre "
                                                        "prestataire de certification."})
        elif cert.not_valid_before_utc > now:
            found.append({"code": "not_yet_valid", "message": "Ce certificat n'est valable qu'à partir du "
                                                              f"{_date(cert.not_valid_before_utc)}."})
        elif cert.not_valid_after_utc - now < SOON:
            until = _date(cert.not_valid_after_utc)
            found.append({"code": "expires_soon", "message": f"Ce certificat expire le {until} : pensez à le "
                                                             "renouveler."})
        usage = self.key_usage
        if usage and "nonRepudiation" not in usage and "digitalSignature" not in usage:
            found.append({"code": "not_for_signing", "message": "Ce certificat n'est pas destiné à la signature "
                                                                "(usage de la clé : ni signature numérique ni "
                                                                "non-répudiation) : choisissez votre certificat de "
                                                                "signature."})
        return found

    @property
    def usable(self) -> bool:
        return not any(w["code"] in ("expired", "not_yet_valid", "not_for_signing") for w in self.warnings())

    def pem_with_chain(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [self.certificate, *self.chain])

    def as_dict(self) -> dict:
        cert = self.certificate
        return {"id": self.ref, "source": self.source, "location": self.location, "holder": self.holder,
                "holder_dn": cert.subject.rfc4514_string(), "issuer": self.issuer,
                "issuer_dn": cert.issuer.rfc4514_string(), "serial": format(cert.serial_number, "x"),
                "not_before": _iso(cert.not_valid_before_utc), "not_after": _iso(cert.not_valid_after_utc),
                "key_usage": self.key_usage, "warnings": self.warnings(), "usable": self.usable,
                # Public: the platform's page sends it, with its chain, to the signature service's step 1.
                "pem": self.pem_with_chain().decode()}


def display_name(name: x509.Name) -> str:
    """« Marie Curie (Curie SAS) »: the common name (else given name and surname), with the organisation."""
    def first(oid) -> str | None:
        values = name.get_attributes_for_oid(oid)
        return str(values[0].value) if values else None

    person = first(NameOID.COMMON_NAME) or " ".join(
        v for v in (first(NameOID.GIVEN_NAME), first(NameOID.SURNAME)) if v) or name.rfc4514_string()
    organisation = first(NameOID.ORGANIZATION_NAME)
    return f"{person} ({organisation})" if organisation and organisation not in person else person


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value.ca)
    except x509.ExtensionNotFound:
        return False


def chain_for(cert: x509.Certificate, pool: list[x509.Certificate]) -> list[x509.Certificate]:
    """The issuers of ``cert`` found in ``pool`` (a token's or a file's other certificates), nearest first."""
    chain: list[x509.Certificate] = []
    current = cert
    while current.issuer != current.subject and len(chain) < 8:
        parent = next((c for c in pool if c.subject == current.issuer and c not in chain and c != current), None)
        if parent is None:
            break
        chain.append(parent)
        current = parent
    return chain


def _date(moment: datetime) -> str:
    return moment.strftime("%d/%m/%Y")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

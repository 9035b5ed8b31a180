"""What every signature format reports alike: trust setup, signer, chain, revocation, times, indications."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from pyhanko.sign.ades import qualified_asn1
from pyhanko.sign.ades.report import AdESIndeterminate, AdESPassed, AdESStatus
from pyhanko.sign.validation.policy_decl import (
    CertificateFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
    bootstrap_validation_data_handlers,
)
from pyhanko.sign.validation.qualified.tsp import TSPRegistry, TSPTrustManager
from pyhanko_certvalidator import CertificateValidator
from pyhanko_certvalidator.authority import Authority, TrustAnchor
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.errors import InsufficientRevinfoError, StaleRevinfoError
from pyhanko_certvalidator.fetchers.api import FetcherBackend
from pyhanko_certvalidator.ltv.poe import ValidationObjectType
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.util import get_declared_revinfo

from achats.chassis.clock import iso

from ..trust.lists import TrustMaterial

TOTAL_PASSED = "TOTAL_PASSED"
TOTAL_FAILED = "TOTAL_FAILED"
INDETERMINATE = "INDETERMINATE"
NO_SIGNATURE_FOUND = "NO_SIGNATURE_FOUND"


class DocumentRejected(Exception):
    """The input cannot be processed (malformed, encrypted...): a 422 (or ``status``) with a French message."""

    def __init__(self, code: str, detail: str, field: str | None = "file", status: int = 422):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.field = field
        self.status = status


@dataclass(frozen=True)
class ValidationConfig:
    revocation_mode: str = "hard"
    fetch_timeout: float = 5.0
    max_signatures: int = 50
    # How long an OCSP response or CRL may be reused (within its nextUpdate); 0: fetched every time.
    revocation_cache_seconds: float = 0.0


class CombinedTrustManager(TSPTrustManager):
    """The CAs of the EU trusted lists, plus the configured « art. 2 » anchors.

    A subclass of pyHanko's TSP trust manager so that its qualification analysis (done only for
    that class) still runs; the extra anchors are trusted without qualification.
    """

    def __init__(self, registry: TSPRegistry, anchors: Iterable[asn1_x509.Certificate]):
        super().__init__(registry)
        self.extra = SimpleTrustManager.build(trust_roots=list(anchors))

    def as_trust_anchor(self, authority: Authority) -> TrustAnchor | None:
        return super().as_trust_anchor(authority) or self.extra.as_trust_anchor(authority)

    def find_potential_issuers(self, cert: asn1_x509.Certificate):
        yield from super().find_potential_issuers(cert)
        yield from self.extra.find_potential_issuers(cert)


def validation_spec(material: TrustMaterial, config: ValidationConfig,
                    backend: FetcherBackend) -> SignatureValidationSpec:
    rule = (RevocationCheckingRule.CRL_OR_OCSP_REQUIRED if config.revocation_mode == "hard"
            else RevocationCheckingRule.CHECK_IF_DECLARED_SOFT)
    policy = CertValidationPolicySpec(
        trust_manager=CombinedTrustManager(material.registry, material.anchors),
        revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(ee_certificate_rule=rule,
                                                                   intermediate_ca_cert_rule=rule)))
    # Certificates are never fetched from URLs found in the uploaded signature (AIA): a document
    # must not make the server call addresses of its choosing. Revocation data is fetched only for
    # certificates that already chain to a trust anchor, from their CA's addresses.
    gathering = RevocationInfoGatheringSpec(fetcher_backend=backend,
                                            certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH)
    return SignatureValidationSpec(cert_validation_policy=policy, revinfo_gathering_policy=gathering)


# Causes the report gives next to the ETSI sub-indication where one sub-indication covers situations a
# person must tell apart (the verdict's French reason follows the cause).
NO_REVOCATION_INFO = "no_revocation_info"   # the certificate names no OCSP responder and no CRL
REVOCATION_UNAVAILABLE = "revocation_unavailable"  # it names some, none answered usably: TRY_LATER
SELF_SIGNED = "self_signed"  # the signer's certificate is self-signed and no trust anchor
REVOCATION_NOT_REQUIRED = "revocation_not_required"  # names none, and says none is needed (below)
# The EU DSS default policy (RevocationDataSkip) skips revocation data for certificates carrying
# id-pkix-ocsp-nocheck (RFC 6960) or id-etsi-ext-valassured-ST-certs (short-term, ETSI EN 319 412-1).
REVOCATION_EXEMPT_EXTENSIONS = {"1.3.6.1.5.5.7.48.1.5", "0.4.0.194121.2.1"}


async def classify_chain_failure(subindic, cert: asn1_x509.Certificate, others: list[asn1_x509.Certificate],
                                 spec: SignatureValidationSpec, timing) -> tuple[object, str | None]:
    """(sub-indication, cause) for what pyHanko reports with a generic chain error.

    - pyHanko reports revocation data it could not obtain as CERTIFICATE_CHAIN_GENERAL_FAILURE; the path
      validation is rerun (on this failure path only) to read certvalidator's own error: revocation data
      that could not be obtained from the services the certificate names is TRY_LATER (EN 319 102-1: it
      may be available later); a certificate that names no service at all keeps the general failure,
      with the cause ``no_revocation_info`` — no retry can ever help it.
    - certvalidator turns « no path » for a self-signed certificate into a generic InvalidCertificateError,
      which pyHanko maps to CHAIN_CONSTRAINTS_FAILURE: a self-signed signer (its own issuer, its signature
      verified with its own key) that is no trust anchor (else a path would exist) has no chain at all:
      NO_CERTIFICATE_CHAIN_FOUND.
    """
    if subindic == AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE and is_self_signed(cert):
        return AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND, SELF_SIGNED
    if subindic == AdESIndeterminate.TRY_LATER:
        return subindic, REVOCATION_UNAVAILABLE
    if subindic != AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE:
        return subindic, None
    handlers = bootstrap_validation_data_handlers(spec, timing_info=timing)
    context = spec.cert_validation_policy.build_validation_context(timing_info=timing, handlers=handlers)
    try:
        await CertificateValidator(cert, intermediate_certs=others, validation_context=context).async_validate_path()
    except InsufficientRevinfoError as exc:
        if not isinstance(exc, StaleRevinfoError) and not exc.is_side_validation and _names_no_revocation_service(exc):
            lacking = [c for c in _non_anchor_certs(exc.current_path) if get_declared_revinfo(c) == (False, False)]
            if lacking and all(revocation_exempt(c) for c in lacking):
                return subindic, REVOCATION_NOT_REQUIRED  # the caller validates again without requiring it
            return subindic, NO_REVOCATION_INFO
        return AdESIndeterminate.TRY_LATER, REVOCATION_UNAVAILABLE
    except Exception:  # any other cause keeps pyHanko's sub-indication
        return subindic, None
    return subindic, None


def _names_no_revocation_service(exc: InsufficientRevinfoError) -> bool:
    """Whether the certificate whose revocation check failed names neither an OCSP responder nor a CRL."""
    path = exc.current_path
    certs = [c for c in path.iter_certs(include_root=False) if isinstance(c, asn1_x509.Certificate)]
    leaf = path.leaf if isinstance(path.leaf, asn1_x509.Certificate) else None
    intermediates = [c for c in certs if c is not leaf]
    candidates = ([leaf] if leaf is not None else []) if exc.is_ee_cert else intermediates
    return any(get_declared_revinfo(c) == (False, False) for c in candidates)


def _non_anchor_certs(path: ValidationPath) -> list[asn1_x509.Certificate]:
    return [c for c in path.iter_certs(include_root=False) if isinstance(c, asn1_x509.Certificate)]


def revocation_exempt(cert: asn1_x509.Certificate) -> bool:
    """Whether the certificate says its revocation status need not be checked (DSS RevocationDataSkip)."""
    try:
        return any(ext["extn_id"].dotted in REVOCATION_EXEMPT_EXTENSIONS
                   for ext in cert["tbs_certificate"]["extensions"])
    except (KeyError, TypeError, ValueError):
        return False


def without_required_revocation(spec: SignatureValidationSpec) -> SignatureValidationSpec:
    """The same policy, but revocation data required only from certificates naming a service: used when
    every certificate naming none is exempt (see ``revocation_exempt``)."""
    rule = RevocationCheckingRule.CHECK_IF_DECLARED
    policy = dataclasses.replace(spec.cert_validation_policy, revinfo_policy=CertRevTrustPolicy(
        RevocationCheckingPolicy(ee_certificate_rule=rule, intermediate_ca_cert_rule=rule)))
    return dataclasses.replace(spec, cert_validation_policy=policy)


def is_self_signed(cert: asn1_x509.Certificate) -> bool:
    """Its own issuer, and its signature verifies with its own public key (not merely the same name)."""
    if cert.subject != cert.issuer:
        return False
    try:
        parsed = x509.load_der_x509_certificate(cert.dump())
        parsed.verify_directly_issued_by(parsed)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


# -- indications -----------------------------------------------------------------------------------

def indication_of(subindic) -> tuple[str, str | None]:
    if subindic is None or subindic == AdESPassed.OK:
        return TOTAL_PASSED, None
    status = subindic.status
    if status == AdESStatus.FAILED:
        return TOTAL_FAILED, subindic.name
    if status == AdESStatus.PASSED:
        return TOTAL_PASSED, None
    return INDETERMINATE, subindic.name


def document_indication(findings: list[dict]) -> str:
    """The document's overall ETSI indication: the worst of its signatures' (a failed one fails the
    document, else an indeterminate one makes it indeterminate); NO_SIGNATURE_FOUND without any."""
    if not findings:
        return NO_SIGNATURE_FOUND
    indications = {f["indication"] for f in findings}
    if TOTAL_FAILED in indications:
        return TOTAL_FAILED
    if INDETERMINATE in indications:
        return INDETERMINATE
    return TOTAL_PASSED


def time_guard(subindic, cert: asn1_x509.Certificate, best_time: datetime | None):
    """ETSI EN 319 102-1 §5.5.4: a proof of existence outside the certificate's validity does not cure
    an expired (or not yet valid) certificate. pyHanko lets an expired signer pass when a signature
    timestamp exists, whatever its time; this restores the rule."""
    if best_time is None or subindic not in (None, AdESPassed.OK):
        return subindic
    if best_time < cert.not_valid_before:
        return AdESIndeterminate.NOT_YET_VALID
    if best_time > cert.not_valid_after:
        return AdESIndeterminate.OUT_OF_BOUNDS_NO_POE
    return subindic


# -- certificates ------------------------------------------------------------------------------------

def _attr(name: asn1_x509.Name, *keys: str) -> str | None:
    values = name.native
    for key in keys:
        value = values.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if value:
            return str(value)
    return None


# French labels of the attributes of a distinguished name (X.520, PKCS#9, RFC 4519, ETSI EN 319 412-1),
# by OID: what a person reads in a report. Unknown attributes show their OID.
DN_LABELS = {
    "2.5.4.3": "Nom commun", "2.5.4.4": "Nom", "2.5.4.42": "Prénom", "2.5.4.43": "Initiales",
    "2.5.4.44": "Qualificatif de génération", "2.5.4.65": "Pseudonyme", "2.5.4.12": "Titre",
    "2.5.4.5": "Numéro de série", "2.5.4.10": "Organisation", "2.5.4.11": "Unité d'organisation",
    "2.5.4.97": "Identifiant d'organisation", "2.5.4.6": "Pays", "2.5.4.7": "Localité", "2.5.4.8": "Région",
    "2.5.4.9": "Adresse", "2.5.4.17": "Code postal", "2.5.4.18": "Boîte postale", "2.5.4.13": "Description",
    "2.5.4.15": "Catégorie d'entreprise", "2.5.4.46": "Qualificatif du nom distinctif",
    "2.5.4.20": "Téléphone", "1.2.840.113549.1.9.1": "Adresse électronique",
    "0.9.2342.19200300.100.1.1": "Identifiant d'utilisateur", "0.9.2342.19200300.100.1.25": "Composant de domaine",
    "1.3.6.1.4.1.311.60.2.1.3": "Pays d'immatriculation", "1.3.6.1.4.1.311.60.2.1.2": "Région d'immatriculation",
    "1.3.6.1.4.1.311.60.2.1.1": "Localité d'immatriculation",
}
DN_SEPARATOR = " ; "  # not a comma: organisation names often hold one


def name_fr(name: asn1_x509.Name) -> str:
    """A distinguished name for a person, with French labels, most specific attribute first (the order
    RFC 4514 writes it): « Nom commun : Marie Curie ; … ; Pays : FR »."""
    parts = []
    try:
        rdns = list(name.chosen)
    except (ValueError, TypeError, AttributeError):
        return ""
    for rdn in reversed(rdns):
        for attribute in rdn:
            oid = attribute["type"].dotted
            try:
                value = attribute["value"].native
            except (ValueError, TypeError):
                value = None
            if isinstance(value, bytes | bytearray):
                value = value.hex()
            parts.append(f"{DN_LABELS.get(oid, oid)} : {value if value is not None else '?'}")
    return DN_SEPARATOR.join(parts)


def distinguished_names(cert: asn1_x509.Certificate) -> tuple[str | None, str | None]:
    """(subject, issuer) in their machine form, RFC 4514, as cryptography writes them."""
    try:
        parsed = x509.load_der_x509_certificate(cert.dump())
        return parsed.subject.rfc4514_string(), parsed.issuer.rfc4514_string()
    except ValueError:
        return None, None


def cert_id(cert: asn1_x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def qc_statements(cert: asn1_x509.Certificate) -> dict:
    statements = {s["statement_id"].native: s for s in qualified_asn1.get_qc_statements(cert)}
    qc_type = None
    if "qc_type" in statements:
        types = statements["qc_type"]["statement_info"]
        try:
            qc_type = ",".join(t.native for t in qualified_asn1.QcCertificateType.load(types.dump()))
        except (ValueError, TypeError):
            qc_type = None
    return {"compliance": "qc_compliance" in statements, "qscd": "qc_sscd" in statements, "type": qc_type}


def certificate(cert: asn1_x509.Certificate) -> dict:
    key_usage = cert.key_usage_value.native if cert.key_usage_value else []
    policies = [p["policy_identifier"].dotted for p in (cert.certificate_policies_value or [])]
    subject_dn, issuer_dn = distinguished_names(cert)
    return {
        "name": display_name(cert.subject), "subject": name_fr(cert.subject), "issuer": name_fr(cert.issuer),
        "subject_dn": subject_dn, "issuer_dn": issuer_dn,
        "serial_number": format(cert.serial_number, "X"),
        "not_before": iso(cert.not_valid_before), "not_after": iso(cert.not_valid_after),
        "sha256": cert_id(cert), "key_usage": sorted(key_usage), "policies": policies,
        "qc_statements": qc_statements(cert), "self_signed": cert.self_signed != "no",
    }


def display_name(subject: asn1_x509.Name) -> str | None:
    """Who a certificate names, in a word: its common name, else given name and surname, else organisation."""
    return (_attr(subject, "common_name")
            or " ".join(filter(None, [_attr(subject, "given_name"), _attr(subject, "surname")]))
            or _attr(subject, "organization_name"))


def signer(cert: asn1_x509.Certificate) -> dict:
    subject = cert.subject
    name = _attr(subject, "common_name")
    if not name:
        name = " ".join(filter(None, [_attr(subject, "given_name"), _attr(subject, "surname")])) or None
    emails = [n.native for n in (cert.subject_alt_name_value or []) if n.name == "rfc822_name"]
    email = emails[0] if emails else _attr(subject, "email_address")
    return {
        "name": name, "email": email, "organization": _attr(subject, "organization_name"),
        "organization_identifier": _attr(subject, "organization_identifier"),
        "subject_serial_number": _attr(subject, "serial_number"),
        "serial_number": format(cert.serial_number, "X"), "subject": name_fr(subject),
        "subject_dn": distinguished_names(cert)[0],
        "country": _attr(subject, "country_name"),
    }


def chain(path: ValidationPath | None, leaf: asn1_x509.Certificate, embedded: Iterable[asn1_x509.Certificate],
          material: TrustMaterial) -> list[dict]:
    """The signer's certificate up to its trust anchor (or as far as the embedded certificates go)."""
    certs: list[asn1_x509.Certificate] = []
    anchor = None
    if path is not None:
        certs = [c for c in path.iter_certs(include_root=True) if isinstance(c, asn1_x509.Certificate)]
        certs.reverse()  # leaf first
        anchor_cert = getattr(path.trust_anchor.authority, "certificate", None)
        anchor = cert_id(anchor_cert) if anchor_cert is not None else None
    if not certs:
        by_subject = {c.subject.dump(): c for c in embedded}
        certs = [leaf]
        while certs[-1].self_signed == "no" and certs[-1].issuer.dump() in by_subject and len(certs) < 10:
            nxt = by_subject[certs[-1].issuer.dump()]
            if nxt in certs:
                break
            certs.append(nxt)
    listed = set(material.services_by_cert)
    configured = {cert_id(c) for c in material.anchors}
    out = []
    for cert in certs:
        digest = cert_id(cert)
        entry = certificate(cert)
        entry["trust_anchor"] = digest == anchor
        entry["anchor_source"] = ("trusted_list" if digest in listed else "configured" if digest in configured
                                  else None) if digest == anchor else None
        out.append(entry)
    return out


def validity_at(cert: asn1_x509.Certificate, proven: datetime | None, claimed: datetime | None) -> dict:
    """Was the certificate within its validity at signing time (proven by a timestamp, else declared)?"""
    moment = proven or claimed
    if moment is None:
        return {"valid_at_signing_time": None, "at": None, "basis": None}
    return {"valid_at_signing_time": cert.not_valid_before <= moment <= cert.not_valid_after,
            "at": iso(moment), "basis": "timestamp" if proven else "claimed"}


def revoked_before(revocation: dict, moment: datetime | None) -> bool | None:
    """Was the certificate already revoked at ``moment``? None when it cannot be told."""
    if revocation["status"] == "good":
        return False
    if revocation["status"] != "revoked" or not revocation.get("revoked_at") or moment is None:
        return None
    return datetime.fromisoformat(revocation["revoked_at"].replace("Z", "+00:00")) <= moment


# -- revocation --------------------------------------------------------------------------------------

def revocation(cert: asn1_x509.Certificate, validation_objects, status, mode: str, subindic,
               cause: str | None = None) -> dict:
    """What the revocation check of the signer's certificate found, and from which source."""
    if cause in (NO_REVOCATION_INFO, REVOCATION_NOT_REQUIRED):
        label = NO_REVOCATION_INFO if cause == NO_REVOCATION_INFO else "not_required"
        return {"status": label, "source": None, "mode": mode, "revoked_at": None, "reason": None}
    details = getattr(status, "revocation_details", None) if status is not None else None
    if details is not None and not details.ca_revoked:
        return {"status": "revoked", "source": _source_of(cert, validation_objects), "mode": mode,
                "revoked_at": iso(details.revocation_date),
                "reason": details.revocation_reason.native if details.revocation_reason else None}
    if details is not None and details.ca_revoked:
        return {"status": "revoked", "source": None, "mode": mode, "revoked_at": iso(details.revocation_date),
                "reason": "ca_revoked"}
    source = _source_of(cert, validation_objects)
    if subindic == AdESIndeterminate.TRY_LATER:
        return {"status": "unknown", "source": source, "mode": mode, "revoked_at": None, "reason": None}
    if source is not None and subindic in (None, AdESPassed.OK, AdESIndeterminate.OUT_OF_BOUNDS_NO_POE):
        return {"status": "good", "source": source, "mode": mode, "revoked_at": None, "reason": None}
    return {"status": "not_checked", "source": None, "mode": mode, "revoked_at": None, "reason": None}


def _source_of(cert: asn1_x509.Certificate, validation_objects) -> str | None:
    found = None
    for vo in validation_objects or ():
        if vo.object_type == ValidationObjectType.OCSP_RESPONSE:
            response = vo.value.ocsp_response_data if hasattr(vo.value, "ocsp_response_data") else vo.value
            if _ocsp_concerns(response, cert):
                return "ocsp"
        elif vo.object_type == ValidationObjectType.CRL:
            crl = vo.value.crl_data if hasattr(vo.value, "crl_data") else vo.value
            try:
                if crl["tbs_cert_list"]["issuer"] == cert.issuer:
                    found = "crl"
            except (KeyError, TypeError):
                continue
    return found


def _ocsp_concerns(response: asn1_ocsp.OCSPResponse, cert: asn1_x509.Certificate) -> bool:
    try:
        basic = response["response_bytes"]["response"].parsed
        for single in basic["tbs_response_data"]["responses"]:
            if single["cert_id"]["serial_number"].native == cert.serial_number:
                return True
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return False


# -- evidence for the ETSI report ---------------------------------------------------------------------

def validation_objects_evidence(validation_objects) -> list[dict]:
    out = []
    for vo in validation_objects or ():
        value = vo.value
        if vo.object_type == ValidationObjectType.CERTIFICATE:
            der = value.dump()
        elif vo.object_type == ValidationObjectType.OCSP_RESPONSE:
            der = (value.ocsp_response_data if hasattr(value, "ocsp_response_data") else value).dump()
        elif vo.object_type == ValidationObjectType.CRL:
            der = (value.crl_data if hasattr(value, "crl_data") else value).dump()
        else:
            continue
        out.append({"type": vo.object_type.name, "id": "vo-" + hashlib.sha256(der).hexdigest()[:32],
                    "der": base64.b64encode(der).decode()})
    return out


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


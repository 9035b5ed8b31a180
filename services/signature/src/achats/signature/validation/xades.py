"""Detached XAdES signatures (an ``.xml`` token next to the signed file): signxml for the XML signature,
pyHanko's certificate validation, timestamp validation and qualification for the rest."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import NamedTuple

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from lxml import etree
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESPassed
from pyhanko.sign.validation import ades, generic_cms
from pyhanko.sign.validation.policy_decl import SignatureValidationSpec, bootstrap_validation_data_handlers
from pyhanko.sign.validation.qualified.assess import QualificationAssessor
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator.ltv.poe import ValidationObject, ValidationObjectType
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.revinfo.archival import CRLContainer, OCSPContainer
from signxml import exceptions as signxml_errors
from signxml.algorithms import CanonicalizationMethod
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

from achats.chassis.clock import iso

from ..trust.lists import TrustMaterial
from . import common
from .common import DocumentRejected, ValidationConfig
from .verdict import qualification, verdict

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
XADES141 = "http://uri.etsi.org/01903/v1.4.1#"
NS = {"ds": DS, "xades": XADES, "xades141": XADES141}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                         remove_comments=False)
DIGESTS = {"http://www.w3.org/2000/09/xmldsig#sha1": "sha1", "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
           "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
           "http://www.w3.org/2001/04/xmlenc#sha512": "sha512"}
UNREADABLE = ("signature_unreadable", "La signature XML est illisible ou corrompue : ce n'est pas une signature "
                                      "XAdES valide.")


class _Verifier(XAdESVerifier):
    """signxml checks the XML signature; certificate validity is judged by pyHanko at signing time."""

    def _check_cert_validity(self, cert, cert_source):
        return None


def parse(content: bytes) -> etree._Element:
    if b"<!DOCTYPE" in content[:4096] or b"<!ENTITY" in content[:65536]:
        raise DocumentRejected("signature_unreadable", "La signature XML contient une déclaration de type de "
                                                       "document (DOCTYPE) : refusée.", "signature")
    try:
        return etree.fromstring(content, PARSER)
    except (etree.XMLSyntaxError, ValueError):
        raise DocumentRejected(*UNREADABLE, "signature") from None


def signature_elements(root: etree._Element) -> list[etree._Element]:
    if root.tag == f"{{{DS}}}Signature":
        return [root]
    return root.findall(f".//{{{DS}}}Signature")


def _certificates(signature: etree._Element) -> list[asn1_x509.Certificate]:
    out = []
    for node in signature.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS):
        try:
            out.append(asn1_x509.Certificate.load(base64.b64decode("".join((node.text or "").split()))))
        except ValueError:
            continue
    return out


def _signing_cert(signature: etree._Element, certs: list[asn1_x509.Certificate]) -> asn1_x509.Certificate | None:
    for holder in ("SigningCertificateV2", "SigningCertificate"):
        for cert_node in signature.findall(f".//xades:{holder}/xades:Cert", NS):
            method = cert_node.find("xades:CertDigest/ds:DigestMethod", NS)
            value = cert_node.findtext("xades:CertDigest/ds:DigestValue", namespaces=NS)
            algorithm = DIGESTS.get(method.get("Algorithm") if method is not None else "")
            if not algorithm or not value:
                continue
            expected = base64.b64decode("".join(value.split()))
            for cert in certs:
                if hashlib.new(algorithm, cert.dump()).digest() == expected:
                    return cert
    return certs[0] if certs else None


def _level(signature: etree._Element) -> tuple[str, str]:
    qualifying = signature.find("ds:Object/xades:QualifyingProperties", NS)
    if qualifying is None:
        return "XMLDSig", "XMLDSig"
    unsigned = qualifying.find("xades:UnsignedProperties/xades:UnsignedSignatureProperties", NS)
    level = "B"
    if unsigned is not None and unsigned.find("xades:SignatureTimeStamp", NS) is not None:
        level = "T"
        if unsigned.find("xades:CertificateValues", NS) is not None and \
                unsigned.find("xades:RevocationValues", NS) is not None:
            level = "LT"
            if unsigned.find("xades141:ArchiveTimeStamp", NS) is not None or \
                    unsigned.find("xades:ArchiveTimeStamp", NS) is not None:
                level = "LTA"
    return "XAdES", f"XAdES-BASELINE-{level}"


def _claimed(signature: etree._Element) -> datetime | None:
    text = signature.findtext(".//xades:SignedSignatureProperties/xades:SigningTime", namespaces=NS)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def signature_value_c14n(signature: etree._Element, algorithm: str | None) -> bytes:
    """The bytes a XAdES signature timestamp covers: the canonicalised ds:SignatureValue element."""
    method = CanonicalizationMethod(algorithm or CanonicalizationMethod.CANONICAL_XML_1_0.value)
    exclusive = method.value.startswith("http://www.w3.org/2001/10/xml-exc-c14n#")
    node = signature.find("ds:SignatureValue", NS)
    return etree.tostring(node, method="c14n", exclusive=exclusive, with_comments=method.value.endswith("Comments"))


def _timestamp_token(signature: etree._Element) -> tuple[cms.SignedData | None, str | None]:
    node = signature.find(".//xades:UnsignedSignatureProperties/xades:SignatureTimeStamp", NS)
    if node is None:
        return None, None
    c14n = node.find("ds:CanonicalizationMethod", NS)
    encapsulated = node.findtext("xades:EncapsulatedTimeStamp", namespaces=NS)
    try:
        info = cms.ContentInfo.load(base64.b64decode("".join((encapsulated or "").split())))
        return info["content"], c14n.get("Algorithm") if c14n is not None else None
    except (ValueError, TypeError, KeyError):
        return None, None


def _objects(*contexts) -> list[ValidationObject]:
    out = []
    for context in contexts:
        if context is None:
            continue
        for response in context.ocsps:
            out.extend(ValidationObject(ValidationObjectType.OCSP_RESPONSE, c) for c in OCSPContainer.load_multi(
                response))
        out.extend(ValidationObject(ValidationObjectType.CRL, CRLContainer(crl)) for crl in context.crls)
    return out


def _external_references(signature: etree._Element) -> list[etree._Element]:
    return [r for r in signature.findall("ds:SignedInfo/ds:Reference", NS)
            if r.get("URI") is not None and not r.get("URI", "").startswith("#")]


def _enveloped(signature: etree._Element) -> list[tuple[etree._Element, etree._Element]]:
    """(reference, ds:Object) pairs of an enveloping signature: references to an object of the signature
    itself that holds signed content (not the XAdES qualifying properties)."""
    objects = {o.get("Id"): o for o in signature.findall("ds:Object", NS)
               if o.get("Id") and o.find("xades:QualifyingProperties", NS) is None}
    ids: dict[str, int] = {}
    for element in signature.getroottree().iter():
        for attribute in ("Id", "ID", "id"):
            if element.get(attribute):
                ids[element.get(attribute)] = ids.get(element.get(attribute), 0) + 1
    out = []
    for reference in signature.findall("ds:SignedInfo/ds:Reference", NS):
        uri = reference.get("URI") or ""
        target = uri[1:]
        if reference.get("Type", "").endswith("SignedProperties") or target not in objects:
            continue
        if ids.get(target, 0) != 1:
            return []  # the same Id twice: what is verified might not be what is shown (wrapping)
        out.append((reference, objects[target]))
    return out


def is_detached(signature_xml: bytes) -> bool:
    """Whether some XML signature of this file references another file."""
    return any(_external_references(s) for s in signature_elements(parse(signature_xml)))


def is_enveloping(signature_xml: bytes) -> bool:
    """Whether the XML signatures of this file carry their signed content (no reference to another file)."""
    signatures = signature_elements(parse(signature_xml))
    return bool(signatures) and all(not _external_references(s) and _enveloped(s) for s in signatures)


def object_content(obj: etree._Element) -> tuple[bytes, str | None]:
    """(the signed content a person downloads, its declared media type) of a ds:Object: base64 content
    decoded, an XML element canonicalised (exclusive c14n: only the namespaces it uses), text as UTF-8."""
    mime = obj.get("MimeType")
    children = [child for child in obj if isinstance(child.tag, str)]
    if obj.get("Encoding") == "http://www.w3.org/2000/09/xmldsig#base64":
        try:
            return base64.b64decode("".join((obj.text or "").split())), mime
        except ValueError:
            return (obj.text or "").encode(), mime
    if children:
        return etree.tostring(children[0], method="c14n", exclusive=True), mime or "application/xml"
    return (obj.text or "").encode("utf-8"), mime


def enveloped_content(signature_xml: bytes) -> tuple[bytes, str | None, str | None] | None:
    """(content, media type, object Id) of the first signature's signed object, None when detached."""
    signatures = signature_elements(parse(signature_xml))
    pairs = _enveloped(signatures[0]) if signatures else []
    if not pairs:
        return None
    content, mime = object_content(pairs[0][1])
    return content, mime, pairs[0][1].get("Id")


async def validate_xades(signature_xml: bytes, document: bytes | None, *, material: TrustMaterial,
                         spec: SignatureValidationSpec, config: ValidationConfig,
                         timing: ValidationTimingInfo) -> list[dict]:
    """Detached XAdES over ``document``, or enveloping XAdES (``document`` None: the content is inside)."""
    root = parse(signature_xml)
    signatures = signature_elements(root)
    if not signatures:
        raise DocumentRejected("signature_unreadable", "Le fichier XML ne contient aucune signature.", "signature")
    if len(signatures) > config.max_signatures:
        raise DocumentRejected("too_many_signatures", f"Trop de signatures (plus de {config.max_signatures}).")
    return [await _one(sig, index, document, material=material, spec=spec, config=config, timing=timing)
            for index, sig in enumerate(signatures, start=1)]


async def _one(signature: etree._Element, index: int, document: bytes | None, *, material: TrustMaterial,
               spec: SignatureValidationSpec, config: ValidationConfig, timing: ValidationTimingInfo) -> dict:
    certs = _certificates(signature)
    signer_cert = _signing_cert(signature, certs)
    if signer_cert is None:
        raise DocumentRejected("signature_unreadable", "La signature XML ne contient pas le certificat du "
                                                       "signataire.", "signature")
    others = [c for c in certs if c != signer_cert]
    fmt, level = _level(signature)
    integrity = _integrity(signature, document, signer_cert)
    doc_digest_algorithm = _digest_algorithm(integrity.reference)
    checked = await _signer_chain(signer_cert, others, integrity.subindic, spec, timing)
    stamp = await _timestamp(signature, spec, timing)
    subindic = common.time_guard(_proven_in_time(checked.subindic, stamp.proven, checked.revo_details, signer_cert),
                                 signer_cert, stamp.proven)
    indication, sub = common.indication_of(subindic)
    qual_result = QualificationAssessor(material.registry).check_entity_cert_qualified(
        checked.path, moment=stamp.proven) if checked.path is not None and indication != common.TOTAL_FAILED else None
    objects = _objects(checked.context) + stamp.objects
    chain = common.chain(checked.path, signer_cert, certs, material)
    cert_info = common.certificate(signer_cert)
    claimed = _claimed(signature)
    signed_info = signature.find("ds:SignedInfo", NS)
    entry = {
        "index": index, "id": signature.get("Id") or f"signature-{index}", "format": fmt, "level": level,
        "validation_process": "LTVM" if stamp.present else "Basic",
        "signer": common.signer(signer_cert), "certificate": cert_info, "chain": chain,
        "claimed_signing_time": iso(claimed), "timestamp": stamp.summary,
        "best_signature_time": iso(stamp.proven or timing.best_signature_time),
        "validation_time": iso(timing.validation_time),
        "integrity": {"intact": sub != "HASH_FAILURE", "signature_valid": sub not in ("HASH_FAILURE",
                                                                                       "SIG_CRYPTO_FAILURE"),
                      "packaging": integrity.packaging,
                      "reference": integrity.reference.get("URI") if integrity.reference is not None else None},
        "certificate_validity": common.validity_at(signer_cert, stamp.proven, claimed),
        "revocation": common.revocation(signer_cert, objects,
                                        SimpleNamespace(revocation_details=checked.revo_details),
                                        config.revocation_mode, subindic, checked.cause),
        "indication": indication, "sub_indication": sub,
        "cause": checked.cause if indication != common.TOTAL_PASSED else None,
        "digest_algorithm": doc_digest_algorithm,
        "signature_algorithm": _signature_algorithm(signed_info),
        "warnings": [],
    }
    entry["qualification"] = qualification(qual_result, indication, cert_info, chain, material)
    entry["certificate_validity"]["revoked_before"] = common.revoked_before(entry["revocation"],
                                                                            stamp.proven or claimed)
    entry["verdict"] = verdict(entry)
    entry["evidence"] = _evidence(signature, signed_info, doc_digest_algorithm, integrity.document, signer_cert,
                                  objects)
    return entry


class _Integrity(NamedTuple):
    subindic: object  # None when the references and the signature value hold
    reference: etree._Element | None  # the reference to the signed document
    document: bytes  # the signed document (an enveloping signature's signed object)
    packaging: str


def _integrity(signature: etree._Element, document: bytes | None, signer_cert: asn1_x509.Certificate) -> _Integrity:
    """The signed document's reference and the XML signature over it: detached (``document`` given, exactly
    one external reference) or enveloping (``document`` None, exactly one signed object inside)."""
    external = _external_references(signature)
    packaging = "detached" if external else "enveloping"
    if document is None:
        enveloped = _enveloped(signature)
        if external or len(enveloped) != 1:
            return _Integrity(AdESFailure.FORMAT_FAILURE, None, b"", packaging)
        reference, content = enveloped[0][0], object_content(enveloped[0][1])[0]
        return _Integrity(_verify_xml(signature, None, signer_cert, reference), reference, content, packaging)
    if len(external) != 1:
        # A detached XAdES covers exactly one external file here.
        return _Integrity(AdESFailure.FORMAT_FAILURE, None, document, packaging)
    return _Integrity(_verify_xml(signature, document, signer_cert, external[0]), external[0], document, packaging)


def _digest_algorithm(reference: etree._Element | None) -> str:
    method = reference.find("ds:DigestMethod", NS) if reference is not None else None
    return DIGESTS.get((method.get("Algorithm") if method is not None else None) or "", "sha256")


class _Chain(NamedTuple):
    subindic: object
    path: object
    revo_details: object
    cause: str | None
    context: object  # the validation context the chain was checked in (its objects go into the evidence)


def _context(spec: SignatureValidationSpec, timing: ValidationTimingInfo, others: list[asn1_x509.Certificate]):
    handlers = bootstrap_validation_data_handlers(spec, timing_info=timing)
    context = spec.cert_validation_policy.build_validation_context(timing_info=timing, handlers=handlers)
    context.certificate_registry.register_multiple(others)
    return context


async def _usage(signer_cert: asn1_x509.Certificate, context):
    return await generic_cms.validate_cert_usage(
        signer_cert, context, KeyUsageConstraints(key_usage={"non_repudiation"}),
        context.path_builder.async_build_paths_lazy(signer_cert))


async def _signer_chain(signer_cert: asn1_x509.Certificate, others: list[asn1_x509.Certificate], subindic,
                        spec: SignatureValidationSpec, timing: ValidationTimingInfo) -> _Chain:
    """The signer's certificate path and revocation, unless the integrity already failed (``subindic``)."""
    context = _context(spec, timing, others)
    if subindic is not None:
        return _Chain(subindic, None, None, None, context)
    op = await _usage(signer_cert, context)
    subindic, path, revo_details, cause = op.error_subindic, op.success_result or op.error_path, op.revo_details, None
    if subindic is not None:
        subindic, cause = await common.classify_chain_failure(subindic, signer_cert, others, spec, timing)
    if cause == common.REVOCATION_NOT_REQUIRED:
        # Every certificate without revocation service is exempt: validate again, not requiring it.
        context = _context(common.without_required_revocation(spec), timing, others)
        op = await _usage(signer_cert, context)
        subindic, path, revo_details = op.error_subindic, op.success_result or op.error_path, op.revo_details
    return _Chain(subindic, path, revo_details, cause, context)


class _Timestamp(NamedTuple):
    present: bool
    summary: dict | None  # time, valid, tsa
    proven: datetime | None  # the time the signature is proven to have existed (a valid timestamp)
    objects: list


async def _timestamp(signature: etree._Element, spec: SignatureValidationSpec,
                     timing: ValidationTimingInfo) -> _Timestamp:
    """The signature timestamp over the signature value, if there is one."""
    token, c14n_method = _timestamp_token(signature)
    if token is None:
        return _Timestamp(False, None, None, [])
    try:
        covered = signature_value_c14n(signature, c14n_method)
    except (ValueError, TypeError):
        covered = b""
    result = await ades.ades_timestamp_validation(
        token, spec, lambda algorithm: hashlib.new(algorithm, covered).digest(), timing_info=timing)
    status = result.api_status
    valid = result.ades_subindic == AdESPassed.OK and status is not None
    stamped = status.timestamp if status is not None else None
    summary = {"time": iso(stamped), "valid": valid,
               "tsa": common.name_fr(status.signing_cert.subject) if status is not None else None}
    return _Timestamp(True, summary, stamped if valid else None, list(result.validation_objects))


def _proven_in_time(subindic, proven: datetime | None, revo_details, signer_cert: asn1_x509.Certificate):
    """A timestamp proving the signature existed before the revocation, or while the certificate was valid,
    lifts those indeterminations."""
    if proven is not None and subindic == AdESIndeterminate.REVOKED_NO_POE and revo_details is not None \
            and proven < revo_details.revocation_date:
        return None
    if proven is not None and subindic == AdESIndeterminate.OUT_OF_BOUNDS_NO_POE \
            and signer_cert.not_valid_before <= proven <= signer_cert.not_valid_after:
        return None
    return subindic


def _signature_algorithm(signed_info: etree._Element | None) -> str | None:
    method = signed_info.find("ds:SignatureMethod", NS) if signed_info is not None else None
    return method.get("Algorithm", "").rsplit("#", 1)[-1] if method is not None else None


def _evidence(signature: etree._Element, signed_info: etree._Element | None, doc_digest_algorithm: str,
              document: bytes, signer_cert: asn1_x509.Certificate, objects: list) -> dict:
    value = signature.findtext("ds:SignatureValue", namespaces=NS) or ""
    c14n = signed_info.find("ds:CanonicalizationMethod", NS) if signed_info is not None else None
    try:
        dtbs = etree.tostring(signed_info, method="c14n", exclusive=bool(
            c14n is not None and "exc-c14n" in c14n.get("Algorithm", "")))
    except (TypeError, ValueError):
        dtbs = b""
    return {
        "signature_value": "".join(value.split()),
        "dtbsr": {"algorithm": "sha256", "value": common.b64(hashlib.sha256(dtbs).digest())},
        "signers_document": {"algorithm": doc_digest_algorithm,
                             "value": common.b64(hashlib.new(doc_digest_algorithm, document).digest())},
        "signer_certificate": common.b64(signer_cert.dump()),
        "validation_objects": common.validation_objects_evidence(objects),
    }


def _verify_xml(signature: etree._Element, document: bytes | None, signer_cert: asn1_x509.Certificate,
                reference: etree._Element):
    """Digests of the references and the signature value, by signxml; None when all hold. ``document``
    None: an enveloping signature, whose references signxml resolves inside the signature."""
    data = etree.tostring(signature)
    target: bytes | etree._Element | None = document
    if document is not None and reference.find("ds:Transforms/ds:Transform", NS) is not None:
        # A reference with transforms (c14n) signs an XML document as XML: give signxml the tree.
        try:
            target = parse(document)
        except DocumentRejected:
            return AdESFailure.HASH_FAILURE  # the signed XML document cannot be what this file is
    try:
        _Verifier().verify(
            data, x509_cert=x509.load_der_x509_certificate(signer_cert.dump()),
            uri_resolver=(lambda _uri: target) if target is not None else None,
            expect_config=XAdESSignatureConfiguration(require_x509=True, expect_references=True))
    except signxml_errors.InvalidDigest:
        return AdESFailure.HASH_FAILURE
    except (signxml_errors.InvalidSignature, signxml_errors.InvalidCertificate):
        return AdESFailure.SIG_CRYPTO_FAILURE
    except (signxml_errors.SignXMLException, ValueError, TypeError, KeyError, etree.LxmlError):
        return AdESFailure.FORMAT_FAILURE
    return None

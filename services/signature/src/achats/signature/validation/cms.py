"""CMS signatures (CAdES, and the CMS inside PAdES): pyHanko's AdES processes, summarised per signer."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime

from asn1crypto import cms, core, tsp
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.general import (
    NonexistentAttributeError,
    extract_certificate_info,
    find_unique_cms_attribute,
)
from pyhanko.sign.validation import ades, generic_cms
from pyhanko.sign.validation.policy_decl import PdfSignatureValidationSpec, SignatureValidationSpec
from pyhanko.sign.validation.qualified.assess import QualificationAssessor
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo

from achats.chassis.clock import iso

from ..trust.lists import TrustMaterial
from . import common
from .common import DocumentRejected, ValidationConfig
from .verdict import qualification, verdict

ARCHIVE_TIMESTAMP_V3 = "0.4.0.1733.2.4"
CERTIFICATE_VALUES = "1.2.840.113549.1.9.16.2.23"
REVOCATION_VALUES = "1.2.840.113549.1.9.16.2.24"


def signer_infos(signed_data: cms.SignedData) -> list[cms.SignedData]:
    """One SignedData per signer, as pyHanko's processes handle exactly one signer each."""
    infos = list(signed_data["signer_infos"])
    if len(infos) == 1:
        return [signed_data]
    out = []
    for info in infos:
        copy = signed_data.copy()
        copy["signer_infos"] = cms.SignerInfos([info])
        out.append(copy)
    return out


def _present(value) -> bool:
    # Never .native on attributes: building it for a timestamp token costs asn1crypto a second.
    return not isinstance(value, core.Void) and len(value) > 0


def _unsigned_types(signer_info: cms.SignerInfo) -> set[str]:
    attrs = signer_info["unsigned_attrs"]
    return {attr["type"].dotted for attr in attrs} if _present(attrs) else set()


def has_signature_timestamp(signer_info: cms.SignerInfo) -> bool:
    return next(generic_cms.extract_tst_data_iter(signer_info, signed=False), None) is not None


def cades_level(signed_data: cms.SignedData, signer_info: cms.SignerInfo) -> tuple[str, str]:
    """(format, level) of a CMS signature: CAdES baseline when it carries the ESS signing certificate."""
    signed = signer_info["signed_attrs"]
    is_cades = _present(signed) and generic_cms.get_signing_cert_attr(signed) is not None
    unsigned = _unsigned_types(signer_info)
    if ARCHIVE_TIMESTAMP_V3 in unsigned:
        level = "LTA"
    elif has_signature_timestamp(signer_info):
        embedded_revinfo = _present(signed_data["crls"])
        level = "LT" if embedded_revinfo or {CERTIFICATE_VALUES, REVOCATION_VALUES} <= unsigned else "T"
    else:
        level = "B"
    return ("CAdES", f"CAdES-BASELINE-{level}") if is_cades else ("CMS", f"CMS-{level}")


def claimed_time(signer_info: cms.SignerInfo) -> datetime | None:
    try:
        value = find_unique_cms_attribute(signer_info["signed_attrs"], "signing_time").native
    except (NonexistentAttributeError, ValueError, KeyError):
        return None
    return value.astimezone(UTC) if isinstance(value, datetime) else None


def token_time(signer_info: cms.SignerInfo) -> tuple[datetime | None, str | None]:
    """Time and TSA of the (first) signature timestamp token, as the token states it."""
    for token in generic_cms.extract_tst_data_iter(signer_info, signed=False):
        try:
            info = token["encap_content_info"]["content"].parsed
            if not isinstance(info, tsp.TSTInfo):
                info = tsp.TSTInfo.load(token["encap_content_info"]["content"].native)
            tsa = None
            for cert in token["certificates"] or []:
                if cert.name == "certificate":
                    tsa = common.name_fr(cert.chosen.subject)
                    break
            return info["gen_time"].native.astimezone(UTC), tsa
        except (ValueError, KeyError, TypeError, AttributeError):
            return None, None
    return None, None


def raw_digest_of(signer_info: cms.SignerInfo, content: bytes) -> bytes:
    algorithm = signer_info["digest_algorithm"]["algorithm"].native
    try:
        return hashlib.new(algorithm, content).digest()
    except ValueError:
        raise DocumentRejected("signature_algorithm_unsupported",
                               f"Algorithme d'empreinte non pris en charge : {algorithm}.", "signature") from None


async def run_process(signed_data: cms.SignedData, spec: SignatureValidationSpec, *, raw_digest: bytes | None,
                      timing: ValidationTimingInfo, embedded_pdf_sig=None, lta: bool = False):
    """The ETSI process that fits the signature: basic (B-B), with time (B-T, B-LT) or LTA."""
    signer_info = signed_data["signer_infos"][0]
    if embedded_pdf_sig is not None and lta:
        process, result = "LTA", await ades.ades_lta_validation(embedded_pdf_sig, PdfSignatureValidationSpec(spec),
                                                                timing_info=timing)
    elif has_signature_timestamp(signer_info):
        process, result = "LTVM", await ades.ades_with_time_validation(signed_data, spec, raw_digest=raw_digest,
                                                                       timing_info=timing)
    else:
        process, result = "Basic", await ades.ades_basic_validation(signed_data, spec, raw_digest=raw_digest,
                                                                    timing_info=timing)
    cause = None
    if result.ades_subindic not in (None, AdESPassed.OK):
        try:
            certs = extract_certificate_info(signed_data)
            better, cause = await common.classify_chain_failure(result.ades_subindic, certs.signer_cert,
                                                                certs.other_certs, spec, timing)
        except (ValueError, KeyError, TypeError):
            better = None
        if cause == common.REVOCATION_NOT_REQUIRED:
            # Every certificate without revocation service is exempt: the same process, not requiring it.
            process, result, again = await run_process(signed_data, common.without_required_revocation(spec),
                                                       raw_digest=raw_digest, timing=timing,
                                                       embedded_pdf_sig=embedded_pdf_sig, lta=lta)
            return process, result, again or cause
        if better is not None and better != result.ades_subindic:
            result = dataclasses.replace(result, ades_subindic=better)
    return process, result, cause


def finding(*, signed_data: cms.SignedData, result, process: str, fmt: str, level: str, material: TrustMaterial,
            config: ValidationConfig, timing: ValidationTimingInfo, claimed: datetime | None, index: int,
            identifier: str, cause: str | None = None, integrity_extra: dict | None = None, dtbsr: bytes | None = None,
            signers_document_digest: tuple[str, bytes] | None = None) -> dict:
    """The report entry of one CMS signer, from pyHanko's AdES result."""
    signer_info = signed_data["signer_infos"][0]
    status = result.api_status
    try:
        cert_info = extract_certificate_info(signed_data)
        signer_cert, embedded = cert_info.signer_cert, cert_info.other_certs
    except (ValueError, KeyError, TypeError) as exc:
        raise DocumentRejected("signature_unreadable",
                               "Le certificat du signataire est absent de la signature.", "signature") from exc
    subindic = result.ades_subindic
    timestamp, proven = _signature_timestamp(signer_info, status)
    best_time = getattr(result, "best_signature_time", None) or timing.best_signature_time
    if proven is not None:
        best_time = min(best_time, proven) if best_time else proven
    subindic = common.time_guard(subindic, signer_cert, proven)
    indication, sub = common.indication_of(subindic)
    if indication == common.TOTAL_PASSED and (integrity_extra or {}).get("coverage") in ("partial", "unclear"):
        # A PDF byte range that leaves holes is how signature-wrapping attacks work: not a valid PAdES.
        indication, sub = common.TOTAL_FAILED, "FORMAT_FAILURE"
    path = status.validation_path if status is not None else None
    chain = common.chain(path, signer_cert, embedded, material)
    cert = common.certificate(signer_cert)
    intact = status.intact if status is not None else sub != "HASH_FAILURE"
    valid = status.valid if status is not None else sub not in ("HASH_FAILURE", "SIG_CRYPTO_FAILURE")
    integrity = {"intact": bool(intact), "signature_valid": bool(valid and intact)}
    integrity.update(integrity_extra or {})
    qual_result = getattr(status, "qualification_result", None) if status is not None else None
    if qual_result is None and path is not None and indication != common.TOTAL_FAILED:
        # pyHanko leaves it out when the process stops early (a revoked signer): DSS still reports
        # « Indeterminate QESig », so assess the path it found.
        qual_result = QualificationAssessor(material.registry).check_entity_cert_qualified(path, moment=proven)
    entry = {
        "index": index, "id": identifier, "format": fmt, "level": level, "validation_process": process,
        "signer": common.signer(signer_cert), "certificate": cert, "chain": chain,
        "claimed_signing_time": iso(claimed), "timestamp": timestamp,
        "best_signature_time": iso(best_time), "validation_time": iso(timing.validation_time),
        "integrity": integrity,
        "certificate_validity": common.validity_at(signer_cert, proven, claimed),
        "revocation": common.revocation(signer_cert, result.validation_objects, status, config.revocation_mode,
                                        subindic, cause),
        "indication": indication, "sub_indication": sub,
        "cause": cause if indication != common.TOTAL_PASSED else None,
        "digest_algorithm": signer_info["digest_algorithm"]["algorithm"].native,
        "signature_algorithm": signer_info["signature_algorithm"].signature_algo,
        "warnings": [],
    }
    entry["qualification"] = qualification(qual_result, indication, cert, chain, material)
    entry["certificate_validity"]["revoked_before"] = common.revoked_before(entry["revocation"], proven or claimed)
    entry["verdict"] = verdict(entry)
    entry["evidence"] = _evidence(signer_info, signer_cert, result, entry["digest_algorithm"], dtbsr,
                                  signers_document_digest)
    return entry


def _signature_timestamp(signer_info, status) -> tuple[dict | None, datetime | None]:
    """The signature's timestamp as the report shows it (time, TSA, valid) and the time it proves (None unless
    the timestamp is intact, valid and trusted)."""
    ts_status = getattr(status, "timestamp_validity", None) if status is not None else None
    stamped_at, tsa = token_time(signer_info)
    if stamped_at is None and ts_status is None:
        return None, None
    valid_ts = ts_status is not None and ts_status.intact and ts_status.valid and ts_status.trusted
    timestamp = {"time": iso(ts_status.timestamp if ts_status else stamped_at),
                 "tsa": common.name_fr(ts_status.signing_cert.subject) if ts_status else tsa,
                 "valid": bool(valid_ts)}
    return timestamp, ts_status.timestamp if valid_ts else None


def _evidence(signer_info, signer_cert, result, digest_algorithm: str, dtbsr: bytes | None,
              signers_document_digest: tuple[str, bytes] | None) -> dict:
    """What the ETSI report carries as proof: the signature value, the digest of the signed data (DTBSR), the
    signed document's digest, the signer's certificate and the validation objects used."""
    return {
        "signature_value": common.b64(signer_info["signature"].native),
        "dtbsr": {"algorithm": digest_algorithm,
                  "value": common.b64(hashlib.new(digest_algorithm, dtbsr or signer_info["signed_attrs"]
                                                  .dump()).digest())},
        "signers_document": ({"algorithm": signers_document_digest[0],
                              "value": common.b64(signers_document_digest[1])} if signers_document_digest else None),
        "signer_certificate": common.b64(signer_cert.dump()),
        "validation_objects": common.validation_objects_evidence(result.validation_objects),
    }


def encapsulated_content(der: bytes) -> bytes | None:
    """The content an enveloping CMS signs (None when detached or unreadable)."""
    try:
        value = cms.ContentInfo.load(der)["content"]["encap_content_info"]["content"].native
    except (ValueError, TypeError, KeyError):
        return None
    return bytes(value) if value is not None else None


async def validate_cades(der: bytes, content: bytes | None, *, material: TrustMaterial, spec: SignatureValidationSpec,
                         config: ValidationConfig, timing: ValidationTimingInfo) -> list[dict]:
    """A detached CAdES signature over ``content``, or an enveloping one (``content`` None)."""
    try:
        info = cms.ContentInfo.load(der, strict=True)
        signed_data = info["content"]
        # Walk the structure now (garbage must fail here, not deep inside); not .native: on
        # SignedData with timestamp tokens asn1crypto takes seconds to build it.
        for signer_info in signed_data["signer_infos"]:
            signer_info["signed_attrs"].contents  # noqa: B018
        len(signed_data["certificates"] or [])
    except (ValueError, TypeError, KeyError, OverflowError):
        raise DocumentRejected("signature_unreadable", "La signature CMS est illisible ou corrompue.",
                               "signature") from None
    encapsulated = signed_data["encap_content_info"]["content"]
    if content is None:
        if encapsulated.native is None:
            raise DocumentRejected("signed_file_missing", "Cette signature est détachée : joignez aussi le "
                                                          "fichier signé.", "signature")
        content = bytes(encapsulated.native) if not isinstance(encapsulated.native, bytes) else encapsulated.native
        detached = False
    else:
        if encapsulated.native is not None:
            raise DocumentRejected("signature_not_detached", "Cette signature contient déjà le document signé : "
                                                             "envoyez-la seule.", "signature")
        detached = True
    per_signer = signer_infos(signed_data)
    if len(per_signer) > config.max_signatures:
        raise DocumentRejected("too_many_signatures", f"Trop de signatures (plus de {config.max_signatures}).")
    findings = []
    for index, single in enumerate(per_signer, start=1):
        try:
            findings.append(await _one_signer(single, index, content, detached, material=material, spec=spec,
                                              config=config, timing=timing))
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            raise DocumentRejected("signature_unreadable", "La signature CMS est illisible ou corrompue.",
                                   "signature") from None
    return findings


async def _one_signer(single: cms.SignedData, index: int, content: bytes, detached: bool, *, material: TrustMaterial,
                      spec: SignatureValidationSpec, config: ValidationConfig, timing: ValidationTimingInfo) -> dict:
    signer_info = single["signer_infos"][0]
    fmt, level = cades_level(single, signer_info)
    digest = raw_digest_of(signer_info, content)
    process, result, cause = await run_process(single, spec, raw_digest=digest if detached else None,
                                               timing=timing)
    entry = finding(signed_data=single, result=result, process=process, fmt=fmt, level=level, cause=cause,
                    material=material, config=config, timing=timing, claimed=claimed_time(signer_info),
                    index=index, identifier=f"signature-{index}",
                    integrity_extra={"packaging": "detached" if detached else "enveloping"},
                    signers_document_digest=(signer_info["digest_algorithm"]["algorithm"].native, digest))
    return entry

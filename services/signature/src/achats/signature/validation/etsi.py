"""The ETSI TS 119 102-2 validation report (XML), written from a stored verification report.

pyHanko's own report generator covers one PDF signature; this one covers every signature of a
document in any format, with the same generated TS 119 102-2 bindings, and adds what pyHanko leaves
out: the signature quality (the qualification label) and the signer's name.
"""

from __future__ import annotations

import base64
from datetime import datetime

from pyhanko.generated.etsi import ts_11910202, xades
from pyhanko.generated.w3c import xmldsig_core
from pyhanko.sign.validation.report.tools import DIGEST_ALGO_URIS, NAMESPACES
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig
from xsdata.models.datatype import XmlDateTime

MAIN = {"TOTAL_PASSED": "urn:etsi:019102:mainindication:total-passed",
        "TOTAL_FAILED": "urn:etsi:019102:mainindication:total-failed",
        "INDETERMINATE": "urn:etsi:019102:mainindication:indeterminate"}
OBJECT_TYPES = {"CERTIFICATE": "urn:etsi:019102:validationObject:certificate",
                "CRL": "urn:etsi:019102:validationObject:CRL",
                "OCSP_RESPONSE": "urn:etsi:019102:validationObject:OCSPResponse"}
QUALITY = "urn:cef:dss:signatureQualification:"


def _time(value: str | None) -> XmlDateTime | None:
    return XmlDateTime.from_datetime(datetime.fromisoformat(value.replace("Z", "+00:00"))) if value else None


def _digest(entry: dict | None) -> xades.DigestAlgAndValueType | None:
    if not entry or entry.get("algorithm") not in DIGEST_ALGO_URIS:
        return None
    return xades.DigestAlgAndValueType(digest_method=xmldsig_core.DigestMethod(DIGEST_ALGO_URIS[entry["algorithm"]]),
                                       digest_value=xmldsig_core.DigestValue(base64.b64decode(entry["value"])))


def _signature_report(signature: dict) -> ts_11910202.SignatureValidationReportType:
    evidence = signature["evidence"]
    signer_vo = next((vo["id"] for vo in evidence["validation_objects"]
                      if vo["type"] == "CERTIFICATE" and vo["der"] == evidence["signer_certificate"]), None)
    attributes = ts_11910202.SignatureAttributesType(
        signing_time=((ts_11910202.SASigningTimeType(signed=True, time=_time(signature["claimed_signing_time"])),)
                      if signature["claimed_signing_time"] else ()),
        signature_time_stamp=((ts_11910202.SATimestampType(
            signed=False, time_stamp_value=_time(signature["timestamp"]["time"])),)
            if signature.get("timestamp") and signature["timestamp"].get("time") else ()))
    best_time = None
    if signature.get("best_signature_time"):
        best_time = ts_11910202.POEType(poetime=_time(signature["best_signature_time"]),
                                        type_of_proof="urn:etsi:019102:poetype:validation")
    sub = signature["sub_indication"]
    return ts_11910202.SignatureValidationReportType(
        signature_identifier=ts_11910202.SignatureIdentifierType(
            digest_alg_and_value=_digest(evidence["dtbsr"]),
            signature_value=xmldsig_core.SignatureValue(base64.b64decode(evidence["signature_value"])),
            hash_only=False, doc_hash_only=False, id=f"S-{signature['index']}"),
        validation_time_info=ts_11910202.ValidationTimeInfoType(
            validation_time=_time(signature["validation_time"]), best_signature_time=best_time),
        signers_document=(ts_11910202.SignersDocumentType(digest_alg_and_value=_digest(evidence["signers_document"]))
                          if evidence.get("signers_document") else None),
        signature_attributes=attributes,
        signer_information=ts_11910202.SignerInformationType(
            signer_certificate=ts_11910202.VOReferenceType(voreference=(signer_vo,)) if signer_vo else None,
            signer=signature["signer"]["name"]),
        signature_quality=ts_11910202.SignatureQualityType(
            signature_quality_information=(QUALITY + signature["qualification"]["label"].replace(" ", "_"),)),
        signature_validation_process=ts_11910202.SignatureValidationProcessType(
            signature_validation_process_id=f"urn:etsi:019102:validationprocess:{signature['validation_process']}"),
        signature_validation_status=ts_11910202.ValidationStatusType(
            main_indication=MAIN[signature["indication"]],
            sub_indication=(f"urn:etsi:019102:subindication:{sub}",) if sub else ()),
    )


def render(report: dict) -> str:
    """The XML report of a stored verification (with its ``evidence``)."""
    objects: dict[str, ts_11910202.ValidationObjectType] = {}
    for signature in report["signatures"]:
        for vo in signature["evidence"]["validation_objects"]:
            objects.setdefault(vo["id"], ts_11910202.ValidationObjectType(
                id=vo["id"], object_type=OBJECT_TYPES[vo["type"]],
                validation_object_representation=ts_11910202.ValidationObjectRepresentationType(
                    base64=base64.b64decode(vo["der"]))))
    document = ts_11910202.ValidationReport(
        signature_validation_report=tuple(_signature_report(s) for s in report["signatures"]),
        signature_validation_objects=ts_11910202.ValidationObjectListType(tuple(objects.values()))
        if objects else None)
    return XmlSerializer(config=SerializerConfig(indent="  ")).render(document, ns_map=NAMESPACES)

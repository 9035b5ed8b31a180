"""Validation of a signed document, whatever its format: the report of every signature it holds."""

from __future__ import annotations

import hashlib

from pyhanko_certvalidator.fetchers.api import FetcherBackend
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo

from achats.chassis.clock import iso

from .. import uploads
from ..trust.lists import TrustMaterial
from . import common, xades
from .cms import encapsulated_content, validate_cades
from .common import DocumentRejected, ValidationConfig
from .fetching import CachingFetcherBackend
from .pdf import validate_pdf
from .verdict import document_verdict, verdict
from .xades import validate_xades

__all__ = ["DocumentRejected", "ValidationConfig", "pair", "verify"]

NOT_RECOGNISED = ("Ce fichier n'est ni un PDF ni une signature électronique reconnue. Envoyez un PDF signé, une "
                  "signature enveloppante (.p7m, .xml), ou le fichier signé avec sa signature détachée (.p7s, .xml).")


def pair(first: uploads.Upload, second: uploads.Upload | None) -> tuple[uploads.Upload, uploads.Upload | None]:
    """(signed document, detached signature): the signature file is recognised by its content, so that
    swapping the two upload fields does not matter."""
    if second is None:
        if first.kind == uploads.OTHER:
            # Alone, a file must carry its signatures (PDF, enveloping CMS) or be one: anything else
            # is refused before any validation, and nothing is recorded.
            raise DocumentRejected("file_not_recognised", NOT_RECOGNISED)
        return first, None
    signatures = (uploads.CMS, uploads.XML_SIGNATURE)
    if second.kind in signatures and first.kind not in signatures:
        return first, second
    if first.kind in signatures and second.kind not in signatures:
        return second, first
    if first.kind in signatures and second.kind in signatures:
        # Both look like signatures: the one in the « signature » field is the signature.
        return (first, second) if second.field == "signature" else (second, first)
    raise DocumentRejected("signature_unreadable", "Le second fichier n'est pas une signature CAdES (.p7s) ni "
                                                   "XAdES (.xml).", "signature")


async def verify(document: uploads.Upload, signature: uploads.Upload | None, material: TrustMaterial,
                 config: ValidationConfig, backend: FetcherBackend | None = None) -> dict:
    """The full report (with evidence for the ETSI XML report) of ``document`` and its detached signature.

    ``backend``: the worker process's fetchers (kept between jobs); without it, a fresh one for this call.
    """
    timing = ValidationTimingInfo.now()
    owned = backend is None
    if backend is None:
        backend = CachingFetcherBackend(config.fetch_timeout, 0)
    spec = common.validation_spec(material, config, backend)
    kwargs = {"material": material, "spec": spec, "config": config, "timing": timing}
    try:
        if signature is None:
            if document.kind == uploads.PDF:
                findings, fmt = await validate_pdf(document.content, **kwargs), "PAdES"
            elif document.kind == uploads.CMS:
                if not document.enveloping:
                    raise DocumentRejected("signed_file_missing", "Cette signature est détachée : joignez aussi le "
                                                                  "fichier signé.")
                findings, fmt = await validate_cades(document.der, None, **kwargs), "CAdES"
            elif document.kind == uploads.XML_SIGNATURE:
                if xades.is_detached(document.content):
                    raise DocumentRejected("signed_file_missing", "Cette signature XAdES est détachée : joignez "
                                                                  "aussi le fichier signé.")
                if not xades.is_enveloping(document.content):
                    raise DocumentRejected("signature_unreadable", "La signature XML ne désigne aucun contenu "
                                                                   "signé sans ambiguïté (ni fichier, ni objet "
                                                                   "unique qu'elle contient).")
                findings, fmt = await validate_xades(document.content, None, **kwargs), "XAdES"
            else:  # pair() refuses anything else
                raise DocumentRejected("file_not_recognised", NOT_RECOGNISED)
        elif signature.kind == uploads.CMS:
            findings, fmt = await validate_cades(signature.der, document.content, **kwargs), "CAdES"
        else:
            if xades.is_enveloping(signature.content):
                raise DocumentRejected("signature_not_detached", "Cette signature contient déjà le document "
                                                                 "signé : envoyez-la seule.", "signature")
            findings, fmt = await validate_xades(signature.content, document.content, **kwargs), "XAdES"
    finally:
        if owned:
            await backend.close()
    if signature is not None and uploads.is_zip(document.content):
        for entry in findings:
            entry["signed_file_is_zip"] = True
            entry["verdict"] = verdict(entry)
    if fmt == "PAdES" and findings and all(f["format"] == "PKCS7" for f in findings):
        fmt = "PKCS7"
    signed_content = _signed_content(document) if signature is None and findings else None
    return {
        "format": fmt,
        # Popped by the caller: stored next to the report for its download, never in the JSON.
        "_signed_content": signed_content[1] if signed_content else None,
        "signed_content": signed_content[0] if signed_content else None,
        "document": _describe(document),
        "signature_file": _describe(signature) if signature is not None else None,
        "signature_count": len(findings),
        "indication": common.document_indication(findings),
        "validation_time": iso(timing.validation_time),
        "verdict": document_verdict(findings),
        "signatures": findings,
    }


def _describe(upload: uploads.Upload) -> dict:
    return {"filename": upload.filename, "size": len(upload.content), "media_type": upload.media_type,
            "sha256": hashlib.sha256(upload.content).hexdigest()}


DEFAULT_NAME = "contenu-signe"


def _signed_content(document: uploads.Upload) -> tuple[dict, bytes] | None:
    """What an enveloping signature signs — its description for the report, and its bytes — or None.

    The name: the ``.p7m`` file's name without ``.p7m`` (« offre.pdf.p7m » → « offre.pdf »); for XAdES,
    the signed object's Id when it is a file name; else « contenu-signe » and the extension of its type.
    """
    if document.kind == uploads.CMS and document.enveloping:
        content = encapsulated_content(document.der)
        declared, object_id = None, None
        base = document.filename or ""
        name = base[:-4] if base.lower().endswith(".p7m") and len(base) > 4 else None
    elif document.kind == uploads.XML_SIGNATURE:
        found = xades.enveloped_content(document.content)
        if found is None:
            return None
        content, declared, object_id = found
        name = object_id if object_id and "." in object_id.strip(".") else None
    else:
        return None
    if content is None:
        return None
    media_type = declared or uploads.guess_media_type(content)
    if not name:
        name = DEFAULT_NAME + uploads.extension_of(media_type)
    return {"filename": name, "size": len(content), "media_type": media_type,
            "sha256": hashlib.sha256(content).hexdigest()}, content

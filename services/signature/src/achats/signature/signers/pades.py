"""PAdES signing with pyHanko's interrupted signing: prepare (placeholder + data to be signed), then finish
with a signature value — made by the user's device (two steps) or by us from a PKCS#12 (one shot)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from asn1crypto import cms
from pyhanko.pdf_utils.crypt.api import AuthStatus
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.validation import dss
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ..trust.lists import TrustMaterial
from ..validation.common import CombinedTrustManager, DocumentRejected
from ..validation.pdf import BROKEN
from .credentials import DIGEST, Credentials

STAMP_TEXT = "Signé électroniquement par %(signer)s\nle %(ts)s"


@dataclass(frozen=True)
class Stamp:
    page: int = 1
    x: float = 50
    y: float = 50
    width: float = 250
    height: float = 60


def _placeholder(credentials: Credentials) -> bytes:
    key = credentials.certificate.public_key
    if key.algorithm == "rsa":
        return bytes(key.bit_size // 8)
    return bytes(2 * ((key.bit_size + 7) // 8) + 8)


def _external_signer(credentials: Credentials, value: bytes) -> signers.ExternalSigner:
    return signers.ExternalSigner(signing_cert=credentials.certificate,
                                  cert_registry=SimpleCertificateStore.from_certs(credentials.chain),
                                  signature_value=value)


def _writer(document: bytes) -> IncrementalPdfFileWriter:
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(document), strict=False)
        if writer.prev.encrypted:
            if writer.prev.decrypt("").status == AuthStatus.FAILED:
                raise DocumentRejected("pdf_encrypted", "Le PDF est protégé par un mot de passe : il ne peut pas être "
                                                        "signé. Envoyez le document non chiffré.")
            writer.encrypt("")
        return writer
    except DocumentRejected:
        raise
    except BROKEN:
        raise DocumentRejected("pdf_unreadable", "Le PDF est illisible, tronqué ou mal formé : il ne peut pas être "
                                                 "signé.") from None


async def prepare(document: bytes, credentials: Credentials, *, field_name: str, timestamper, stamp: Stamp | None,
                  reason: str | None, location: str | None) -> tuple[bytes, dict, bytes]:
    """(data to be signed, state, prepared document) — the document holds the signature placeholder."""
    writer = _writer(document)
    existing = {entry[0] for entry in fields.enumerate_sig_fields(writer.prev, filled_status=True)}
    if field_name in existing:
        raise DocumentRejected("field_exists", f"Le document contient déjà un champ de signature « {field_name} ».")
    meta = signers.PdfSignatureMetadata(field_name=field_name, subfilter=SigSeedSubFilter.PADES, md_algorithm=DIGEST,
                                        reason=reason or None, location=location or None)
    spec = None
    if stamp is not None:
        pages = int(writer.prev.root["/Pages"]["/Count"])
        if not 1 <= stamp.page <= pages:
            raise DocumentRejected("stamp_page_invalid", f"La page {stamp.page} n'existe pas (le document a {pages} "
                                                         "page(s)).", "stamp_page")
        spec = fields.SigFieldSpec(field_name, on_page=stamp.page - 1,
                                   box=(stamp.x, stamp.y, stamp.x + stamp.width, stamp.y + stamp.height))
    external = _external_signer(credentials, _placeholder(credentials))
    pdf_signer = signers.PdfSigner(
        meta, signer=external, timestamper=timestamper, new_field_spec=spec,
        stamp_style=TextStampStyle(stamp_text=STAMP_TEXT, timestamp_format="%d/%m/%Y %H:%M UTC")
        if stamp is not None else None)
    try:
        prepared, _tbs, output = await pdf_signer.async_digest_doc_for_signing(writer)
    except BROKEN:
        raise DocumentRejected("pdf_unreadable", "Le PDF ne peut pas être préparé pour la signature (structure "
                                                 "non prise en charge).") from None
    signed_attrs = await external.signed_attrs(prepared.document_digest, DIGEST, use_pades=True)
    state = {"document_digest": _b64(prepared.document_digest), "region": [prepared.reserved_region_start,
                                                                           prepared.reserved_region_end],
             "signed_attrs": _b64(signed_attrs.dump()), "field_name": field_name}
    return signed_attrs.dump(), state, output.getvalue()


async def finish(prepared_document: bytes, state: dict, credentials: Credentials, signature_value: bytes, *,
                 timestamper, long_term: bool, material: TrustMaterial, fetch_timeout: float) -> bytes:
    external = _external_signer(credentials, signature_value)
    signed_attrs = cms.CMSAttributes.load(base64.b64decode(state["signed_attrs"]))
    signature = await external.async_sign_prescribed_attributes(DIGEST, signed_attrs, timestamper=timestamper)
    start, end = state["region"]
    prepared = PreparedByteRangeDigest(document_digest=base64.b64decode(state["document_digest"]),
                                       reserved_region_start=start, reserved_region_end=end)
    output = io.BytesIO(prepared_document)
    await PdfTBSDocument.async_finish_signing(output, prepared, signature)
    if long_term:
        return await add_long_term_data(output.getvalue(), state["field_name"], material, fetch_timeout)
    return output.getvalue()


async def add_long_term_data(signed: bytes, field_name: str, material: TrustMaterial, fetch_timeout: float) -> bytes:
    """B-LT: the chain and its OCSP/CRL answers in the document security store, in an incremental update."""
    reader = PdfFileReader(io.BytesIO(signed), strict=False)
    embedded = next(s for s in reader.embedded_regular_signatures if s.field_name == field_name)
    backend = AIOHttpFetcherBackend(per_request_timeout=fetch_timeout)
    context = ValidationContext(trust_manager=CombinedTrustManager(material.registry, material.anchors),
                                allow_fetching=True, fetcher_backend=backend, revocation_mode="hard-fail")
    try:
        output = await dss.async_add_validation_info(embedded, context)
    except Exception as exc:  # any reason the chain cannot be completed means no B-LT
        raise DocumentRejected("long_term_unavailable", "Impossible d'ajouter les données de validation (B-LT) : "
                                                        "le certificat n'a pas pu être validé (autorité non reconnue, "
                                                        "révoqué, expiré ou service OCSP/CRL injoignable).") from exc
    finally:
        await backend.close()
    return output.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()

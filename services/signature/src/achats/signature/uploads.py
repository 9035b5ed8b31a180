"""What an uploaded file is, judged by its bytes (never its name): PDF, CMS signature, XML signature, other."""

from __future__ import annotations

import base64
import binascii
import io
import mimetypes
import re
import zipfile
from dataclasses import dataclass

from asn1crypto import cms, pem

from achats.chassis import files
from achats.chassis.observability import human_size
from achats.chassis.problems import FieldError, Problem

PDF = "pdf"
CMS = "cms"
XML_SIGNATURE = "xml-signature"
OTHER = "other"
XMLDSIG = b"http://www.w3.org/2000/09/xmldsig#"
_BASE64 = re.compile(rb"^[A-Za-z0-9+/=\s]+$")


@dataclass(frozen=True)
class Upload:
    field: str
    filename: str
    content: bytes
    kind: str
    # For CMS: the DER bytes (PEM and base64 are unwrapped) and whether the content is inside.
    der: bytes | None = None
    enveloping: bool = False

    @property
    def media_type(self) -> str:
        return {PDF: "application/pdf", CMS: "application/pkcs7-signature",
                XML_SIGNATURE: "application/xml"}.get(self.kind) or guess_media_type(self.content)


def extension_of(media_type: str) -> str:
    """The usual file extension of a media type (a default name for content that has none)."""
    known = {"application/pdf": ".pdf", "application/xml": ".xml", "text/xml": ".xml", "text/plain": ".txt",
             "application/zip": ".zip"}
    return known.get(media_type) or mimetypes.guess_extension(media_type) or ".bin"


def guess_media_type(content: bytes) -> str:
    """What the signed file is (XAdES DataObjectFormat, reports): the chassis' sniffing, else generic."""
    if content.startswith(b"PK\x03\x04") and is_zip(content):
        return "application/zip"
    if content.lstrip().startswith(b"<"):
        return "application/xml"
    return files.sniff(content) or "application/octet-stream"


def is_zip(content: bytes) -> bool:
    """A plain archive, not an office document (those are zips too: the chassis recognises them)."""
    if not content.startswith(b"PK\x03\x04") or files.sniff(content) is not None:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(content)):
            return True
    except zipfile.BadZipFile:
        return False


def _as_der(content: bytes) -> bytes | None:
    if content[:1] == b"\x30":
        return content  # binary DER: never strip it, its last bytes may well be "whitespace"
    stripped = content.strip()
    if pem.detect(stripped):
        try:
            _type, _headers, der = pem.unarmor(stripped)
            return der
        except ValueError:
            return None
    if stripped[:2] == b"MI" and _BASE64.match(stripped[:4096]):
        # Base64 without PEM armour (some tools write .p7s files that way).
        try:
            return base64.b64decode(b"".join(stripped.split()), validate=True)
        except (binascii.Error, ValueError):
            return None
    return None


# What is read of an upload to tell what it is: never the whole file (30 MB of zeros are judged by
# their first bytes, without a copy or a scan to the end).
HEAD = 4096


def _looks_like_cms(content: bytes) -> bool:
    head = content[:HEAD].lstrip()
    return head[:1] == b"\x30" or b"-----BEGIN" in head or head[:2] == b"MI"


def _is_pdf(content: bytes) -> bool:
    return b"%PDF-" in content[:1024]


def _is_xml_signature(content: bytes) -> bool:
    head = content[:HEAD].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<") and XMLDSIG in content[:1_000_000]


def classify(field: str, filename: str, content: bytes) -> Upload:
    """Sort an upload by its bytes; a would-be CMS that does not parse is refused (422)."""
    if content[:1] == b"\x30":
        # Binary DER first: an enveloping CMS of a PDF holds « %PDF- » within its first kilobyte.
        enveloping = _load_signed_data(content)
        if enveloping is not None:
            return Upload(field, filename, content, CMS, der=content, enveloping=enveloping)
    if _is_pdf(content):
        return Upload(field, filename, content, PDF)
    if _is_xml_signature(content):
        return Upload(field, filename, content, XML_SIGNATURE)
    if _looks_like_cms(content):
        der = _as_der(content)
        info = _load_signed_data(der) if der else None
        if info is not None:
            return Upload(field, filename, content, CMS, der=der, enveloping=info)
        if field == "signature" or content[:1] != b"\x30":
            raise unreadable_signature(field)
    return Upload(field, filename, content, OTHER)


def _load_signed_data(der: bytes) -> bool | None:
    """Whether the SignedData carries its content (enveloping); None when it is not a SignedData."""
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            return None
        signed_data = info["content"]
        encapsulated = signed_data["encap_content_info"]["content"]
        return encapsulated.native is not None
    except (ValueError, TypeError, KeyError, OverflowError):
        return None


def unreadable_signature(field: str) -> Problem:
    return Problem(status=422, code="signature_unreadable",
                   detail="Le fichier de signature est illisible : ce n'est pas une signature CAdES (.p7s) "
                          "ni XAdES (.xml) valide.",
                   errors=[FieldError(field, "Signature illisible ou corrompue.")])


def check_size(field: str, content: bytes, limit: int) -> None:
    if len(content) > limit:
        raise Problem(status=413, code="file_too_large",
                      detail=f"Le fichier dépasse la taille maximale autorisée ({human_size(limit)}).",
                      errors=[FieldError(field, f"Taille maximale : {human_size(limit)}.")])
    if not content:
        raise Problem(status=422, code="file_empty", detail="Le fichier envoyé est vide.",
                      errors=[FieldError(field, "Fichier vide.")])


def sniff_kind(content: bytes) -> str:
    """For signing: a PDF (PAdES possible) or any other file (CAdES, XAdES)."""
    return PDF if _is_pdf(content) else OTHER

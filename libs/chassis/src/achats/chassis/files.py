"""Uploaded files judged by their bytes, never by their name or declared type, and named safely."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from urllib.parse import quote

_TEXT_CONTROLS = set(range(0, 32)) - {9, 10, 12, 13}
IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff"})
OFFICE = frozenset({
    "application/x-ole-storage",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
})
PDF = frozenset({"application/pdf"})
TEXT = frozenset({"text/plain"})


def sniff(content: bytes) -> str | None:
    """The media type of ``content`` judged by its bytes, or None when it is none of the known kinds
    (images, PDF, office documents: OOXML by its parts, legacy OLE2, OpenDocument; plain UTF-8 text).
    Callers accept the subset they want.

    The name and the declared type of an upload are never trusted: an executable renamed ``.png``
    is still an executable.
    """
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if content.startswith(b"RIFF") and content[8:12] == b"WEBP":
        return "image/webp"
    if content.startswith(b"BM") and len(content) > 26 and content[14:18] in (
            b"\x0c\x00\x00\x00", b"\x28\x00\x00\x00", b"\x38\x00\x00\x00", b"\x6c\x00\x00\x00",
            b"\x7c\x00\x00\x00"):  # the sizes of the known BMP info headers
        return "image/bmp"
    if content.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"  # legacy .doc/.xls/.ppt
    if content.startswith(b"PK\x03\x04"):
        return _office_zip(content)
    return _text(content)


def _office_zip(content: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                kind = archive.read("mimetype").decode("ascii", "replace").strip()
                return kind if kind.startswith("application/vnd.oasis.opendocument.") else None
            if "[Content_Types].xml" in names:
                for folder, kind in (("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml"
                                               ".document"),
                                     ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                                     ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml"
                                              ".presentation")):
                    if any(name.startswith(folder) for name in names):
                        return kind
    except (zipfile.BadZipFile, KeyError, ValueError):
        return None
    return None


def _text(content: bytes) -> str | None:
    """Plain UTF-8 text (logs, error messages copied by hand): no control characters but blanks."""
    try:
        decoded = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not decoded.strip() or any(ord(ch) in _TEXT_CONTROLS for ch in decoded):
        return None
    return "text/plain"




def safe_name(filename: str | None, default: str = "document") -> str:
    """The last path component, without control characters or quotes (it goes in Content-Disposition)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"\r\n')
    return (name or default)[:255]


def content_disposition(filename: str | None, *, default: str = "document") -> str:
    """RFC 6266 ``attachment``: an ASCII ``filename`` for old clients, then the exact (safe) name as the RFC 5987
    ``filename*``, which every current browser prefers."""
    name = safe_name(filename, default)
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = "".join(ch if ch.isprintable() and ch not in '"\\;%' else "_" for ch in fallback).strip() or default
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_headers(filename: str | None, media_type: str, length: int) -> dict[str, str]:
    """The headers of a file given to download, the same in every service: its type (the one checked when it was
    stored, never guessed again by the browser: ``nosniff``), the attachment's name, its length, and no copy kept
    by the browser or a proxy (``private, no-store``: documents of a company, signed files, reports)."""
    return {"Content-Type": media_type, "Content-Disposition": content_disposition(filename),
            "Content-Length": str(length), "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}


def is_opendocument(kind: str | None) -> bool:
    return bool(kind) and kind.startswith("application/vnd.oasis.opendocument.")

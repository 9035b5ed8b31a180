"""Small files of known types, for the tests of what a service accepts by content (``chassis.files``): the vault's
documents, the helpdesk's attachments, the deposits' files."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

__all__ = ["EXE", "PDF", "docx", "plain_zip", "png"]

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200  # a Windows executable's header


def png(size: int = 2_000) -> bytes:
    """A real PNG (1 pixel) padded with an ancillary chunk to about ``size`` bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    pixels = chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
    padding = chunk(b"tEXt", b"Comment\x00" + b"x" * max(0, size - 80))
    return b"\x89PNG\r\n\x1a\n" + header + padding + pixels + chunk(b"IEND", b"")


def docx() -> bytes:
    """The smallest Office Open XML document: a zip holding ``[Content_Types].xml`` and ``word/document.xml``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def plain_zip() -> bytes:
    """A zip that is no office document (an executable inside): refused wherever documents are."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", EXE)
    return buffer.getvalue()

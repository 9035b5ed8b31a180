"""Reading uploads and answering files: the few lines every handler of this service shares."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

import flask

from achats.chassis.files import safe_name
from achats.chassis.problems import FieldError, Problem

from .. import uploads


def read(name: str, given, limit: int, *, required: bool = True) -> tuple[str, bytes] | None:
    """(filename, bytes) of an uploaded part, read within ``limit`` (+1 byte to detect overflow)."""
    upload = given or flask.request.files.get(name)
    if upload is None:
        if required:
            raise Problem(status=400, code="validation_failed", detail="Certaines données sont invalides.",
                          errors=[FieldError(name, "Ce champ est obligatoire.")])
        return None
    content = upload.read(limit + 1)
    uploads.check_size(name, content, limit)
    return safe_name(upload.filename, name), content


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII ``filename`` for old clients, then the exact name as RFC 5987 ``filename*``."""
    name = safe_name(filename, "document")
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = "".join(ch if ch.isprintable() and ch not in '"\\;%' else "_" for ch in fallback).strip() or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment(content: bytes, filename: str, media_type: str) -> flask.Response:
    return flask.Response(content, status=200, content_type=media_type, headers={
        "Content-Disposition": content_disposition(filename),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})

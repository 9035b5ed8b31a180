"""Reading uploads and answering files: the few lines every handler of this service shares."""

from __future__ import annotations

import flask

from achats.chassis.files import download_headers, safe_name
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


def attachment(content: bytes, filename: str, media_type: str) -> flask.Response:
    return flask.Response(content, status=200, headers=download_headers(filename, media_type, len(content)))

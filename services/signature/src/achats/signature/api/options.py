"""The signing options of the forms (format, level, visible stamp...), as the service layer takes them."""

from __future__ import annotations

from .. import signing, uploads
from ..signers import SigningRequest


def signing_request(body: dict, document: uploads.Upload) -> SigningRequest:
    return signing.build_request(
        document=document, format=body["format"], level=body.get("level") or "B-B",
        visible=_flag(body.get("visible")), page=int(body.get("stamp_page") or 1),
        x=float(body.get("stamp_x", 50)), y=float(body.get("stamp_y", 50)),
        width=float(body.get("stamp_width", 250)), height=float(body.get("stamp_height", 60)),
        reason=body.get("reason") or None, location=body.get("location") or None)


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)

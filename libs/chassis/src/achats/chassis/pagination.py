"""Cursor pagination of lists (DESIGN §6: `limit` and an opaque `cursor`)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from .problems import FieldError, Problem


def encode_cursor(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        position = None
    if not isinstance(position, dict):
        raise Problem(status=400, code="cursor_invalid", detail="Le curseur de pagination est invalide.",
                      errors=[FieldError("cursor", "Curseur invalide : reprenez la liste depuis le début.")])
    return position


def page(items: Sequence[Any], *, limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """One page of an already ordered list, and the cursor of the next page (None at the end)."""
    offset = decode_cursor(cursor).get("offset", 0)
    if not isinstance(offset, int) or offset < 0:
        raise Problem(status=400, code="cursor_invalid", detail="Le curseur de pagination est invalide.",
                      errors=[FieldError("cursor", "Curseur invalide : reprenez la liste depuis le début.")])
    chunk = list(items[offset:offset + limit])
    following = offset + limit
    return chunk, encode_cursor({"offset": following}) if following < len(items) else None

"""UTC times as the API speaks them: ISO 8601 with an offset (the columns read back aware: chassis MODEL_TYPES)."""

from __future__ import annotations

from datetime import UTC, datetime

from achats.chassis.db import utcnow

__all__ = ["iso", "utcnow"]


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()

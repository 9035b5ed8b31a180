"""CloudEvents 1.0 envelope in JSON structured mode: the shape of every event on the bus."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .. import clock

CONTENT_TYPE = "application/cloudevents+json"
_TYPE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9_-]+)+$")
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_CORE = {"specversion", "id", "source", "type", "time", "subject", "datacontenttype", "data",
         "dataschema"}


class InvalidEvent(ValueError):
    """A message that is not a CloudEvent we can handle: it goes to the dead-letter queue."""


@dataclass(frozen=True)
class CloudEvent:
    type: str
    source: str
    data: Any
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=clock.now)
    subject: str | None = None
    extensions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _TYPE.match(self.type):
            raise InvalidEvent(f"event type {self.type!r} is not <service>[.<entity>].<verb-past>")
        for name in self.extensions:
            if not _EXTENSION_NAME.match(name) or name in _CORE:
                raise InvalidEvent(f"invalid CloudEvents extension attribute name {name!r}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "specversion": "1.0",
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
        }
        if self.subject is not None:
            out["subject"] = self.subject
        out.update(self.extensions)
        out["data"] = self.data
        return out

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, body: bytes | str) -> CloudEvent:
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidEvent(f"not JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise InvalidEvent("a CloudEvent must be a JSON object")
        if raw.get("specversion") != "1.0":
            raise InvalidEvent(f"unsupported specversion {raw.get('specversion')!r}")
        for attr in ("id", "source", "type"):
            if not isinstance(raw.get(attr), str) or not raw[attr]:
                raise InvalidEvent(f"missing or empty attribute {attr!r}")
        try:
            time = datetime.fromisoformat(raw["time"]) if raw.get("time") else clock.now()
        except (TypeError, ValueError):
            raise InvalidEvent(f"invalid time {raw.get('time')!r}") from None
        extensions = {k: str(v) for k, v in raw.items() if k not in _CORE}
        return cls(type=raw["type"], source=raw["source"], data=raw.get("data"), id=raw["id"],
                   time=time, subject=raw.get("subject"), extensions=extensions)

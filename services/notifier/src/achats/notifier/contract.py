"""The events the notifier consumes, checked against its asyncapi.yaml: one contract for producers and for us."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from achats.chassis.bus import CloudEvent

ASYNCAPI = Path(__file__).parent / "asyncapi.yaml"
_BASE = "urn:achats:notifier:asyncapi"

format_checker = FormatChecker(["email"])


@format_checker.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    # ISO 8601 as Python reads it (with "Z" or an offset); the built-in check needs an extra package.
    if isinstance(value, str):
        datetime.fromisoformat(value)
    return True


@format_checker.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


class ContractViolation(ValueError):
    """The event does not carry what its mails need; ``errors`` says where."""

    def __init__(self, event_type: str, errors: list[str]):
        super().__init__(f"{event_type}: " + "; ".join(errors))
        self.errors = errors


@cache
def document() -> dict[str, Any]:
    with ASYNCAPI.open(encoding="utf-8") as file:
        return yaml.safe_load(file)


@cache
def _validators() -> dict[str, Draft202012Validator]:
    doc = document()
    registry = Registry().with_resource(_BASE, Resource.from_contents(doc, default_specification=DRAFT202012))
    validators = {}
    for key, message in doc["components"]["messages"].items():
        schema = {"$ref": f"{_BASE}#/components/messages/{key}/payload"}
        validators[message["name"]] = Draft202012Validator(schema, registry=registry, format_checker=format_checker)
    return validators


def consumed_types() -> list[str]:
    """Event types of the receive operations, in the document's order."""
    doc = document()
    channels = {f"#/channels/{key}": channel["address"] for key, channel in doc["channels"].items()}
    return [channels[op["channel"]["$ref"]] for op in doc["operations"].values() if op["action"] == "receive"]


def examples() -> dict[str, dict[str, Any]]:
    """The first example envelope of each message, by event type."""
    return {m["name"]: m["examples"][0]["payload"] for m in document()["components"]["messages"].values()}


def check_envelope(envelope: dict[str, Any]) -> None:
    """Raise ContractViolation unless ``envelope`` (a CloudEvent as JSON) matches its message's schema."""
    event_type = envelope.get("type")
    validator = _validators().get(event_type) if isinstance(event_type, str) else None
    if validator is None:
        raise ContractViolation(str(event_type), ["no such event in the notifier's contract"])
    errors = sorted(validator.iter_errors(envelope), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise ContractViolation(event_type, [_describe(e) for e in errors])


def check(event: CloudEvent) -> dict[str, Any]:
    """The event's data, once it matches the contract."""
    check_envelope(event.to_dict())
    return event.data


def _describe(error) -> str:
    path = ".".join(str(p) for p in error.absolute_path) or "(event)"
    message = error.message if len(error.message) <= 200 else error.message[:200] + "…"  # no payload dumps
    return f"{path}: {message}"

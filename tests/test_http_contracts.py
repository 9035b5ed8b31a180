"""HTTP contracts a service's tests copy from another service: the copy is still part of the original.

Identity's and the helpdesk's tests stand alone (an agency may run either without the registry): they call a
stand-in of the company registry that answers from their `tests/registry-contract.yaml`, a fragment of the
registry's `openapi.yaml`. Here, with the whole repository, the fragment is checked against the
registry's contract, so the stand-in cannot drift from the real registry unnoticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COPIES = [
    (ROOT / "services/identity/tests/registry-contract.yaml",
     ROOT / "services/company-registry/src/achats/company_registry/openapi.yaml"),
    (ROOT / "services/helpdesk/tests/registry-contract.yaml",
     ROOT / "services/company-registry/src/achats/company_registry/openapi.yaml"),
]


def differences(copy, original, where: str = "") -> list[str]:
    """Where ``copy`` says something ``original`` does not: every key of a mapping must be in the
    original with the same meaning (the original may say more: descriptions, other operations, other
    properties); lists (``required``, ``enum``, ``allOf``) must be as long, item by item so, and values equal."""
    if isinstance(copy, dict):
        if not isinstance(original, dict):
            return [f"{where or '/'}: a mapping in the copy, {original!r} in the original"]
        found = []
        for key, value in copy.items():
            if key not in original:
                found.append(f"{where}/{key}: not in the original")
            else:
                found += differences(value, original[key], f"{where}/{key}")
        return found
    if isinstance(copy, list) and isinstance(original, list) and len(copy) == len(original):
        return [f for i, (one, other) in enumerate(zip(copy, original, strict=True))
                for f in differences(one, other, f"{where}/{i}")]
    return [] if copy == original else [f"{where}: {copy!r} in the copy, {original!r} in the original"]


@pytest.mark.parametrize(("copy", "original"), COPIES, ids=[c.parent.parent.name for c, _ in COPIES])
def test_the_copied_contract_fragment_is_still_part_of_the_original(copy, original):
    found = differences(yaml.safe_load(copy.read_text(encoding="utf-8")),
                        yaml.safe_load(original.read_text(encoding="utf-8")))
    assert not found, (
        f"{copy.relative_to(ROOT)} no longer matches {original.relative_to(ROOT)}; copy the changed parts "
        "again and check that service's registry stand-in:\n" + "\n".join(found))


def test_a_changed_schema_is_a_difference():
    original = {"components": {"schemas": {"Registration": {"required": ["company", "company_created"],
                                                            "properties": {"company": {"type": "object"}}}}}}
    copy = {"components": {"schemas": {"Registration": {"required": ["company"]}}}}
    assert differences(copy, original) == [
        "/components/schemas/Registration/required: ['company'] in the copy, ['company', 'company_created'] in "
        "the original"]
    renamed = {"components": {"schemas": {"Registration": {"required": ["company", "created"]}}}}
    assert differences(renamed, original) == [
        "/components/schemas/Registration/required/1: 'created' in the copy, 'company_created' in the original"]
    assert differences({"components": {"schemas": {}}}, original) == []

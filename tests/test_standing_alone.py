"""Every service stands alone (DESIGN §1): its code and its tests import only its own package and the
chassis, so an agency installing one service (and the chassis) can run its tests. A service's tests that
need another service talk to a stand-in of it, checked against that service's contract (identity's
registry stand-in: tests/test_http_contracts.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = {"chassis", "chassis_testing"}
# Tests that still import another service's package (none since issue 14 item 5): remove a
# service from here once its tests stand alone; this test fails while a listed one already does.
STILL_DEPENDENT: dict[str, set[str]] = {}


def others_imported(folder: Path) -> set[str]:
    own = folder.name.replace("-", "_")
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "achats" and len(parts) > 1 and parts[1] not in SHARED | {own}:
                    found.add(parts[1])
    return found


@pytest.mark.parametrize("folder", sorted(p.parent for p in ROOT.glob("services/*/pyproject.toml")),
                         ids=lambda p: p.name)
def test_a_service_and_its_tests_import_no_other_service(folder):
    assert others_imported(folder) == STILL_DEPENDENT.get(folder.name, set()), (
        f"{folder.name} imports another service's package (or no longer does: update STILL_DEPENDENT)")

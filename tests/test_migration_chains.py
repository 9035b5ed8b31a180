"""Every migration chain of the platform is one straight line: one head, no revision id used twice.

Two branches that each add ``0002`` merge without a conflict in git and then break every
``migrate`` at start-up (« Multiple head revisions »); this test catches it before a process starts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from achats.chassis.migrations import BUS_MIGRATIONS

ROOT = Path(__file__).resolve().parents[1]
CHAINS = sorted(
    [*ROOT.glob("services/*/src/achats/*/migrations"), *ROOT.glob("web/src/achats/*/migrations"), BUS_MIGRATIONS]
)


def _declared_revisions(chain: Path) -> list[str]:
    revisions = []
    for script in sorted((chain / "versions").glob("*.py")):
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "revision" for t in node.targets):
                revisions.append(ast.literal_eval(node.value))
    return revisions


def test_the_chains_are_all_found():
    names = {chain.parent.name for chain in CHAINS}
    assert {"identity", "company_registry", "helpdesk", "notifier", "signature", "web", "bus"} <= names


@pytest.mark.parametrize("chain", CHAINS, ids=lambda chain: chain.parent.name)
def test_each_revision_id_is_used_once(chain: Path):
    revisions = _declared_revisions(chain)
    assert revisions, f"{chain}: no migration found"
    duplicates = sorted({r for r in revisions if revisions.count(r) > 1})
    assert not duplicates, f"{chain}: revision ids used twice: {duplicates}"


@pytest.mark.parametrize("chain", CHAINS, ids=lambda chain: chain.parent.name)
def test_each_chain_has_one_head_and_reaches_every_revision(chain: Path):
    script = ScriptDirectory(str(chain))
    heads = script.get_heads()
    assert len(heads) == 1, f"{chain}: several heads {heads}; renumber the newer migration onto the older"
    walked = [revision.revision for revision in script.walk_revisions()]
    assert sorted(walked) == sorted(_declared_revisions(chain))

"""State of the EU trusted lists in use, their providers, and a manual refresh."""

from __future__ import annotations

from achats.chassis.app import current_runtime
from achats.chassis.pagination import page
from achats.chassis.security import require_roles

from .. import deps, trust


def get():
    store = deps.current().trust_lists
    store.ensure_started()
    return trust.describe(store.snapshot), 200


def providers(territory: str | None = None, limit: int = 50, cursor: str | None = None):
    store = deps.current().trust_lists
    snapshot = store.wait_ready(current_runtime().settings.trust_lists_wait)
    items = trust.providers(snapshot, territory)
    chunk, following = page(items, limit=limit, cursor=cursor)
    return {"count": len(items), "items": chunk, "next_cursor": following}, 200


def refresh(token_info: dict):
    require_roles(token_info, "platform_admin")
    store = deps.current().trust_lists
    store.ensure_started()
    return trust.describe(store.refresh(force=True)), 200

"""HTTP handlers of the notifier, one module per resource; every operation is for support and administrators."""

from achats.chassis.security import require_roles

ROLES = ("support_agent", "platform_admin")


def authorize(token_info: dict) -> None:
    """403 (French problem) unless the caller is a support agent or a platform administrator."""
    require_roles(token_info, *ROLES)

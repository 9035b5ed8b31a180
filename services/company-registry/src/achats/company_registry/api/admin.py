"""INSEE client state and maintenance switch."""

from achats.chassis.problems import Problem

from .. import deps
from ..access import principal


def _status() -> dict:
    insee = deps.current().insee
    return {"maintenance": insee.maintenance(), "breaker": insee.breaker.state,
            "calls_last_minute": insee.limiter.calls_in_window(), "limit_per_minute": insee.limiter.limit}


def insee_status(token_info: dict):
    if not principal(token_info).has_role("platform_admin", "support_agent"):
        raise Problem(status=403, code="forbidden", detail="Réservé à l'équipe de la plateforme.")
    return _status(), 200


def set_insee_maintenance(body: dict, token_info: dict):
    if not principal(token_info).has_role("platform_admin"):
        raise Problem(status=403, code="forbidden", detail="Réservé aux administrateurs de la plateforme.")
    deps.current().insee.set_maintenance(body["maintenance"])
    return _status(), 200

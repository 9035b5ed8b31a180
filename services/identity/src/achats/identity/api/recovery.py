"""« Mot de passe oublié »."""

from .. import deps
from .. import recovery as service
from .context import identity, unit_of_work


def request(body: dict):
    timing = deps.current().reset_timing
    return service.request_reset(unit_of_work(), identity(), timing, body["login_or_email"]), 202


def confirm(body: dict):
    service.reset(unit_of_work(), identity(), body["token"], body["password"])
    return None, 204

"""« Mot de passe oublié »."""

from achats.chassis.app import current_runtime

from .. import recovery as service
from .context import identity


def request(body: dict):
    timing = current_runtime().extras["reset_timing"]
    return service.request_reset(identity(), timing, body["login_or_email"]), 202


def confirm(body: dict):
    service.reset(identity(), body["token"], body["password"])
    return None, 204

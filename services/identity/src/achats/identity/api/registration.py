"""POST /identity/registrations, POST /identity/email-verifications."""

from achats.chassis.app import current_runtime

from .. import registration as service
from .context import identity


def create(body: dict):
    extras = current_runtime().extras
    return service.register(identity(), extras["registry"], extras["registration_timing"], body), 202


def verify_email(body: dict):
    service.verify_email(identity(), body["token"])
    return None, 204

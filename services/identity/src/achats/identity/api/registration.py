"""POST /identity/registrations, POST /identity/email-verifications(/resend), GET /identity/password-policy."""

from achats.chassis.app import current_runtime

from .. import passwords
from .. import registration as service
from .context import identity


def create(body: dict):
    extras = current_runtime().extras
    return service.register(identity(), extras["registry"], extras["registration_timing"], body), 202


def verify_email(body: dict):
    service.verify_email(identity(), body["token"])
    return None, 204


def resend_verification(body: dict):
    extras = current_runtime().extras
    return service.resend_verification(identity(), extras["registry"], extras["resend_timing"],
                                       body["login_or_email"]), 202


def password_policy():
    settings = identity().settings
    return (passwords.policy(min_length=settings.password_min_length, max_length=settings.password_max_length),
            200, {"Cache-Control": "public, max-age=300"})

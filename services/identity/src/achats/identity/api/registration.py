"""POST /identity/registrations, POST /identity/email-verifications(/resend), GET /identity/password-policy."""

from .. import deps, passwords
from .. import registration as service
from .context import identity, unit_of_work


def create(body: dict):
    needs = deps.current()
    return service.register(unit_of_work(), identity(), needs.registry, needs.registration_timing, body), 202


def verify_email(body: dict):
    service.verify_email(unit_of_work(), identity(), body["token"])
    return None, 204


def resend_verification(body: dict):
    needs = deps.current()
    return service.resend_verification(unit_of_work(), identity(), needs.registry, needs.resend_timing,
                                       body["login_or_email"]), 202


def password_policy():
    settings = identity().settings
    return (passwords.policy(min_length=settings.password_min_length, max_length=settings.password_max_length),
            200, {"Cache-Control": "public, max-age=300"})

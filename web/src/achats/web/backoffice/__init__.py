"""The back office (issue 17): the pages of support agents and platform administrators under ``/back-office``.

The same application as the suppliers' pages (same layout, same browser session, same CSRF): see web/README.md.
The role claim of the user's token only chooses what a page shows; every read and every action is the service's
(the helpdesk's ``/agent/...``, identity's administration) with the user's token, and the service's 403 becomes
the French 403 page. Each section is a module of this package adding its routes to ``blueprint``; the header's
menu lists the sections of ``NAV`` whose page exists, for the roles it names.
"""

from __future__ import annotations

from dataclasses import dataclass

import flask
from flask_babel import lazy_gettext as _l

from .. import sessions
from ..account import as_user, require_login

blueprint = flask.Blueprint("backoffice", __name__, url_prefix="/back-office")

AGENT = "support_agent"
ADMIN = "platform_admin"
STAFF = (AGENT, ADMIN)


@dataclass(frozen=True)
class Section:
    """An entry of the back office's menu: its page's endpoint, its label, the roles it is shown to."""

    endpoint: str
    label: object
    roles: tuple[str, ...]


# Agents' sections, then administrators' (an administrator also sees the agents'; the helpdesk lets them in too).
NAV = (
    Section("backoffice.queue", _l("Demandes"), STAFF),
    Section("backoffice.faq", _l("FAQ"), STAFF),
    Section("backoffice.questions", _l("Questions"), STAFF),  # questions.py: the consultations de test's
    Section("bo_admin.accounts", _l("Comptes"), (ADMIN,)),  # backoffice_admin.py
    Section("backoffice.companies", _l("Entreprises"), (ADMIN,)),
    Section("backoffice.health", _l("Santé"), (ADMIN,)),
)


def has_role(user, *roles: str) -> bool:
    return bool(set(user.roles) & set(roles))


def require_role(*roles: str):
    """The page is for these roles (by the token's claim, to choose what to show): the user, or the 403 page.
    The service the page calls checks the role again, and its 403 is the same page (``call``)."""
    user = require_login()
    if not has_role(user, *roles):
        flask.abort(403)
    return user


@blueprint.before_request
def staff_only():
    """No back-office page for a supplier: the login page without a session, the 403 page without a staff role."""
    require_role(*STAFF)


def call(service: str, method: str, path: str, **kwargs):
    """A service's route with the user's token (``service``: a key of the runtime's clients: ``helpdesk``,
    ``identity``, ``registry``...). 401: log in again; 403: the French 403 page; 5xx: the 503 page. Other
    answers (200, 4xx with the service's French ``detail``) are the caller's to show."""
    return as_user(service, method, path, forbidden_page=True, **kwargs)


def menu(user) -> list[tuple[str, object, str]]:
    """The menu's entries for this user: (endpoint, label, address), only the sections whose page exists."""
    views = flask.current_app.view_functions
    return [(s.endpoint, s.label, flask.url_for(s.endpoint)) for s in NAV
            if s.endpoint in views and user is not None and has_role(user, *s.roles)]


@blueprint.app_context_processor
def backoffice_context() -> dict:
    return {"backoffice_menu": lambda: menu((sessions.current() or (None, None))[1])}


@blueprint.get("")
def home():
    """The back office's first page: the queue for everyone who may see it."""
    return flask.redirect(flask.url_for("backoffice.queue"), code=303)


# The sections (each adds its routes to the blueprint).
from . import companies, faq, health, mails, questions, queue, ticket  # noqa: E402, F401

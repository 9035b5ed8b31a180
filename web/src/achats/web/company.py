"""« Mon entreprise »: the company's information (taken again from INSEE), its establishments, its users (for
its administrator) and the deletion of the company account.

Every page calls the company registry's (``/registry/companies/{id}``…) or identity's
(``/identity/companies/{id}/users``…) own routes with the user's token, and shows the service's French
answer, beside the field it names: who may do what (the company's administrator), which establishment may
still be changed, what a SIRET must be, are the services' rules, not this page's.
"""

from __future__ import annotations

import flask
import requests
from flask_babel import gettext as _

from achats.chassis.app import current_runtime

from . import forms, sessions
from .account import LoginRequired, require_login

blueprint = flask.Blueprint("company", __name__)



def _menu() -> list[tuple[str, str]]:
    """The side menu of « Mon entreprise » (endpoint, label), in the page's language."""
    return [("company.information", _("Informations de l’entreprise")),
            ("vault.index", _("Coffre-fort"))]


@blueprint.app_context_processor
def menu() -> dict:
    return {"company_menu": _menu}


def _call(service: str, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {sessions.access_token()}"}
    response = current_runtime().extras[service].request(method, path, headers=headers, retry=False, **kwargs)
    if response.status_code == 401:
        # The session ended at identity (revoked, roles changed, account gone): log in again.
        sessions.end(flask.request.cookies.get(sessions.COOKIE))
        raise LoginRequired
    return response


def _registry(method: str, path: str, **kwargs) -> requests.Response:
    return _call("registry", method, f"/registry/companies/{_company_id()}{path}", **kwargs)


def _company_id() -> str:
    user = require_login()
    if not user.company_id:
        flask.abort(404)
    return user.company_id


def _company() -> dict:
    response = _registry("GET", "")
    if response.status_code == 404:
        flask.abort(404)
    if response.status_code != 200:
        flask.abort(503)
    return response.json()


# --- « Mon entreprise »: the company's information ------------------------------------------------

@blueprint.get("/entreprise")
def information():
    require_login()
    return flask.render_template("company/information.html", company=_company(),
                                 refreshed=flask.request.args.get("mise-a-jour"))


@blueprint.post("/entreprise/mise-a-jour")
def refresh():
    """« Mettre à jour depuis l'INSEE »: the registry takes the company's data (its name…) from INSEE again."""
    require_login()
    response = _registry("POST", "/refresh")
    if response.status_code == 200:
        changed = "1" if response.json().get("changes") else "0"
        return flask.redirect(flask.url_for("company.information", **{"mise-a-jour": changed}), code=303)
    if response.status_code >= 500 and response.status_code != 503:
        flask.abort(503)
    problem = forms.problem_of(response)
    return flask.render_template("company/information.html", company=_company(),
                                 error=problem.detail), response.status_code

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
from .account import as_user, require_login

blueprint = flask.Blueprint("company", __name__)



def _menu() -> list[tuple[str, str]]:
    """The side menu of « Mon entreprise » (endpoint, label), in the page's language."""
    return [("company.information", _("Informations de l’entreprise")),
            ("company.establishments", _("Établissements")),
            ("company.users", _("Utilisateurs")),
            ("vault.index", _("Coffre-fort")),
            ("company.delete", _("Supprimer le compte de l’entreprise"))]


@blueprint.app_context_processor
def menu() -> dict:
    return {"company_menu": _menu}


def _call(service: str, method: str, path: str, **kwargs) -> requests.Response:
    return as_user(service, method, path, unavailable_page=False, **kwargs)


def _registry(method: str, path: str, **kwargs) -> requests.Response:
    return _call("registry", method, f"/registry/companies/{_company_id()}{path}", **kwargs)


def _company_id() -> str:
    user = require_login()
    if not user.company_id:
        flask.abort(403)  # an account without a company (an agent, an administrator): not its pages
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


# --- « Établissements » ---------------------------------------------------------------------------

ADDRESS_FIELDS = ("name", "street", "complement", "postal_code", "city")
# The registry's field pointers (establishments are posted without prefix) -> the form's fields.
ESTABLISHMENT_FIELDS = {"siret": "siret", **{k: k for k in ADDRESS_FIELDS}}


def _establishments() -> dict:
    response = _registry("GET", "/establishments", params={"limit": 500})
    if response.status_code == 404:
        flask.abort(404)
    if response.status_code != 200:
        flask.abort(503)
    return response.json()


def _establishment(establishment_id: str) -> dict:
    found = next((e for e in _establishments()["items"] if e["id"] == establishment_id), None)
    if found is None:
        flask.abort(404)
    return found


def _typed() -> dict[str, str]:
    form = flask.request.form
    return {k: form.get(k, "").strip() for k in ("siret", *ADDRESS_FIELDS)}


def _establishment_body(values: dict[str, str], manual: bool) -> dict:
    """What the person typed, for the registry: the SIRET alone (INSEE's data), or by hand with the address."""
    if not manual:
        return {"siret": values["siret"]}
    body = {"source": "manual", "siret": values["siret"], "street": values["street"],
            "postal_code": values["postal_code"], "city": values["city"]}
    body.update({k: values[k] for k in ("name", "complement") if values[k]})
    return body


def _refused(response: requests.Response, manual: bool) -> tuple[dict, dict, str, bool]:
    """The registry's refusal as the form shows it: errors by field, the message, and whether the form goes
    on by hand (INSEE cannot answer: the registry says ``fallback: manual``)."""
    if response.status_code >= 500 and response.status_code != 503:
        flask.abort(503)
    problem = forms.problem_of(response)
    try:
        fallback = (response.json() or {}).get("fallback") == "manual"
    except ValueError:
        fallback = False
    errors = problem.field_errors(ESTABLISHMENT_FIELDS)
    if not errors and not fallback and response.status_code in (404, 422):
        errors = {"siret": problem.detail}  # about the number typed (« Aucun établissement ne correspond… »)
    return errors, problem.detail, manual or fallback


@blueprint.get("/entreprise/etablissements")
def establishments():
    require_login()
    args = flask.request.args
    return flask.render_template("company/establishments.html", listing=_establishments(), values={},
                                 added=args.get("ajoute"), replaced=args.get("remplace"), saved=args.get("modifie"))


@blueprint.post("/entreprise/etablissements")
def establishments_post():
    """« Ajouter un établissement »: by SIRET (INSEE's data), or by hand when INSEE cannot answer."""
    require_login()
    values, manual = _typed(), flask.request.form.get("source") == "manual"
    response = _registry("POST", "/establishments", json=_establishment_body(values, manual))
    if response.status_code in (200, 201):
        added = response.json()
        return flask.redirect(flask.url_for("company.establishments", ajoute=added.get("siret") or added["id"])
                              + "#etablissements", code=303)
    errors, detail, manual = _refused(response, manual)
    return flask.render_template("company/establishments.html", listing=_establishments(), values=values,
                                 errors=errors, add_error=detail, manual=manual), response.status_code


@blueprint.get("/entreprise/etablissements/<establishment_id>/modification")
def establishments_edit(establishment_id: str):
    require_login()
    establishment = _establishment(establishment_id)
    return flask.render_template("company/establishment_edit.html", establishment=establishment,
                                 values={k: establishment.get(k) or "" for k in ADDRESS_FIELDS})


@blueprint.post("/entreprise/etablissements/<establishment_id>/modification")
def establishments_edit_post(establishment_id: str):
    """A manual establishment changed while INSEE has not verified it (the registry says which may be)."""
    require_login()
    values = {k: v for k, v in _typed().items() if k != "siret"}
    body = {**values, **{k: values[k] or None for k in ("name", "complement")}}
    response = _registry("PATCH", f"/establishments/{establishment_id}", json=body)
    if response.status_code == 200:
        return flask.redirect(flask.url_for("company.establishments", modifie=response.json().get("siret") or "1")
                              + "#etablissements", code=303)
    if response.status_code == 404:
        flask.abort(404)
    errors, detail, _manual = _refused(response, True)
    return flask.render_template("company/establishment_edit.html", establishment=_establishment(establishment_id),
                                 values=values, errors=errors, error=detail), response.status_code


@blueprint.get("/entreprise/etablissements/<establishment_id>/remplacement")
def establishments_replace(establishment_id: str):
    require_login()
    return flask.render_template("company/establishment_replace.html", establishment=_establishment(establishment_id),
                                 values={})


@blueprint.post("/entreprise/etablissements/<establishment_id>/remplacement")
def establishments_replace_post(establishment_id: str):
    """« Mon numéro SIRET a changé »: a new establishment replaces this one (the registry checks the SIRET)."""
    require_login()
    values, manual = _typed(), flask.request.form.get("source") == "manual"
    response = _registry("POST", f"/establishments/{establishment_id}/replace",
                         json=_establishment_body(values, manual))
    if response.status_code == 201:
        new = response.json()
        return flask.redirect(flask.url_for("company.establishments", remplace=new.get("siret") or new["id"])
                              + "#etablissements", code=303)
    if response.status_code == 404 and forms.problem_of(response).code == "establishment_not_found":
        flask.abort(404)
    errors, detail, manual = _refused(response, manual)
    return flask.render_template("company/establishment_replace.html", establishment=_establishment(establishment_id),
                                 values=values, errors=errors, error=detail, manual=manual), response.status_code


# --- « Utilisateurs »: the company's users, for its administrator ---------------------------------

def _users_path(user_id: str | None = None, admin: bool = False) -> str:
    path = f"/identity/companies/{_company_id()}/users"
    if user_id:
        path += f"/{user_id}" + ("/administrator" if admin else "")
    return path


def _users() -> tuple[dict | None, str | None, int]:
    """identity's list of the company's users, or its refusal (who may see it is identity's rule)."""
    response = _call("identity", "GET", _users_path(), params={"limit": 500})
    if response.status_code == 200:
        return response.json(), None, 200
    if response.status_code >= 500:
        flask.abort(503)
    return None, forms.problem_of(response).detail, response.status_code


def _render_users(error: str | None = None, status: int = 200, **context):
    listing, refusal, listed = _users()
    if refusal:
        error, status = refusal, listed
    return flask.render_template("company/users.html", listing=listing, error=error,
                                 me_id=require_login().sub, **context), status


@blueprint.get("/entreprise/utilisateurs")
def users():
    require_login()
    return _render_users(done=flask.request.args.get("fait"))


@blueprint.post("/entreprise/utilisateurs/<user_id>/administrateur")
def users_admin(user_id: str):
    """Grant (``role=oui``) or take back (``role=non``) the administrator role; identity decides whether it may."""
    require_login()
    granted = flask.request.form.get("role") == "oui"
    response = _call("identity", "PUT" if granted else "DELETE", _users_path(user_id, admin=True))
    if response.status_code == 200:
        return flask.redirect(flask.url_for("company.users", fait="admin-oui" if granted else "admin-non"), code=303)
    if response.status_code >= 500:
        flask.abort(503)
    return _render_users(forms.problem_of(response).detail, response.status_code)


@blueprint.get("/entreprise/utilisateurs/<user_id>/retrait")
def users_remove(user_id: str):
    """The confirmation page before a user is removed from the company."""
    require_login()
    listing, refusal, _status = _users()
    if refusal:
        return _render_users()
    person = next((u for u in listing["items"] if u["id"] == user_id), None)
    if person is None:
        flask.abort(404)
    return flask.render_template("company/user_remove.html", person=person)


@blueprint.post("/entreprise/utilisateurs/<user_id>/retrait")
def users_remove_post(user_id: str):
    require_login()
    response = _call("identity", "DELETE", _users_path(user_id))
    if response.status_code == 204:
        return flask.redirect(flask.url_for("company.users", fait="retrait"), code=303)
    if response.status_code >= 500:
        flask.abort(503)
    return _render_users(forms.problem_of(response).detail, response.status_code)


# --- deletion of the company account --------------------------------------------------------------

@blueprint.get("/entreprise/suppression")
def delete():
    require_login()
    return flask.render_template("company/delete.html", company=_company())


@blueprint.post("/entreprise/suppression")
def delete_post():
    """« Supprimer le compte de l’entreprise »: the registry decides who may (the company's administrator)."""
    require_login()
    response = _registry("DELETE", "")
    if response.status_code == 204:
        # The registry tells identity (company.deleted), which closes the company's accounts: this session ends.
        sessions.end(flask.request.cookies.get(sessions.COOKIE))
        done = flask.make_response(flask.render_template("company/deleted.html", user=None))
        done.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="Lax",
                           secure=current_runtime().settings.cookie_secure)
        return done
    if response.status_code >= 500:
        flask.abort(503)
    problem = forms.problem_of(response)
    return flask.render_template("company/delete.html", company=_company(), error=problem.detail), \
        response.status_code

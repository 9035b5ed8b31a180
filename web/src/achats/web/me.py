"""« Mon compte »: personal information, e-mail change (confirmed by mail), password change, deletion.

Every page calls identity's own account routes (``/identity/me``, ``/identity/me/password``) with the
user's token, and shows identity's French answer beside the field it names: the rules (required
fields, a taken address, the password policy, the company's last administrator) are identity's.
"""

from __future__ import annotations

import flask
from flask_babel import gettext as _

from achats.chassis.app import current_runtime

from . import forms, sessions
from .account import as_user, require_login

blueprint = flask.Blueprint("me", __name__)

INFO_FIELDS = ("last_name", "first_name", "phone", "fax")


def _identity(method: str, path: str, **kwargs):
    return as_user("identity", method, path, **kwargs)


def _me() -> dict:
    response = _identity("GET", "/identity/me")
    if response.status_code != 200:
        flask.abort(503)
    return response.json()


@blueprint.get("/compte")
def account():
    require_login()
    me = _me()
    return flask.render_template("me/account.html", me=me, values={k: me.get(k) or "" for k in INFO_FIELDS},
                                 saved=flask.request.args.get("enregistre") == "1")


@blueprint.post("/compte")
def account_post():
    require_login()
    values = {k: flask.request.form.get(k, "").strip() for k in INFO_FIELDS}
    body = {**values, "fax": values["fax"] or None}
    response = _identity("PATCH", "/identity/me", json=body)
    if response.status_code == 200:
        return flask.redirect(flask.url_for("me.account", enregistre="1"), code=303)
    problem = forms.problem_of(response)
    errors = problem.field_errors({k: k for k in INFO_FIELDS})
    return flask.render_template("me/account.html", me=_me(), values=values, errors=errors,
                                 error=problem.detail), response.status_code


@blueprint.get("/compte/adresse-electronique")
def email():
    require_login()
    return flask.render_template("me/email.html", me=_me())


@blueprint.post("/compte/adresse-electronique")
def email_post():
    require_login()
    value = flask.request.form.get("email", "").strip()
    response = _identity("PATCH", "/identity/me", json={"email": value})
    if response.status_code == 200:
        return flask.render_template("me/email_sent.html", email=response.json().get("email") or value)
    problem = forms.problem_of(response)
    errors = problem.field_errors({"email": "email"}) or {"email": problem.detail}
    return flask.render_template("me/email.html", me=_me(), value=value, errors=errors,
                                 error=problem.detail), response.status_code


@blueprint.get("/compte/mot-de-passe")
def password():
    require_login()
    return flask.render_template("me/password.html")


@blueprint.post("/compte/mot-de-passe")
def password_post():
    require_login()
    form = flask.request.form
    current, new = form.get("current_password", ""), form.get("password", "")
    confirmation = form.get("confirmation", "")
    if new != confirmation:
        # Typing the same password twice is the form's own check, not a password rule (identity's).
        return flask.render_template("me/password.html", errors={
            "confirmation": _("Les deux mots de passe saisis ne sont pas identiques.")}), 422
    response = _identity("POST", "/identity/me/password", json={"current_password": current, "new_password": new})
    if response.status_code == 204:
        return flask.render_template("me/password_done.html")
    problem = forms.problem_of(response)
    errors = problem.field_errors({"current_password": "current_password", "new_password": "password"})
    return flask.render_template(
        "me/password.html", errors=errors, error=None if errors else problem.detail,
        password_errors=[e.get("message", "") for e in problem.errors if e.get("field") == "new_password"],
    ), response.status_code


@blueprint.get("/compte/suppression")
def delete():
    require_login()
    return flask.render_template("me/delete.html", me=_me())


@blueprint.post("/compte/suppression")
def delete_post():
    require_login()
    response = _identity("DELETE", "/identity/me")
    if response.status_code == 204:
        sessions.end(flask.request.cookies.get(sessions.COOKIE))
        done = flask.make_response(flask.render_template("me/deleted.html", user=None))
        done.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="Lax",
                           secure=current_runtime().settings.cookie_secure)
        return done
    problem = forms.problem_of(response)
    return flask.render_template("me/delete.html", me=_me(), error=problem.detail), response.status_code

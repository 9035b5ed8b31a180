"""« Se connecter », « Se déconnecter », « Mot de passe oublié » and the pages the identity mails open.

Every rule (password policy, lockout, unknown accounts) is identity's: these pages send what the
person typed and show identity's French answer, beside the field it names.
"""

from __future__ import annotations

import flask
from flask_babel import gettext as _

from achats.chassis.app import current_runtime

from . import deps, forms, sessions
from .pages import return_path, safe_next

blueprint = flask.Blueprint("account", __name__)


def _identity():
    return deps.current().identity


@blueprint.get("/connexion")
def login():
    if sessions.current():
        return flask.redirect("/", code=303)
    return flask.render_template("account/login.html", next_page=safe_next(flask.request.args.get("next")))


@blueprint.post("/connexion")
def login_post():
    login_value = flask.request.form.get("login", "").strip()
    password = flask.request.form.get("password", "")
    next_page = safe_next(flask.request.form.get("next"))
    response = _identity().post("/identity/sessions", json={"login": login_value, "password": password},
                                retry=False)
    if response.status_code != 200:
        problem = forms.problem_of(response)
        return flask.render_template("account/login.html", login_value=login_value, next_page=next_page,
                                     login_error=problem.detail, login_code=problem.code), response.status_code
    session_id, _user = sessions.start(response.json())
    redirect = flask.redirect(next_page, code=303)
    sessions.set_cookie(redirect, sessions.COOKIE, session_id)
    return redirect


@blueprint.post("/deconnexion")
def logout():
    sessions.end(flask.request.cookies.get(sessions.COOKIE))
    response = flask.redirect(flask.url_for("account.logged_out"), code=303)
    response.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="Lax",
                           secure=current_runtime().settings.cookie_secure)
    return response


@blueprint.get("/deconnexion")
def logged_out():
    return flask.render_template("account/logged_out.html")


@blueprint.get("/compte/mot-de-passe-oublie")
def password_forgotten():
    return flask.render_template("account/password_forgotten.html")


@blueprint.post("/compte/mot-de-passe-oublie")
def password_forgotten_post():
    value = flask.request.form.get("login_or_email", "").strip()
    response = _identity().post("/identity/password-resets", json={"login_or_email": value}, retry=False)
    if response.status_code >= 400:
        problem = forms.problem_of(response)
        return flask.render_template("account/password_forgotten.html", value=value,
                                     errors=problem.field_errors({"login_or_email": "login_or_email"}),
                                     error=problem.detail), response.status_code
    return flask.render_template("account/password_forgotten_sent.html")


class LoginRequired(Exception):
    """The page needs a logged-in user (or identity no longer knows the session): to the login page."""


def as_user(service: str, method: str, path: str, *, anonymous: bool = False, forbidden_page: bool = False,
            unavailable_page: bool = True, headers: dict | None = None, **kwargs):
    """A service's route called with the signed-in user's token: the one way a page calls a service for its user
    (``service``: a client of the runtime, ``"identity"``, ``"registry"``, ``"helpdesk"``...).

    401: identity no longer knows the session (revoked, roles changed, account gone): it ends here too and the
    user logs in again (``LoginRequired``). ``anonymous``: a public page, called without a token when there is
    no session (a 401 is then the caller's). ``forbidden_page``: a 403 is the French 403 page.
    ``unavailable_page``: a 5xx is the 503 page (otherwise the caller shows it). Every other answer — 200, or a
    4xx with the service's French ``detail`` — is the caller's to show."""
    token = sessions.access_token()
    if token is None and not anonymous:
        raise LoginRequired
    sent = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
    response = deps.current().client(service).request(method, path, headers=sent, retry=False, **kwargs)
    if response.status_code == 401 and token:
        response.close()
        sessions.end(flask.request.cookies.get(sessions.COOKIE))
        raise LoginRequired
    if response.status_code == 403 and forbidden_page:
        response.close()
        flask.abort(403)
    if response.status_code >= 500 and unavailable_page:
        response.close()
        flask.abort(503)
    return response


@blueprint.app_errorhandler(LoginRequired)
def to_login(_exc: LoginRequired):
    # flask.abort(redirect) would not do here: the chassis turns a bare HTTPException into problem+json.
    return flask.redirect(flask.url_for("account.login", next=return_path()), code=303)


def require_login():
    """The page needs a logged-in user: to the login page (and back here after), or the user."""
    found = sessions.current()
    if found is None:
        raise LoginRequired
    return found[1]


# --- the pages the identity mails open -------------------------------------------------------------

def _no_referrer(response) -> flask.Response:
    """A page reached with a single-use token in its address: the address never leaves in a Referer."""
    response = flask.make_response(response)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.get("/compte/confirmation")
def email_confirmation():
    """The link of « Création de votre compte » and « Confirmez votre nouvelle adresse e-mail »: the address is
    confirmed by opening it (identity decides whether the token is still valid)."""
    token = flask.request.args.get("token", "").strip()
    if token:
        response = _identity().post("/identity/email-verifications", json={"token": token}, retry=False)
        if response.status_code == 204:
            return _no_referrer(flask.render_template("account/email_confirmed.html"))
        problem = forms.problem_of(response)
        if response.status_code != 400:
            flask.abort(503 if response.status_code >= 500 else response.status_code)
        detail = problem.detail
    else:
        detail = None
    return _no_referrer((flask.render_template("account/email_link_invalid.html", detail=detail), 400))


@blueprint.get("/compte/confirmation/nouveau-lien")
def email_confirmation_new():
    """« Recevoir un nouveau lien », from the login page when identity says the address is not confirmed."""
    return flask.render_template("account/email_resend.html", value=flask.request.args.get("identifiant", ""))


@blueprint.post("/compte/confirmation/nouveau-lien")
def email_confirmation_resend():
    """« Recevoir un nouveau lien »: identity mails a new confirmation link (the same answer for everyone)."""
    value = flask.request.form.get("login_or_email", "").strip()
    response = _identity().post("/identity/email-verifications/resend", json={"login_or_email": value},
                                retry=False)
    if response.status_code >= 400:
        problem = forms.problem_of(response)
        return flask.render_template("account/email_resend.html", value=value, error=problem.detail,
                                     errors=problem.field_errors({"login_or_email": "login_or_email"}),
                                     ), response.status_code
    return flask.render_template("account/email_link_sent.html", message=response.json().get("message"))


@blueprint.get("/compte/mot-de-passe/nouveau")
def password_new():
    """The link of « Réinitialisation de votre mot de passe »: the form (the token is used when it is sent)."""
    token = flask.request.args.get("token", "").strip()
    if not token:
        return _no_referrer((flask.render_template("account/password_link_invalid.html"), 400))
    return _no_referrer(flask.render_template("account/password_new.html", token=token))


@blueprint.post("/compte/mot-de-passe/nouveau")
def password_new_post():
    form = flask.request.form
    token, password, confirmation = form.get("token", ""), form.get("password", ""), form.get("confirmation", "")
    if not token:
        return _no_referrer((flask.render_template("account/password_link_invalid.html"), 400))
    if password != confirmation:
        # Typing the same password twice is the form's own check, not a password rule (identity's).
        return _no_referrer((flask.render_template(
            "account/password_new.html", token=token,
            errors={"confirmation": _("Les deux mots de passe saisis ne sont pas identiques.")}), 422))
    response = _identity().post("/identity/password-resets/confirm", json={"token": token, "password": password},
                                retry=False)
    if response.status_code == 204:
        return flask.render_template("account/password_new_done.html")
    problem = forms.problem_of(response)
    if problem.code == "link_invalid":
        return _no_referrer((flask.render_template("account/password_link_invalid.html", detail=problem.detail),
                             400))
    if response.status_code >= 500:
        flask.abort(503)
    errors = problem.field_errors({"password": "password"})
    return _no_referrer((flask.render_template(
        "account/password_new.html", token=token, errors=errors, error=None if errors else problem.detail,
        password_errors=[e.get("message", "") for e in problem.errors if e.get("field") == "password"]),
        response.status_code))

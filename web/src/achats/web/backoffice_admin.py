"""Back office, platform administrators: « Comptes » (search, unlock, disable, enable, staff accounts) and
« Journal » (the audit log).

Each page calls identity's admin API (``/identity/admin/...``) with the user's token: identity checks the
role ``platform_admin`` and answers 403 to anyone else, which is shown as the 403 page (the web app hides
no link as its only guard and holds no rule of identity's).
"""

from __future__ import annotations

import flask
from flask_babel import gettext as _

from . import backoffice, forms
from .account import require_login

blueprint = flask.Blueprint("bo_admin", __name__, url_prefix="/back-office")

STAFF_FIELDS = ("role", "login", "email", "first_name", "last_name")
DONE = {"unlock": lambda login: _("Le compte %(login)s est déverrouillé : son titulaire peut se connecter.",
                                  login=login),
        "disable": lambda login: _("Le compte %(login)s est désactivé ; ses sessions sont fermées.", login=login),
        "enable": lambda login: _("Le compte %(login)s est réactivé.", login=login)}


def _admin(method: str, path: str, **kwargs):
    """identity's admin API as the user, through the back office's ``call`` (401: log in again; 403, not an
    administrator: the 403 page; 5xx: the 503 page)."""
    require_login()
    return backoffice.call("identity", method, f"/identity/admin{path}", **kwargs)


def _search(values) -> dict:
    """The search as the page's address (or the action form's hidden fields) carries it."""
    return {"q": values.get("q", "").strip()[:200], "locked": values.get("verrouilles") == "1",
            "cursor": values.get("suite") or None}


def _accounts_page(query: dict, error: str | None = None, status: int = 200, done: str | None = None):
    params = {"q": query["q"], "locked": "true" if query["locked"] else "false", "limit": 25}
    if query["cursor"]:
        params["cursor"] = query["cursor"]
    response = _admin("GET", "/users", params=params)
    if response.status_code != 200:
        problem = forms.problem_of(response)
        return flask.render_template("backoffice/admin/accounts.html", query=query, users=[], next_cursor=None,
                                     error=problem.detail), response.status_code
    found = response.json()
    return flask.render_template("backoffice/admin/accounts.html", query=query, users=found["items"],
                                 next_cursor=found.get("next_cursor"), error=error, done=done), status


@blueprint.get("/comptes")
def accounts():
    done = flask.request.args.get("fait")
    login = flask.request.args.get("compte", "")
    return _accounts_page(_search(flask.request.args), done=DONE[done](login) if done in DONE and login else None)


@blueprint.post("/comptes/<uuid:user_id>/<any(unlock, disable, enable):action>")
def account_action(user_id, action: str):
    response = _admin("POST", f"/users/{user_id}/{action}")
    form = flask.request.form
    back = {k: form[k] for k in ("q", "verrouilles") if form.get(k)}
    if response.status_code == 200:
        return flask.redirect(flask.url_for("bo_admin.accounts", fait=action, compte=response.json()["login"],
                                            **back), code=303)
    # identity's refusal (not locked, one's own account...): its message above the same list, nothing changed.
    return _accounts_page(_search(form), error=forms.problem_of(response).detail, status=response.status_code)


@blueprint.get("/comptes/nouveau")
def new_staff():
    require_login()
    _admin("GET", "/audit", params={"limit": 1})  # the form too is for administrators only
    return flask.render_template("backoffice/admin/new_staff.html", values={"role": "support_agent"}, errors={})


@blueprint.post("/comptes/nouveau")
def new_staff_post():
    form = flask.request.form
    values = {k: form.get(k, "").strip() for k in STAFF_FIELDS}
    response = _admin("POST", "/staff", json={**values, "password": form.get("password", "")})
    if response.status_code == 201:
        created = response.json()
        return flask.render_template("backoffice/admin/staff_created.html", created=created), 201
    problem = forms.problem_of(response)
    errors = problem.field_errors({k: k for k in (*STAFF_FIELDS, "password")})
    return flask.render_template("backoffice/admin/new_staff.html", values=values, errors=errors,
                                 error=problem.detail), response.status_code


@blueprint.get("/journal")
def audit():
    params = {"limit": 50}
    if flask.request.args.get("suite"):
        params["cursor"] = flask.request.args["suite"]
    response = _admin("GET", "/audit", params=params)
    if response.status_code != 200:
        return flask.render_template("backoffice/admin/audit.html", entries=[], next_cursor=None,
                                     error=forms.problem_of(response).detail), response.status_code
    found = response.json()
    return flask.render_template("backoffice/admin/audit.html", entries=found["items"],
                                 next_cursor=found.get("next_cursor"))

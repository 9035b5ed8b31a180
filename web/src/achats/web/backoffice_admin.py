"""Back office, platform administrators: « Comptes » (search, unlock, disable, enable, staff accounts) and
« Journal » (the audit logs of identity, the company registry and the helpdesk, merged).

Each page calls identity's admin API (``/identity/admin/...``) with the user's token: identity checks the
role ``platform_admin`` and answers 403 to anyone else, which is shown as the 403 page (the web app hides
no link as its only guard and holds no rule of identity's).
"""

from __future__ import annotations

import flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from achats.chassis.http import ServiceUnavailable

from . import backoffice, deps, forms, journal, sessions
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


# « Journal »: the audits of the services whose staff actions it gathers — (key, client, path, label).
JOURNAL_SOURCES = (("comptes", "identity", "/identity/admin/audit", _l("Comptes")),
                   ("entreprises", "registry", "/registry/admin/audit", _l("Entreprises")),
                   ("assistance", "helpdesk", "/helpdesk/admin/audit", _l("Assistance")))
JOURNAL_PAGE = 50


@blueprint.get("/journal")
def audit():
    """The three audits merged, newest first, a page of ``JOURNAL_PAGE`` at a time; see ``journal.merge_page``."""
    require_login()
    chosen = flask.request.args.get("service", "")
    sources = [source for source in JOURNAL_SOURCES if chosen in ("", source[0])]
    state = journal.decode_state(flask.request.args.get("suite"))
    pages, missing = {}, []
    for key, client, path, label in sources:
        position = state.get(key, journal.START)
        if position["done"]:
            pages[key] = journal.Fetched(items=[], following=None, position=position)
            continue
        items, following = _journal_source(client, path, position["cursor"])
        if items is None:
            missing.append(str(label))
            continue
        pages[key] = journal.Fetched(items=[journal.normalise(key, item) for item in items][position["skip"]:],
                                     following=following, position=position)
    entries, next_state = journal.merge_page(pages, JOURNAL_PAGE)
    suite = journal.encode_state({**state, **next_state}) if next_state else None
    labels = {key: label for key, _client, _path, label in JOURNAL_SOURCES}
    status = 503 if missing and not pages else 200
    return flask.render_template("backoffice/admin/audit.html", entries=entries, next_cursor=suite, missing=missing,
                                 chosen=chosen, sources=JOURNAL_SOURCES, labels=labels), status


def _journal_source(client: str, path: str, cursor: str | None) -> tuple[list | None, str | None]:
    """One page of a service's audit; (None, None) when it does not answer (down, 5xx, an answer not understood).
    Its 403 (not an administrator) is the 403 page, its 401 the login page, as everywhere in the back office."""
    params = {"limit": JOURNAL_PAGE, **({"cursor": cursor} if cursor else {})}
    try:
        if client == "identity":
            response = backoffice.call(client, "GET", path, params=params)
        else:
            # Another service's 401 (it does not trust this token: an instance of another platform at its address)
            # leaves the journal to the others instead of ending the session; identity's 401 still logs out.
            response = deps.current().client(client).request(
                "GET", path, params=params, retry=False,
                headers={"Authorization": f"Bearer {sessions.access_token()}"})
            if response.status_code == 403:
                flask.abort(403)
            if response.status_code >= 500:
                return None, None
    except ServiceUnavailable:
        return None, None
    except HTTPException as exc:
        if exc.code == 503:
            return None, None
        raise
    if response.status_code != 200:
        return None, None
    found = response.json()
    return found.get("items", []), found.get("next_cursor")

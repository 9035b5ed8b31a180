"""« Demande d'assistance » (issue 16 item 1): the page the fixed « Assistance » button opens.

Everything the page shows and decides comes from the helpdesk (``WEB_HELPDESK_URL``): the automatic context
(``GET /helpdesk/context`` with the person's token when logged in, the page they came from and their browser's
User-Agent), the categories of « Ma demande » and their FAQ, the deflection (``POST /helpdesk/faq/outcomes``),
the ticket (``POST /helpdesk/tickets``, multipart, the files passed through) and its refusals, shown beside the
field they name with what was typed kept. Without JavaScript every step is a plain form: the category by a GET,
« je poursuis ma demande » by a GET, the request by a multipart POST. With JavaScript (``assistance_request.js``)
the FAQ is suggested while the message is typed (``/assistance/suggestions``, the helpdesk's French search as an
HTML fragment), the files are checked before upload, and the screen, language and cookies are shown.
"""

from __future__ import annotations

import uuid

import flask
from flask_babel import gettext as _

from achats.chassis.app import current_runtime
from achats.chassis.observability import human_size

from . import deps, forms, sessions

blueprint = flask.Blueprint("assistance_request", __name__)

SEVERITIES = ("minor", "major", "blocking", "suggestion")
FREQUENCIES = ("once", "random", "systematic")
CONTACT_FIELDS = ("email", "first_name", "last_name", "phone", "company")
TEXT_FIELDS = ("severity", "frequency", "message", *CONTACT_FIELDS)
# « Contexte technique »: what the page's script read of the browser (hidden fields it fills; absent without it).
# ``assistant_version``: the summary of « Mon Assistant Marchés Publics »' report when « Tester la configuration »
# ran it in this tab (sessionStorage; the helpdesk's field, 50 characters: version; OS; certificates; test; skew).
BROWSER_FIELDS = ("screen", "language", "cookies", "assistant_version")
# The helpdesk's field pointers -> the form's fields.
FIELDS = {"category_id": "category_id", "severity": "severity", "frequency": "frequency", "message": "message",
          "email": "email", "first_name": "first_name", "last_name": "last_name", "phone": "phone",
          "company": "company", "attachments": "attachments", "subject": "message"}
# The helpdesk's codes about the files, which carry no field of their own in every case.
FILE_CODES = ("attachment_too_large", "attachment_type_refused", "attachment_empty", "too_many_attachments",
              "payload_too_large")


def _helpdesk(method: str, path: str, *, token: bool = True, **kwargs):
    headers = dict(kwargs.pop("headers", {}) or {})
    access = sessions.access_token() if token else None
    if access:
        headers["Authorization"] = f"Bearer {access}"
    # The technical context (operating system, browser) is the helpdesk's reading of the person's User-Agent.
    headers.setdefault("User-Agent", flask.request.headers.get("User-Agent", ""))
    response = deps.current().helpdesk.request(method, path, headers=headers, retry=False, **kwargs)
    if response.status_code == 401 and access:
        # A token the helpdesk no longer takes: the form works anonymously too.
        return _helpdesk(method, path, token=False, headers=headers, **kwargs)
    if response.status_code >= 500:
        flask.abort(503)
    return response


def _local(path: str | None) -> str | None:
    """The page the person came from, when it is one of ours (a path, never another site)."""
    path = (path or "").strip()
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 2000:
        return None
    return path


def _about(value: str | None) -> str | None:
    """What the page the person came from was about (its title), as the helpdesk takes it."""
    value = " ".join((value or "").split())[:300]
    return value or None


def _context(page: str | None, about: str | None) -> dict:
    params = {k: v for k, v in (("page", page), ("resource", about)) if v}
    response = _helpdesk("GET", "/helpdesk/context", params=params or None)
    if response.status_code != 200:
        flask.abort(503)
    return response.json()


def _categories() -> list[dict]:
    response = _helpdesk("GET", "/helpdesk/categories")
    if response.status_code != 200:
        flask.abort(503)
    return response.json().get("items", [])


def _faq(category_id: str | None) -> list[dict] | None:
    if not category_id:
        return None
    response = _helpdesk("GET", "/helpdesk/faq", params={"category_id": category_id, "limit": 100})
    if response.status_code != 200:
        return None
    return response.json().get("items", [])


def _view_of(value: str | None) -> str | None:
    """A showing's id carried by the page's forms (``affichage``), when it looks like one."""
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None


def _record_view(faq: list[dict] | None) -> str | None:
    """The questions listed to the person, for the deflection of each (the helpdesk's ``POST /faq/views``);
    its id goes with « La FAQ m'a permis… ». Not recorded: the page still works."""
    if not faq:
        return None
    response = deps.current().helpdesk.request(
        "POST", "/helpdesk/faq/views", json={"entry_ids": [e["id"] for e in faq]}, retry=False)
    return response.json().get("view_id") if response.status_code == 201 else None


def _render(status: int = 200, *, category_id: str | None, page: str | None, about: str | None, go_on: bool,
            values: dict | None = None, errors: dict | None = None, error: str | None = None,
            category_error: str | None = None, view_id: str | None = None, new_view: bool = False):
    context = _context(page, about)
    categories = _categories()
    known = {c["id"] for c in categories}
    if category_id and category_id not in known:
        category_error = category_error or _("Choisissez l'objet de votre demande dans la liste.")
        category_id = None
    if values is None:
        contact = context.get("contact") or {}
        values = {k: contact.get(k) or "" for k in CONTACT_FIELDS}
    settings = current_runtime().settings
    faq = _faq(category_id)
    if new_view:
        view_id = _record_view(faq)
    return flask.render_template(
        "assistance/request.html", context=context, categories=categories, category_id=category_id,
        category=next((c for c in categories if c["id"] == category_id), None), faq=faq, view_id=view_id,
        page_from=page or "", assistance_from=page or "", about=about or "", assistance_about=about or "",
        go_on=go_on and bool(category_id), values=values, errors=errors or {}, error=error,
        category_error=category_error, idempotency_key=flask.request.form.get("idempotency_key") or uuid.uuid4().hex,
        max_file_bytes=settings.assistance_max_file_bytes, max_file_size=human_size(settings.assistance_max_file_bytes),
        accepted_types=settings.assistance_accepted_types), status


@blueprint.get("/assistance")
def form():
    args = flask.request.args
    category_id = args.get("categorie") or None
    error = None
    if "categorie" in args and not category_id:
        error = _("Choisissez l'objet de votre demande dans la liste.")
    go_on = args.get("poursuivre") == "1"
    # The category's FAQ shown afresh is one showing; « je poursuis ma demande » keeps the one it came from.
    return _render(category_id=category_id, page=_local(args.get("page")), about=_about(args.get("objet")),
                   go_on=go_on, category_error=error, view_id=_view_of(args.get("affichage")), new_view=not go_on)


@blueprint.post("/assistance")
def send():
    form = flask.request.form
    page, about = _local(form.get("page")), _about(form.get("objet"))
    category_id = form.get("category_id") or None
    values = {k: form.get(k, "").strip() for k in TEXT_FIELDS}
    values["message"] = form.get("message", "")
    data = {k: v for k, v in values.items() if v}
    data["category_id"] = category_id or ""
    data.update({k: form[k].strip() for k in BROWSER_FIELDS if form.get(k, "").strip()})
    if page:
        data["page"] = page
    if about:
        data["resource"] = about
    files = [("attachments", (f.filename, f.stream, f.mimetype or "application/octet-stream"))
             for f in flask.request.files.getlist("attachments") if f and f.filename]
    if not category_id:
        return _render(422, category_id=None, page=page, about=about, go_on=False, values=values,
                       category_error=_("Choisissez l'objet de votre demande dans la liste."))
    headers = {"Idempotency-Key": form.get("idempotency_key") or uuid.uuid4().hex}
    # multipart/form-data always (the helpdesk's contract): the fields as parts without a file name, then the files.
    parts = [(k, (None, v)) for k, v in data.items()] + files
    response = _helpdesk("POST", "/helpdesk/tickets", files=parts, headers=headers)
    if response.status_code in (200, 201):
        return flask.render_template("assistance/request_sent.html", ticket=response.json(), page_from=page,
                                     assistance_from=page or "", assistance_about=about or ""), 201
    problem = forms.problem_of(response)
    errors = problem.field_errors(FIELDS)
    if problem.code in FILE_CODES:
        # The helpdesk's whole sentence names the file and the limit or the accepted formats.
        errors["attachments"] = problem.detail
    return _render(response.status_code if response.status_code < 500 else 503, category_id=category_id, page=page,
                   about=about, go_on=True, values=values, errors=errors, error=problem.detail)


@blueprint.post("/assistance/faq-resolue")
def resolved():
    form = flask.request.form
    body = {"outcome": "resolved"}
    if form.get("category_id"):
        body["category_id"] = form["category_id"]
    if _view_of(form.get("affichage")):
        body["view_id"] = _view_of(form.get("affichage"))
    response = _helpdesk("POST", "/helpdesk/faq/outcomes", json=body)
    if response.status_code != 204:
        return _render(response.status_code, category_id=form.get("category_id"), page=_local(form.get("page")),
                       about=_about(form.get("objet")), go_on=False,
                       error=forms.problem_of(response).detail)
    return flask.redirect(flask.url_for("assistance_request.thanks", page=_local(form.get("page")),
                                        objet=_about(form.get("objet"))), code=303)


@blueprint.get("/assistance/merci")
def thanks():
    page = _local(flask.request.args.get("page"))
    return flask.render_template("assistance/request_thanks.html", page_from=page, assistance_from=page or "",
                                 assistance_about=_about(flask.request.args.get("objet")) or "")


@blueprint.get("/assistance/suggestions")
def suggestions():
    """The FAQ questions matching what is typed (the helpdesk's French search), as an HTML fragment."""
    query = flask.request.args.get("q", "").strip()[:200]
    if not query:
        # Nothing typed, nothing to suggest (and no page: a fragment is never one, bench/web.py skips a 204).
        return flask.Response(status=204, headers={"Cache-Control": "no-store"})
    params = {"q": query, "limit": 5}
    if flask.request.args.get("categorie"):
        params["category_id"] = flask.request.args["categorie"]
    response = _helpdesk("GET", "/helpdesk/faq/search", params=params)
    items = response.json().get("items", []) if response.status_code == 200 else []
    answer = flask.make_response(flask.render_template("assistance/request_suggestions.html", items=items,
                                                       query=query))
    answer.headers["Cache-Control"] = "no-store"
    return answer

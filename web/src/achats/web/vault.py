"""« Coffre-fort » of « Mon entreprise »: the company's documents (list, upload, download, deletion).

Every page calls the company registry's vault (``/registry/companies/{id}/documents``) with the user's token,
for the company of that token only (the page never takes a company id from the address): the registry decides
who reads what, which files it accepts (size, type judged by content), and whether a document expired or
expires soon (``expired``, ``expires_soon``); its French messages are shown beside the field they concern.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import flask
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _

from . import forms
from .account import as_user, require_login
from .relay import relayed

blueprint = flask.Blueprint("vault", __name__)



def types() -> dict[str, str]:
    """The contract's document types (its DocumentType enum), named in the page's language."""
    return {"kbis": _("Extrait Kbis"), "attestation_fiscale": _("Attestation de régularité fiscale"),
            "attestation_urssaf": _("Attestation de vigilance URSSAF"), "other": _("Autre document")}

FIELDS = ("type", "label", "valid_until")
# The registry's refusals of the file itself (its size, its type, an empty file) go beside « Fichier ».
FILE_CODES = {"document_too_large", "payload_too_large", "document_type_refused", "document_empty"}


@blueprint.app_template_filter("date_du_jour")
def day(value: str) -> str:
    """An ISO date (or date-time) of the registry as the page's language writes a day: « 7 décembre 2026 »."""
    moment = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value).date()
    return format_date(moment, "d MMMM y")


@blueprint.app_template_filter("taille")
def size(value: int) -> str:
    if value < 1024 * 1024:
        return _("%(n)s Ko", n=format_decimal(max(1, round(value / 1024))))
    return _("%(n)s Mo", n=format_decimal(round(value / (1024 * 1024), 1)))


def _company_id() -> str:
    user = require_login()
    if not user.company_id:
        flask.abort(403)  # an account without a company (an agent) has no vault here
    return user.company_id


def _registry(method: str, path: str, **kwargs):
    return as_user("registry", method, path, **kwargs)


def _documents_path(document_id: uuid.UUID | None = None, suffix: str = "") -> str:
    path = f"/registry/companies/{_company_id()}/documents"
    return f"{path}/{document_id}{suffix}" if document_id else path


def _documents() -> dict:
    response = _registry("GET", _documents_path(), params={"limit": 200})
    if response.status_code in (403, 404):
        flask.abort(response.status_code)
    if response.status_code != 200:
        flask.abort(503)
    return response.json()


def _document(document_id: uuid.UUID) -> dict:
    """One document of the user's company; the registry's 404 (another company's, or none) is the 404 page."""
    response = _registry("GET", _documents_path(document_id))
    if response.status_code in (403, 404):
        flask.abort(response.status_code)
    if response.status_code != 200:
        flask.abort(503)
    return response.json()


def _render(status: int = 200, **context):
    context.setdefault("values", {"type": "", "label": "", "valid_until": ""})
    return flask.render_template("vault/index.html", documents=_documents(), types=types(),
                                 added=flask.request.args.get("ajoute") == "1",
                                 deleted=flask.request.args.get("supprime") == "1", **context), status


@blueprint.get("/entreprise/coffre-fort")
def index():
    _company_id()
    return _render()


@blueprint.post("/entreprise/coffre-fort")
def upload():
    _company_id()
    form = flask.request.form
    values = {k: form.get(k, "").strip() for k in FIELDS}
    data = {"type": values["type"]}
    if values["label"]:
        data["label"] = values["label"]
    if values["valid_until"]:
        data["valid_until"] = values["valid_until"]
    sent = flask.request.files.get("file")
    files = {"file": (sent.filename or "document", sent.stream, sent.mimetype or "application/octet-stream")} \
        if sent and sent.filename else None
    if files is None:
        # No file chosen (the browser lets it through with JavaScript's checks off): the form's own check.
        return _render(422, values=values, errors={"file": _("Choisissez le fichier à déposer.")})
    response = _registry("POST", _documents_path(), data=data, files=files)
    if response.status_code == 201:
        return flask.redirect(flask.url_for("vault.index", ajoute="1"), code=303)
    problem = forms.problem_of(response)
    errors = problem.field_errors({"type": "type", "label": "label", "valid_until": "valid_until", "file": "file"})
    if problem.code in FILE_CODES and "file" not in errors:
        errors["file"] = problem.detail
    return _render(response.status_code, values=values, errors=errors,
                   error=None if errors else problem.detail)


@blueprint.get("/entreprise/coffre-fort/<uuid:document_id>/telechargement")
def download(document_id: uuid.UUID):
    _company_id()
    response = _registry("GET", _documents_path(document_id, "/content"), stream=True)
    if response.status_code != 200:
        response.close()
        flask.abort(response.status_code if response.status_code in (403, 404) else 503)

    return relayed(response)


@blueprint.get("/entreprise/coffre-fort/<uuid:document_id>/suppression")
def delete(document_id: uuid.UUID):
    _company_id()
    return flask.render_template("vault/delete.html", document=_document(document_id), types=types())


@blueprint.post("/entreprise/coffre-fort/<uuid:document_id>/suppression")
def delete_post(document_id: uuid.UUID):
    _company_id()
    response = _registry("DELETE", _documents_path(document_id))
    if response.status_code == 204:
        return flask.redirect(flask.url_for("vault.index", supprime="1"), code=303)
    if response.status_code == 404:
        flask.abort(404)
    problem = forms.problem_of(response)
    return flask.render_template("vault/delete.html", document=_document(document_id), types=types(),
                                 error=problem.detail), response.status_code

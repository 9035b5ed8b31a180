"""A ticket in the back office (issue 17 item 2): the requester's three contexts, the whole history (internal
entries visibly apart), the attachments through this app, and the agents' actions as forms — each one the
helpdesk's ``/helpdesk/agent/tickets/{id}/...`` route with the user's token (the helpdesk checks the role and
every rule; its French messages are shown beside the field, nothing changed)."""

from __future__ import annotations

import uuid

import flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import forms
from ..assistance import FILE_CODES
from ..relay import relayed
from . import blueprint, call
from .queue import SEVERITIES, STATUSES

# Images shown in the page: only when the helpdesk's content check (its detected type, never the name) says
# the bytes are one of these raster formats (no SVG: it can hold script).
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# Statuses an agent sets directly (the helpdesk's SETTABLE); waiting for the requester is « Demander des informations ».
SETTABLE = ("in_progress", "resolved", "closed")
AFTER_REPLY = {"": _l("Ne pas changer le statut"), "resolved": _l("Marquer la demande comme résolue"),
               "closed": _l("Fermer la demande")}
DONE = {
    "prise": _l("Vous avez pris la demande en charge."),
    "attribuee": _l("L’attribution de la demande a été modifiée."),
    "reponse": _l("Votre réponse a été envoyée au demandeur par courriel."),
    "question": _l("Votre demande d’informations a été envoyée au demandeur par courriel."),
    "note": _l("La note interne a été ajoutée. Elle n’est jamais envoyée au demandeur."),
    "statut": _l("Le statut de la demande a été modifié."),
    "fusion": _l("La demande a été fusionnée et fermée."),
    "liens": _l("Les liens de suivi de cette demande ne fonctionnent plus."),
    "lien": _l("Un nouveau lien de suivi a été envoyé au demandeur par courriel."),
    "renvoi": _l("Le courriel sera envoyé à nouveau."),
}
PASSED_HEADERS = ("Content-Type", "Content-Length")
# « Envois de courriels » (mails.py) sets it: the ticket's mails for the page, or None (no section).
DELIVERIES = None


def _path(ticket_id: uuid.UUID, suffix: str = "") -> str:
    return f"/helpdesk/agent/tickets/{ticket_id}{suffix}"


def _ticket(ticket_id: uuid.UUID) -> dict:
    response = call("helpdesk", "GET", _path(ticket_id))
    if response.status_code == 404:
        flask.abort(404)
    if response.status_code != 200:
        flask.abort(503)
    return response.json()


def _agents() -> list[tuple[str, str]]:
    response = call("helpdesk", "GET", "/helpdesk/agent/agents")
    if response.status_code != 200:
        return []
    return [(a["id"], a["name"] or a["id"]) for a in response.json()["items"]]


def _render(ticket_id: uuid.UUID, status: int = 200, **context):
    ticket = _ticket(ticket_id)
    return flask.render_template(
        "backoffice/ticket.html", ticket=ticket, statuses=STATUSES, severities=SEVERITIES, settable=SETTABLE,
        after_reply=AFTER_REPLY, agents=_agents(), inline_images=INLINE_IMAGES, bo_page="backoffice.queue",
        done=DONE.get(flask.request.args.get("fait", "")), deliveries=DELIVERIES(ticket) if DELIVERIES else None,
        attachment_url=lambda a, **kw: flask.url_for("backoffice.ticket_attachment", ticket_id=ticket_id,
                                                     attachment_id=a["id"], **kw),
        errors=context.pop("errors", {}), typed=context.pop("typed", {}), **context), status


def _done(ticket_id: uuid.UUID, what: str, anchor: str = "") -> flask.Response:
    return flask.redirect(flask.url_for("backoffice.ticket", ticket_id=ticket_id, fait=what) + anchor, code=303)


def _refused(ticket_id: uuid.UUID, response, form: str, fields: dict[str, str], typed: dict | None = None):
    """The helpdesk said no: its message beside the field of ``form`` it names (else above the form), what was
    typed kept, the status it answered."""
    if response.status_code == 404:
        flask.abort(404)
    problem = forms.problem_of(response)
    errors = {f"{form}.{name}": message for name, message in problem.field_errors(fields).items()}
    if problem.code in FILE_CODES and "attachments" in fields.values():
        errors[f"{form}.attachments"] = problem.detail
    if not errors:
        errors[form] = problem.detail
    return _render(ticket_id, response.status_code, errors=errors, typed={form: typed or {}})


def _files() -> list:
    chosen = [("attachments", (sent.filename, sent.stream, sent.mimetype or "application/octet-stream"))
              for sent in flask.request.files.getlist("attachments") if sent and sent.filename]
    return chosen or [("attachments", ("", b"", "application/octet-stream"))]


@blueprint.get("/demandes/<uuid:ticket_id>")
def ticket(ticket_id: uuid.UUID):
    return _render(ticket_id)


@blueprint.post("/demandes/<uuid:ticket_id>/prendre")
def ticket_take(ticket_id: uuid.UUID):
    response = call("helpdesk", "PUT", _path(ticket_id, "/assignee"), json={})
    if response.status_code == 200:
        return _done(ticket_id, "prise")
    return _refused(ticket_id, response, "attribution", {})


@blueprint.post("/demandes/<uuid:ticket_id>/attribuer")
def ticket_assign(ticket_id: uuid.UUID):
    chosen = flask.request.form.get("agent", "")
    names = dict(_agents())
    if chosen and chosen not in names:
        return _render(ticket_id, 422, errors={"attribution.agent": _("Choisissez un agent dans la liste.")})
    body = {"agent_id": chosen, "agent_name": names[chosen]} if chosen else {"agent_id": None}
    response = call("helpdesk", "PUT", _path(ticket_id, "/assignee"), json=body)
    if response.status_code == 200:
        return _done(ticket_id, "attribuee")
    return _refused(ticket_id, response, "attribution", {"agent_id": "agent"})


def _message(ticket_id: uuid.UUID, suffix: str, done: str, form: str, extra: dict | None = None):
    message = flask.request.form.get("message", "")
    response = call("helpdesk", "POST", _path(ticket_id, suffix), data={"message": message, **(extra or {})},
                    files=_files())
    if response.status_code == 201:
        return _done(ticket_id, done)
    return _refused(ticket_id, response, form, {"message": "message", "attachments": "attachments"},
                    {"message": message, **(extra or {})})


@blueprint.post("/demandes/<uuid:ticket_id>/reponse")
def ticket_reply(ticket_id: uuid.UUID):
    then = flask.request.form.get("ensuite", "")
    return _message(ticket_id, "/replies", "reponse", "reponse",
                    {"status": then} if then in AFTER_REPLY and then else None)


@blueprint.post("/demandes/<uuid:ticket_id>/demande-d-informations")
def ticket_question(ticket_id: uuid.UUID):
    return _message(ticket_id, "/information-requests", "question", "reponse")


@blueprint.post("/demandes/<uuid:ticket_id>/note")
def ticket_note(ticket_id: uuid.UUID):
    return _message(ticket_id, "/notes", "note", "note")


@blueprint.post("/demandes/<uuid:ticket_id>/statut")
def ticket_status(ticket_id: uuid.UUID):
    status, comment = flask.request.form.get("statut", ""), flask.request.form.get("commentaire", "").strip()
    typed = {"statut": status, "commentaire": comment}
    if status not in SETTABLE:
        return _render(ticket_id, 422, errors={"statut.statut": _("Choisissez le nouveau statut.")},
                       typed={"statut": typed})
    response = call("helpdesk", "PUT", _path(ticket_id, "/status"),
                    json={"status": status, **({"comment": comment} if comment else {})})
    if response.status_code == 200:
        return _done(ticket_id, "statut")
    return _refused(ticket_id, response, "statut", {"status": "statut", "comment": "commentaire"}, typed)


@blueprint.post("/demandes/<uuid:ticket_id>/fusion")
def ticket_merge(ticket_id: uuid.UUID):
    reference = flask.request.form.get("reference", "").strip()[:20]
    response = call("helpdesk", "POST", _path(ticket_id, "/merge"), json={"reference": reference})
    if response.status_code == 200:
        return _done(ticket_id, "fusion")
    return _refused(ticket_id, response, "fusion", {"reference": "reference"}, {"reference": reference})


@blueprint.post("/demandes/<uuid:ticket_id>/liens-de-suivi/revocation")
def ticket_revoke_links(ticket_id: uuid.UUID):
    response = call("helpdesk", "DELETE", f"/helpdesk/tickets/{ticket_id}/follow-links")
    if response.status_code == 204:
        return _done(ticket_id, "liens")
    return _refused(ticket_id, response, "liens", {})


@blueprint.post("/demandes/<uuid:ticket_id>/liens-de-suivi/nouveau")
def ticket_send_link(ticket_id: uuid.UUID):
    response = call("helpdesk", "POST", _path(ticket_id, "/follow-links"))
    if response.status_code == 201:
        return _done(ticket_id, "lien")
    return _refused(ticket_id, response, "liens", {})


@blueprint.get("/demandes/<uuid:ticket_id>/pieces-jointes/<uuid:attachment_id>")
def ticket_attachment(ticket_id: uuid.UUID, attachment_id: uuid.UUID):
    """The file from the helpdesk, always as a download (``attachment``, ``nosniff``, the helpdesk's detected type);
    ``?apercu=1`` shows it in the page only when that type is one of ``INLINE_IMAGES``."""
    response = call("helpdesk", "GET", _path(ticket_id, f"/attachments/{attachment_id}"), stream=True)
    if response.status_code != 200:
        response.close()
        flask.abort(404)
    content_type = response.headers.get("Content-Type", "application/octet-stream").split(";")[0].strip().lower()
    inline = flask.request.args.get("apercu") == "1" and content_type in INLINE_IMAGES

    out = relayed(response, PASSED_HEADERS)
    disposition = response.headers.get("Content-Disposition", "attachment")
    out.headers["Content-Disposition"] = disposition if not inline else disposition.replace("attachment", "inline", 1)
    out.headers["X-Content-Type-Options"] = "nosniff"
    return out

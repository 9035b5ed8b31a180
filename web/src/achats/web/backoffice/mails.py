"""« Envois de courriels » of a ticket (issue 17 item 4): the notifier's deliveries about it
(``GET /notifier/deliveries?ticket_id=``, the user's token: the notifier checks the role) — sent, waiting for a
new try, failed — with time and recipient, and « Renvoyer » for a failed one (``POST …/retry``). The notifier
down or refusing leaves the ticket's page as it is, this section saying so."""

from __future__ import annotations

import uuid

import flask
import structlog
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from achats.chassis.http import ServiceUnavailable

from .. import deps, forms, sessions
from . import blueprint, call, ticket

log = structlog.get_logger(__name__)

LIMIT = 50
# The notifier's statuses as agents read them; « queued » after a try is a mail waiting for its next one.
LABELS = {"sent": (_l("Envoyé"), "success"), "retrying": (_l("Nouvel essai prévu"), "warning"),
          "queued": (_l("En attente d’envoi"), "info"), "failed": (_l("Échec"), "error")}


def state(delivery: dict) -> str:
    if delivery["status"] == "queued" and delivery.get("attempts"):
        return "retrying"
    return delivery["status"]


def deliveries(shown: dict) -> dict:
    """The section's data: ``items`` (each with its ``state``), or ``error`` when the notifier cannot tell."""
    try:
        response = deps.current().notifier.request(
            "GET", "/notifier/deliveries", params={"ticket_id": shown["id"], "limit": LIMIT},
            headers={"Authorization": f"Bearer {sessions.access_token()}"}, retry=False)
    except ServiceUnavailable:
        log.warning("backoffice.notifier_unavailable")
        return {"items": [], "error": _("Les envois de courriels sont momentanément indisponibles.")}
    if response.status_code != 200:
        return {"items": [], "error": forms.problem_of(response).detail}
    items = [{**d, "state": state(d)} for d in response.json()["items"]]
    return {"items": items, "error": None, "labels": LABELS, "more": response.json()["next_cursor"] is not None}


ticket.DELIVERIES = deliveries


@blueprint.post("/demandes/<uuid:ticket_id>/courriels/<uuid:delivery_id>/renvoi")
def ticket_mail_retry(ticket_id: uuid.UUID, delivery_id: uuid.UUID):
    """« Renvoyer »: a failed mail of this ticket queued again by the notifier (the same message)."""
    found = call("notifier", "GET", f"/notifier/deliveries/{delivery_id}")
    if found.status_code != 200 or found.json().get("ticket_id") != str(ticket_id):
        flask.abort(404)
    response = call("notifier", "POST", f"/notifier/deliveries/{delivery_id}/retry")
    if response.status_code == 202:
        return flask.redirect(flask.url_for("backoffice.ticket", ticket_id=ticket_id, fait="renvoi") + "#courriels",
                              code=303)
    return ticket._render(ticket_id, response.status_code, errors={"courriels": forms.problem_of(response).detail})

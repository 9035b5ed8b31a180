"""« Demandes »: the helpdesk's queue (``GET /helpdesk/agent/tickets``) for support agents and administrators."""

from __future__ import annotations

import flask
from flask_babel import lazy_gettext as _l

from . import blueprint, call

# The agents' words for the helpdesk's statuses (the requester's page says « En attente de votre réponse »).
STATUSES = {"new": _l("Nouvelle"), "in_progress": _l("En cours de traitement"),
            "waiting_customer": _l("En attente du demandeur"), "resolved": _l("Résolue"), "closed": _l("Fermée")}
SEVERITIES = {"blocking": _l("Bloquant"), "major": _l("Majeur"), "minor": _l("Mineur"),
              "suggestion": _l("Suggestion d’amélioration")}


@blueprint.get("/demandes")
def queue():
    response = call("helpdesk", "GET", "/helpdesk/agent/tickets", params={"sort": "oldest", "limit": 50})
    page = response.json() if response.status_code == 200 else {"count": 0, "items": []}
    return flask.render_template("backoffice/queue.html", page=page, statuses=STATUSES, severities=SEVERITIES,
                                 bo_page="backoffice.queue")

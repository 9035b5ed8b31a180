"""« Demandes »: the helpdesk's queue (``GET /helpdesk/agent/tickets``) for support agents and administrators —
its filters, sort and pages as the address's query (a GET form: works without JavaScript, can be bookmarked),
and the number of tickets of each status (the helpdesk's ``count``)."""

from __future__ import annotations

import flask
from flask_babel import lazy_gettext as _l

from .. import forms
from . import blueprint, call

# The agents' words for the helpdesk's statuses (the requester's page says « En attente de votre réponse »).
STATUSES = {"new": _l("Nouvelle"), "in_progress": _l("En cours de traitement"),
            "waiting_customer": _l("En attente du demandeur"), "resolved": _l("Résolue"), "closed": _l("Fermée")}
SEVERITIES = {"blocking": _l("Bloquant"), "major": _l("Majeur"), "minor": _l("Mineur"),
              "suggestion": _l("Suggestion d’amélioration")}
ASSIGNEES = {"": _l("Toutes"), "me": _l("Attribuées à moi"), "none": _l("Non attribuées")}
SORTS = {"oldest": _l("Les plus anciennes d’abord"), "newest": _l("Les plus récentes d’abord"),
         "severity": _l("Les plus graves d’abord")}
PAGE_SIZE = 25


def _filters(args) -> dict:
    """The page's query, kept to the values the helpdesk knows (anything else: the default)."""
    return {"q": args.get("q", "").strip()[:200],
            "statut": args.get("statut") if args.get("statut") in STATUSES else "",
            "gravite": args.get("gravite") if args.get("gravite") in SEVERITIES else "",
            "categorie": args.get("categorie", "").strip()[:64],
            "attribution": args.get("attribution") if args.get("attribution") in ASSIGNEES else "",
            "tri": args.get("tri") if args.get("tri") in SORTS else "oldest"}


def _params(filters: dict) -> dict:
    params = {"sort": filters["tri"], "limit": PAGE_SIZE}
    for ours, theirs in (("q", "q"), ("statut", "status"), ("gravite", "severity"), ("categorie", "category_id"),
                         ("attribution", "assignee")):
        if filters[ours]:
            params[theirs] = filters[ours]
    return params


@blueprint.get("/demandes")
def queue():
    filters = _filters(flask.request.args)
    params = _params(filters)
    if flask.request.args.get("suite"):
        params["cursor"] = flask.request.args["suite"][:300]
    response = call("helpdesk", "GET", "/helpdesk/agent/tickets", params=params)
    error = None
    if response.status_code == 200:
        page = response.json()
    else:
        page, error = {"count": 0, "items": [], "next_cursor": None}, forms.problem_of(response).detail
    # The number of tickets of each status with the same other filters (one page of one ticket each).
    counts = {}
    for status in STATUSES:
        found = call("helpdesk", "GET", "/helpdesk/agent/tickets", params={**_params({**filters, "statut": status}),
                                                                          "limit": 1})
        counts[status] = found.json()["count"] if found.status_code == 200 else None
    categories = call("helpdesk", "GET", "/helpdesk/categories")
    options = [(c["id"], c["label"]) for c in categories.json()["items"]] if categories.status_code == 200 else []
    return flask.render_template(
        "backoffice/queue.html", page=page, filters=filters, counts=counts, error=error,
        cat_options=options,
        statuses=STATUSES, severities=SEVERITIES, assignees=ASSIGNEES, sorts=SORTS, bo_page="backoffice.queue",
        next_url=flask.url_for("backoffice.queue", **{k: v for k, v in filters.items() if v},
                               suite=page["next_cursor"]) if page.get("next_cursor") else None,
        status_url=lambda status: flask.url_for("backoffice.queue", **{
            k: v for k, v in {**filters, "statut": status}.items() if v})), response.status_code


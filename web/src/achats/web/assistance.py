"""The page the helpdesk's mails link to (« Pour accéder à cette demande d'assistance… »), until the follow
page of issue 16 replaces it: the ticket and its history, read through the helpdesk's follow API.

The link is ``/assistance/demande/<reference>#<token>``: the token is in the fragment, which browsers never
send to a server, so it is in no access log, proxy or Referer (the helpdesk's choice, kept). The page
answers the GET without the token; a form carries it in a POST body to this app, which passes it to the
helpdesk in ``X-Follow-Token``. With JavaScript, ``web.js`` puts the fragment in that form and sends it at
once (the address bar then holds no token); without JavaScript, the person pastes the code that follows
« # » in the mailed link into the same form. Both ways the token never appears in a URL a server sees.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import flask
from flask_babel import format_datetime
from flask_babel import gettext as _

from achats.chassis.app import current_runtime

from . import forms

blueprint = flask.Blueprint("assistance", __name__)

REFERENCE = re.compile(r"^[0-9]{8}$")


def _page(response, status: int = 200) -> flask.Response:
    response = flask.make_response(response, status)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.get("/assistance/demande/<reference>")
def follow(reference: str):
    if not REFERENCE.match(reference):
        flask.abort(404)
    return _page(flask.render_template("assistance/follow_code.html", reference=reference))


@blueprint.post("/assistance/demande/<reference>")
def follow_post(reference: str):
    if not REFERENCE.match(reference):
        flask.abort(404)
    # What is pasted may be the whole link, or the code with its « # ».
    code = flask.request.form.get("code", "").strip().rpartition("#")[2].strip()
    if not code:
        return _page(flask.render_template("assistance/follow_code.html", reference=reference,
                                           errors={"code": _("Collez le code de suivi reçu par courriel.")}), 422)
    response = current_runtime().extras["helpdesk"].get(f"/helpdesk/follow/{reference}",
                                                        headers={"X-Follow-Token": code}, retry=False)
    if response.status_code == 200:
        return _page(flask.render_template("assistance/follow_ticket.html", ticket=response.json()))
    if response.status_code >= 500:
        flask.abort(503)
    problem = forms.problem_of(response)
    return _page(flask.render_template("assistance/follow_code.html", reference=reference, error=problem.detail),
                 404 if response.status_code == 404 else response.status_code)



@blueprint.app_template_filter("datetime_local")
def datetime_local(value: str) -> str:
    """A service's ISO date-time as French (or English) people read it, in Paris time."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return format_datetime(moment.astimezone(ZoneInfo("Europe/Paris")), "d MMMM y, HH:mm", rebase=False)

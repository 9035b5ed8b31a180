"""« Consultations de test » (issue 19): the list of the practice consultations with its search, a consultation's
page, and its DCE downloaded through this app.

Everything is the consultations service's (``/consultations/...``): the search and its rules (words, CPV hierarchy,
procedure), the rolling deadline, the documents, who may download them. The list and a consultation's page are
public; a logged-in user's token goes with every call, so that the download is recorded for that user's company
(the service's ``dce_downloads``); an anonymous visitor is asked to log in first.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import flask
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from achats.chassis.app import current_runtime

from . import forms, sessions
from .account import LoginRequired, require_login

blueprint = flask.Blueprint("consultations", __name__)

# The contract's enums (its Procedure and ContractType), named in the page's language for the filters.
PROCEDURES = {"open": _l("Appel d’offres ouvert"), "restricted": _l("Appel d’offres restreint"),
              "adapted": _l("Procédure adaptée"), "negotiated": _l("Procédure négociée")}
CONTRACT_TYPES = {"works": _l("Travaux"), "supplies": _l("Fournitures"), "services": _l("Services")}
DOCUMENTS = {"reglement-consultation": _l("Règlement de la consultation"),
             "ccap": _l("Cahier des clauses administratives particulières (CCAP)"),
             "acte-engagement": _l("Acte d’engagement"), "dce.zip": _l("DCE complet (zip)")}
PAGE_SIZE = 20
PARIS = ZoneInfo("Europe/Paris")
# The download's headers passed on as the service sent them.
PASSED_HEADERS = ("Content-Type", "Content-Length", "Content-Disposition", "X-Content-Type-Options")


def call(method: str, path: str, **kwargs):
    """The consultations service, with the user's token when there is a session (the pages are public)."""
    token = sessions.access_token()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = current_runtime().extras["consultations"].request(method, path, headers=headers, retry=False, **kwargs)
    if response.status_code == 401 and token:
        sessions.end(flask.request.cookies.get(sessions.COOKIE))
        raise LoginRequired
    if response.status_code >= 500:
        flask.abort(503)
    return response


@blueprint.app_template_filter("heure_de_paris")
def paris_time(value: str) -> str:
    """An ISO date-time of the service as the page's language writes it, in Paris time: « 4 janvier 2027 à 12:00 »."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(PARIS)
    return format_datetime(moment, _("d MMMM y 'à' HH:mm"), rebase=False)


def _filters(args) -> dict:
    """The page's query, as typed (the service judges the words and the CPV code); unknown choices dropped."""
    return {"q": args.get("q", "").strip()[:200], "cpv": args.get("cpv", "").strip()[:12],
            "procedure": args.get("procedure") if args.get("procedure") in PROCEDURES else "",
            "type": args.get("type") if args.get("type") in CONTRACT_TYPES else ""}


@blueprint.get("/consultations")
def index():
    filters = _filters(flask.request.args)
    params = {"limit": PAGE_SIZE, **{k: v for k, v in (("q", filters["q"]), ("cpv", filters["cpv"]),
                                                     ("procedure", filters["procedure"]),
                                                     ("contract_type", filters["type"])) if v}}
    if flask.request.args.get("suite"):
        params["cursor"] = flask.request.args["suite"][:200]
    response = call("GET", "/consultations/consultations", params=params)
    errors, error = {}, None
    if response.status_code == 200:
        found = response.json()
    else:
        problem = forms.problem_of(response)
        errors = problem.field_errors({"q": "q", "cpv": "cpv"})
        error = None if errors else problem.detail
        found = {"count": 0, "items": [], "next_cursor": None}
    searched = any(filters.values())
    next_url = flask.url_for("consultations.index", **{k: v for k, v in filters.items() if v},
                             suite=found["next_cursor"]) if found.get("next_cursor") else None
    return flask.render_template("consultations/index.html", found=found, filters=filters, errors=errors,
                                 error=error, searched=searched, next_url=next_url, procedures=PROCEDURES,
                                 contract_types=CONTRACT_TYPES, page="se-preparer-a-repondre"), \
        200 if response.status_code == 200 else response.status_code


def find(reference: str) -> dict:
    """The consultation of this reference (the service's search by its words, then the exact reference), with its
    documents; the 404 page when there is none."""
    if len(reference) > 40:
        flask.abort(404)
    response = call("GET", "/consultations/consultations", params={"q": reference, "limit": 50})
    if response.status_code != 200:
        flask.abort(404)
    match = next((c for c in response.json()["items"] if c["reference"] == reference), None)
    if match is None:
        flask.abort(404)
    detail = call("GET", f"/consultations/consultations/{match['id']}")
    if detail.status_code != 200:
        flask.abort(404)
    return detail.json()


def company_downloads(consultation: dict) -> list[dict] | None:
    """The DCE downloads of the user's company for this consultation (None without a company's account)."""
    user = (sessions.current() or (None, None))[1]
    if user is None or not user.company_id:
        return None
    response = call("GET", "/consultations/downloads", params={"consultation_id": consultation["id"], "limit": 50})
    return response.json()["items"] if response.status_code == 200 else None


def company_questions(consultation: dict) -> dict | None:
    """What the user's company may read of the consultation's questions: the published answers (once it downloaded
    the DCE) and its own questions; None without a company's account."""
    user = (sessions.current() or (None, None))[1]
    if user is None or not user.company_id:
        return None
    response = call("GET", f"/consultations/consultations/{consultation['id']}/questions")
    return response.json() if response.status_code == 200 else None


def render_consultation(consultation: dict, status: int = 200, **context):
    user = (sessions.current() or (None, None))[1]
    context.setdefault("question_value", "")
    return flask.render_template(
        "consultations/show.html", c=consultation, user=user, downloads=company_downloads(consultation),
        questions=company_questions(consultation), question_sent=flask.request.args.get("question") == "envoyee",
        documents=DOCUMENTS, procedures=PROCEDURES, contract_types=CONTRACT_TYPES, page="se-preparer-a-repondre",
        login_url=flask.url_for("account.login", next=flask.url_for("consultations.show",
                                                                     reference=consultation["reference"])),
        **context), status


@blueprint.get("/consultations/<reference>")
def show(reference: str):
    return render_consultation(find(reference))


@blueprint.post("/consultations/<reference>/questions")
def ask(reference: str):
    """« Poser une question »: the question as typed to the service, its French refusal beside the field."""
    consultation = find(reference)
    require_login()
    text = flask.request.form.get("question", "")
    response = call("POST", f"/consultations/consultations/{consultation['id']}/questions", json={"question": text})
    if response.status_code == 201:
        return flask.redirect(flask.url_for("consultations.show", reference=reference, question="envoyee",
                                            _anchor="questions"), code=303)
    if response.status_code == 403:
        flask.abort(403)
    problem = forms.problem_of(response)
    errors = problem.field_errors({"question": "question"})
    return render_consultation(consultation, response.status_code, question_value=text,
                               question_errors=errors or {"question": problem.detail})


def _send(reference: str, suffix: str):
    """A document of the DCE (or the zip) through this app, with the user's token: the service records the
    download for the user's company. No session: the login page, then back to the consultation's page."""
    consultation = find(reference)
    if sessions.current() is None:
        return flask.redirect(flask.url_for("account.login", next=flask.url_for(
            "consultations.show", reference=reference)), code=303)
    response = call("GET", f"/consultations/consultations/{consultation['id']}/{suffix}", stream=True)
    if response.status_code != 200:
        response.close()
        if response.status_code == 403:
            flask.abort(403)
        flask.abort(404 if response.status_code == 404 else 503)

    def chunks():
        try:
            yield from response.iter_content(64 * 1024)
        finally:
            response.close()

    out = flask.Response(flask.stream_with_context(chunks()), status=200)
    for name in PASSED_HEADERS:
        if name in response.headers:
            out.headers[name] = response.headers[name]
    out.headers["Cache-Control"] = "private, no-store"
    return out


@blueprint.get("/consultations/<reference>/dce/<any(\"reglement-consultation\",ccap,\"acte-engagement\"):slug>")
def document(reference: str, slug: str):
    return _send(reference, f"dce/{slug}")


@blueprint.get("/consultations/<reference>/dce.zip")
def archive(reference: str):
    return _send(reference, "dce.zip")

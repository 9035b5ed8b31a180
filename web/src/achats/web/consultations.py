"""« Consultations de test » (issue 19): the list of the practice consultations with its search, a consultation's
page, and its DCE downloaded through this app.

Everything is the consultations service's (``/consultations/...``): the search and its rules (words, CPV hierarchy,
procedure), the rolling deadline, the documents, who may download them. The list and a consultation's page are
public; a logged-in user's token goes with every call, so that the download is recorded for that user's company
(the service's ``dce_downloads``); an anonymous visitor is asked to log in first.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import flask
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from achats.chassis import clock

from . import forms, sessions
from .account import as_user, require_login
from .relay import relayed

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


def call(method: str, path: str, extra_headers: dict | None = None, **kwargs):
    """The consultations service, with the user's token when there is a session (the pages are public)."""
    return as_user("consultations", method, path, anonymous=True, headers=extra_headers, **kwargs)


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

    return relayed(response)


@blueprint.get("/consultations/<reference>/dce/<any(\"reglement-consultation\",ccap,\"acte-engagement\"):slug>")
def document(reference: str, slug: str):
    return _send(reference, f"dce/{slug}")


@blueprint.get("/consultations/<reference>/dce.zip")
def archive(reference: str):
    return _send(reference, "dce.zip")


# --- « Répondre », « Déposer », « Mes réponses » (issue 19 items 3 and 4) -----------------------------------

KINDS = ("candidature", "offre")
# The service's refusals of the deposit as a whole (not of one file): in the alert above the form.
INVALID_SIGNATURES = "signature_invalid_unconfirmed"


# The signature service's verdict on each file of a deposit (the consultations service keeps it, with its French
# label as the fallback for a code this catalog does not know).
SIGNATURES = {"compliant": _l("Conforme"), "to_verify": _l("À vérifier"), "non_compliant": _l("Non conforme"),
              "not_signed": _l("Aucune signature électronique"), "not_verified": _l("Non vérifiée")}


@blueprint.app_template_filter("verdict_de_signature")
def signature_verdict(signature: dict | None) -> str:
    signature = signature or {}
    return str(SIGNATURES.get(signature.get("status"), signature.get("label") or SIGNATURES["not_verified"]))


@blueprint.app_template_filter("heure_de_paris_seconde")
def paris_time_seconds(value: str) -> str:
    """The same, to the second (a deposit's time, as the timestamp gives it)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(PARIS)
    return format_datetime(moment, _("d MMMM y 'à' HH:mm:ss"), rebase=False)


def _company_user():
    """A logged-in user of a company (the login page first; an account without a company: 403)."""
    user = require_login()
    if not user.company_id:
        flask.abort(403)
    return user


def _lot(consultation: dict, number: int) -> dict:
    lot = next((lot for lot in consultation["lots"] if lot["number"] == number), None)
    if lot is None:
        flask.abort(404)
    return lot


def _current_deposit(consultation: dict, lot: int) -> dict | None:
    """The company's deposit that counts for this lot (the one a new deposit replaces), if any."""
    response = call("GET", "/consultations/deposits", params={"consultation_id": consultation["id"],
                                                              "status": "current", "limit": 50})
    if response.status_code != 200:
        return None
    return next((d for d in response.json()["items"] if d["lot_number"] == lot and d["sealed"]), None)


def render_answer(consultation: dict, lot: dict, status: int = 200, **context):
    """The « Répondre » form, with a fresh Idempotency-Key: submitting this rendering twice stores one deposit."""
    context.setdefault("errors", {})
    deadline = datetime.fromisoformat(consultation["deadline"].replace("Z", "+00:00"))
    return flask.render_template(
        "consultations/answer.html", c=consultation, lot=lot, key=str(uuid.uuid4()),
        closed=deadline <= clock.now(),
        current=_current_deposit(consultation, lot["number"]), page="se-preparer-a-repondre", **context), status


@blueprint.get("/consultations/<reference>/lots/<int:lot>/repondre")
def answer(reference: str, lot: int):
    consultation = find(reference)
    _company_user()
    return render_answer(consultation, _lot(consultation, lot))


@blueprint.post("/consultations/<reference>/lots/<int:lot>/repondre")
def deposit(reference: str, lot: int):
    """« Déposer »: the files as sent, tagged by their field, forwarded to the service with the form's key."""
    consultation = find(reference)
    _company_user()
    found = _lot(consultation, lot)
    form = flask.request.form
    key = form.get("cle", "").strip()
    files = [(kind, (item.filename, item.stream, item.mimetype or "application/octet-stream"))
             for kind in KINDS for item in flask.request.files.getlist(kind) if item.filename]
    data = {"accept_invalid_signatures": "true"} if form.get("accept_invalid_signatures") == "true" else {}
    headers_key = {"Idempotency-Key": key} if 0 < len(key) <= 200 else {}
    response = call("POST", f"/consultations/consultations/{consultation['id']}/lots/{lot}/deposits",
                    data=data, files=files or [("offre", ("", b"", "application/octet-stream"))],
                    extra_headers=headers_key)
    if response.status_code in (200, 201):
        return flask.redirect(flask.url_for("consultations.receipt_page", deposit_id=response.json()["id"],
                                            depose="1"), code=303)
    if response.status_code == 403 and forms.problem_of(response).code == "company_required":
        flask.abort(403)
    problem = forms.problem_of(response)
    errors: dict[str, str] = {}
    for error in problem.errors:
        field = str(error.get("field", ""))
        if field in KINDS:
            errors[field] = f"{errors[field]} {error.get('message', '')}" if field in errors \
                else error.get("message", "")
    return render_answer(consultation, found, response.status_code, errors=errors, error=problem.detail,
                         confirm=problem.code == INVALID_SIGNATURES)


def _deposit(deposit_id: uuid.UUID) -> dict:
    response = call("GET", f"/consultations/deposits/{deposit_id}")
    if response.status_code != 200:
        flask.abort(404)
    return response.json()


def _references() -> dict[str, str]:
    """Consultation id → reference (the web app's addresses name a consultation by its reference)."""
    response = call("GET", "/consultations/consultations", params={"limit": 50})
    return {c["id"]: c["reference"] for c in response.json()["items"]} if response.status_code == 200 else {}


@blueprint.get("/consultations/mes-reponses")
def my_deposits():
    """« Mes réponses »: the company's deposits, latest first, each with its status, files and receipt."""
    _company_user()
    response = call("GET", "/consultations/deposits", params={"limit": 50})
    if response.status_code != 200:
        flask.abort(503)
    return flask.render_template("consultations/my_deposits.html", found=response.json(),
                                 references=_references())


@blueprint.get("/consultations/mes-reponses/<uuid:deposit_id>")
def receipt_page(deposit_id: uuid.UUID):
    """A deposit: the confirmation after « Déposer », its files with their SHA-256, its time and receipt."""
    _company_user()
    found = _deposit(deposit_id)
    return flask.render_template("consultations/deposit.html", d=found, references=_references(),
                                 deposited=flask.request.args.get("depose") == "1")


@blueprint.get("/consultations/mes-reponses/<uuid:deposit_id>/accuse-de-reception.pdf")
def receipt_pdf(deposit_id: uuid.UUID):
    """The accusé de réception (the service's PDF), through this app with the user's token."""
    _company_user()
    response = call("GET", f"/consultations/deposits/{deposit_id}/receipt.pdf", stream=True)
    if response.status_code != 200:
        response.close()
        flask.abort(404 if response.status_code in (403, 404) else 503)

    return relayed(response)

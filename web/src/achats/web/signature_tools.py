"""« Outils de signature »: « Vérifier la signature électronique » and « Signer un document ».

Both are pages over the signature service (``WEB_SIGNATURE_URL``): the verification is public, as the
service's; the report page is addressed by the verification's id (the service's capability: whoever has the
id reads the report while it is kept); the downloads (PDF report, ETSI XML report, an enveloping signature's
signed content) are the service's answers streamed through. Signing needs a logged-in user (the service's
rule): the PKCS#12 and its password go to the service for that request only and are never stored here.
What a signature is worth (ETSI indication, qualification, verdict under the arrêté du 22 mars 2019, what a
person must still check) is the service's report; the page only names its codes in the page's language.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import flask
from flask_babel import format_datetime
from flask_babel import gettext as _

from . import deps, forms, sessions
from .account import LoginRequired, require_login
from .relay import relayed

blueprint = flask.Blueprint("signature_tools", __name__)

PAGE = "outils-de-signature"
VERIFY_FIELDS = {"file": "file", "signature": "signature"}
SIGN_FIELDS = {"file": "file", "pkcs12": "pkcs12", "password": "password", "format": "format", "level": "level"}
FORMATS = ("pades", "cades", "xades")
LEVELS = ("B-B", "B-T", "B-LT")


def _service(method: str, path: str, *, token: str | None = None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = deps.current().signature.request(method, path, headers=headers, retry=False, **kwargs)
    if response.status_code == 401 and token:
        sessions.end(flask.request.cookies.get(sessions.COOKIE))
        raise LoginRequired
    return response


def _upload(name: str):
    sent = flask.request.files.get(name)
    if sent is None or not sent.filename:
        return None
    return sent.filename, sent.stream, sent.mimetype or "application/octet-stream"


def _general(problem: forms.ServiceProblem, errors: dict[str, str]) -> str | None:
    """The service's ``detail`` above the form, unless a field already shows the same words."""
    return None if problem.detail in errors.values() else problem.detail


def _no_referrer(response) -> flask.Response:
    """The report's address is its capability: it never leaves in a Referer."""
    response = flask.make_response(response)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _stream(response) -> flask.Response:
    return relayed(response)


# --- names of the report's codes, in the page's language (display only: the service decides them) ----------

def labels() -> dict[str, dict[str, str]]:
    return {
        "indication": {"TOTAL_PASSED": _("Validation réussie (TOTAL_PASSED)"),
                       "TOTAL_FAILED": _("Validation en échec (TOTAL_FAILED)"),
                       "INDETERMINATE": _("Validation indéterminée (INDETERMINATE)"),
                       "NO_SIGNATURE_FOUND": _("Aucune signature trouvée (NO_SIGNATURE_FOUND)")},
        "revocation": {"good": _("Certificat non révoqué"), "revoked": _("Certificat révoqué"),
                       "unknown": _("Statut de révocation non obtenu"),
                       "not_checked": _("Révocation non vérifiée"),
                       "no_revocation_info": _("Le certificat n’indique aucun service de révocation"),
                       "not_required": _("Vérification de révocation non requise")},
        "packaging": {"embedded": _("intégrée au document"), "detached": _("détachée"),
                      "enveloping": _("enveloppante")},
        "coverage": {"entire_file": _("tout le fichier"), "entire_revision": _("toute la révision signée"),
                     "partial": _("une partie du fichier"), "unclear": _("indéterminée")},
        "modifications": {"none": _("aucune modification après la signature"),
                          "lta_updates": _("ajouts d’horodatages et de données de validation"),
                          "form_filling": _("remplissage de formulaire après la signature"),
                          "annotations": _("annotations ajoutées après la signature"),
                          "other": _("modifications après la signature")},
        "basis": {"timestamp": _("prouvée par l’horodatage"), "claimed": _("déclarée par le signataire")},
        "verdict_name": {"compliant": _("conforme"), "to_verify": _("à vérifier"),
                         "non_compliant": _("non conforme")},
        "verdict": {"compliant": "fr-badge--success", "to_verify": "fr-badge--warning",
                    "non_compliant": "fr-badge--error"},
    }


@blueprint.app_template_filter("date_heure")
def date_time(value: str | None) -> str:
    if not value:
        return ""
    return format_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")), "d MMMM y HH:mm:ss zzz")


# --- the entry --------------------------------------------------------------------------------------------

@blueprint.get("/outils-de-signature")
def index():
    return flask.render_template("signature/index.html", page=PAGE)


# --- « Vérifier la signature électronique » ---------------------------------------------------------------

def _verify_form(status: int = 200, **context):
    return flask.render_template("signature/verify.html", page=PAGE, errors=context.pop("errors", {}),
                                 **context), status


@blueprint.get("/outils-de-signature/verification")
def verify():
    return _verify_form()


@blueprint.post("/outils-de-signature/verification")
def verify_post():
    document = _upload("file")
    if document is None:
        return _verify_form(422, errors={"file": _("Choisissez le document à vérifier.")})
    files = {"file": document}
    signature = _upload("signature")
    if signature is not None:
        files["signature"] = signature
    response = _service("POST", "/signature/verifications", files=files)
    if response.status_code == 201:
        return flask.redirect(flask.url_for("signature_tools.report", verification_id=response.json()["id"]),
                              code=303)
    problem = forms.problem_of(response)
    errors = problem.field_errors(VERIFY_FIELDS)
    return _verify_form(response.status_code, errors=errors, error=_general(problem, errors))


def _report(verification_id: uuid.UUID) -> dict:
    response = _service("GET", f"/signature/verifications/{verification_id}")
    if response.status_code == 404:
        flask.abort(404)
    if response.status_code != 200:
        flask.abort(503)
    return response.json()


@blueprint.get("/outils-de-signature/verification/<uuid:verification_id>")
def report(verification_id: uuid.UUID):
    found = _report(verification_id)
    return _no_referrer(flask.render_template("signature/report.html", page=PAGE, audit=found["audit"],
                                              report=found["report"], labels=labels(),
                                              verification_id=verification_id))


DOWNLOADS = {"rapport.pdf": "report.pdf", "rapport.xml": "report.xml", "contenu-signe": "signed-content"}


@blueprint.get("/outils-de-signature/verification/<uuid:verification_id>/<any(\"rapport.pdf\",\"rapport.xml\","
               "\"contenu-signe\"):what>")
def download(verification_id: uuid.UUID, what: str):
    response = _service("GET", f"/signature/verifications/{verification_id}/{DOWNLOADS[what]}", stream=True)
    if response.status_code != 200:
        response.close()
        if response.status_code == 410:
            # The service's retention is over: the report page says so (and gives the recorded verdict).
            return flask.redirect(flask.url_for("signature_tools.report", verification_id=verification_id), code=303)
        if response.status_code == 404:
            flask.abort(404)
        flask.abort(503)
    return _stream(response)


# --- « Signer un document » ----------------------------------------------------------------------------------

def _sign_form(status: int = 200, **context):
    context.setdefault("values", {"format": "", "level": "B-B", "reason": "", "location": ""})
    return flask.render_template("signature/sign.html", page=PAGE, errors=context.pop("errors", {}),
                                 levels=LEVELS, assistant=assistant_texts(), **context), status


def assistant_texts() -> dict[str, str]:
    """What the pages' script says about the assistant, in the page's language (data-* of its block); the
    assistant's own French message is shown when its code is not one of these."""
    return {
        "port": str(flask.current_app.extensions["achats"].settings.assistant_port),
        "absent": _("« Mon Assistant Marchés Publics » n’a pas été trouvé sur ce poste. Installez-le, ouvrez-le "
                    "(commande « achats-assistant ouvrir »), puis cliquez sur « Rechercher l’assistant »."),
        "found": _("« Mon Assistant Marchés Publics » %(version)s est ouvert sur ce poste.", version="{version}"),
        "pairing": _("Code d’association : %(code)s. Vérifiez que l’assistant affiche le même code, puis acceptez "
                     "l’association dans l’assistant.", code="{code}"),
        "paired": _("Cette page est associée à l’assistant."),
        "pairing_refused": _("L’association a été refusée dans l’assistant. Cliquez sur « Associer l’assistant » "
                             "pour recommencer."),
        "pairing_required": _("L’assistant ne reconnaît plus cette page (il a peut-être été redémarré) : "
                              "associez-le de nouveau."),
        "pin_incorrect": _("Code PIN incorrect. Attention : après plusieurs essais erronés, votre carte ou clé se "
                           "bloque."),
        "pin_locked": _("Votre carte ou clé de signature est bloquée (trop de codes PIN erronés). Débloquez-la avec "
                        "son code PUK ou l’outil de son fournisseur, puis recommencez."),
        "token_removed": _("La carte ou la clé de signature a été retirée (ou n’est plus reconnue). Rebranchez-la, "
                           "puis recommencez."),
        "cancelled": _("Signature annulée dans l’assistant : aucun document n’a été signé."),
        "lost": _("La liaison avec l’assistant a été interrompue. Vérifiez qu’il est toujours ouvert, puis "
                  "recommencez."),
        "no_certificate": _("L’assistant ne voit aucun certificat : branchez votre carte ou votre clé USB, puis "
                            "cliquez sur « Actualiser la liste des certificats »."),
        "choose_certificate": _("Choisissez le certificat avec lequel signer."),
        "choose_file": _("Choisissez le document à signer."),
        "valid": _("Valide du %(debut)s au %(fin)s", debut="{debut}", fin="{fin}"),
        "issuer": _("Émis par %(emetteur)s", emetteur="{emetteur}"),
        "unusable": _("Ne permet pas de signer"),
        "preparing": _("Préparation de la signature par la plateforme…"),
        "signing": _("Saisissez le code PIN de votre carte ou clé dans l’assistant (il n’est jamais saisi dans "
                     "cette page)."),
        "finishing": _("Création du document signé…"),
        "signed": _("Document signé : %(nom)s.", nom="{nom}"),
        "download": _("Télécharger le document signé (%(nom)s)", nom="{nom}"),
        "failed": _("La signature n’a pas pu aboutir. Veuillez réessayer."),
    }


@blueprint.get("/outils-de-signature/signature")
def sign():
    return _sign_form()


@blueprint.post("/outils-de-signature/signature")
def sign_post():
    require_login()
    form = flask.request.form
    values = {"format": form.get("format", ""), "level": form.get("level", "B-B") or "B-B",
              "reason": form.get("reason", "").strip(), "location": form.get("location", "").strip()}
    # Only the browser's own checks are repeated here (a file chosen); the service judges the rest.
    errors = {}
    document, pkcs12 = _upload("file"), _upload("pkcs12")
    if document is None:
        errors["file"] = _("Choisissez le document à signer.")
    if pkcs12 is None:
        errors["pkcs12"] = _("Choisissez le fichier de votre certificat (.p12 ou .pfx).")
    if errors:
        return _sign_form(422, values=values, errors=errors)
    data = {"format": values["format"], "level": values["level"], "password": form.get("password", "")}
    for key in ("reason", "location"):
        if values[key]:
            data[key] = values[key]
    response = _service("POST", "/signature/signatures", token=sessions.access_token(), data=data,
                        files={"file": document, "pkcs12": pkcs12}, stream=True)
    if response.status_code == 200:
        return _stream(response)
    response.content  # noqa: B018 — read the refusal whole (it is small) before closing
    response.close()
    problem = forms.problem_of(response)
    errors = problem.field_errors(SIGN_FIELDS)
    return _sign_form(response.status_code, values=values, errors=errors, error=_general(problem, errors))


# --- « Signer un document » with « Mon Assistant Marchés Publics » (the two steps, JSON for the page's script) --
#
# The page's script talks to the assistant on 127.0.0.1; the web app keeps the signing session with the user's
# token: step 1 (the document and the certificate the assistant listed → the data to be signed) and step 2 (the
# signature value the assistant made on the card → the signed document). Both are POSTs with the form's CSRF token.

def _problem_json(status: int, detail: str, code: str = "validation_failed"):
    response = flask.jsonify({"type": "about:blank", "title": code, "status": status, "detail": detail,
                              "code": code})
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _service_problem(response):
    problem = forms.problem_of(response)
    # The service's detail and its messages per field (a PDF expected for PAdES…), each said once.
    said = dict.fromkeys([problem.detail, *(e.get("message") for e in problem.errors if e.get("message"))])
    return _problem_json(response.status_code if response.status_code < 500 else 503, " ".join(said),
                         problem.code or "signature_refused")


@blueprint.post("/outils-de-signature/signature/assistant/preparation")
def assistant_prepare():
    if sessions.access_token() is None:
        return _problem_json(401, _("Votre session a expiré : connectez-vous de nouveau pour signer."),
                             "login_required")
    form = flask.request.form
    document = _upload("file")
    if document is None:
        return _problem_json(422, _("Choisissez le document à signer."), "file_required")
    certificate = form.get("certificate", "").strip()
    if "BEGIN CERTIFICATE" not in certificate:
        return _problem_json(422, _("Choisissez le certificat avec lequel signer."), "certificate_required")
    data = {"format": form.get("format", "pades"), "level": form.get("level", "B-B") or "B-B"}
    for key in ("reason", "location"):
        if form.get(key, "").strip():
            data[key] = form[key].strip()
    try:
        response = _service("POST", "/signature/signing-sessions", token=sessions.access_token(), data=data,
                            files={"file": document,
                                   "certificate": ("certificat.pem", certificate.encode(), "application/x-pem-file")})
    except LoginRequired:
        return _problem_json(401, _("Votre session a expiré : connectez-vous de nouveau pour signer."),
                             "login_required")
    if response.status_code != 201:
        return _service_problem(response)
    found = response.json()
    return flask.jsonify({key: found.get(key) for key in ("id", "format", "level", "filename", "data_to_be_signed",
                                                           "signature_algorithm", "expires_at")})


@blueprint.post("/outils-de-signature/signature/assistant/<uuid:session_id>/signature")
def assistant_complete(session_id: uuid.UUID):
    value = flask.request.form.get("signature_value", "").strip()
    if not value:
        return _problem_json(422, _("La signature de l’assistant est manquante."), "signature_value_required")
    try:
        response = _service("POST", f"/signature/signing-sessions/{session_id}/signature",
                            token=sessions.access_token(), json={"signature_value": value}, stream=True)
    except LoginRequired:
        return _problem_json(401, _("Votre session a expiré : connectez-vous de nouveau pour signer."),
                             "login_required")
    if response.status_code == 200:
        return _stream(response)
    response.content  # noqa: B018 — the refusal is small
    response.close()
    return _service_problem(response)


@blueprint.post("/outils-de-signature/signature/assistant/<uuid:session_id>/abandon")
def assistant_abandon(session_id: uuid.UUID):
    """The assistant did not sign (wrong PIN, cancelled…): the pending session is given up at the service."""
    try:
        response = _service("DELETE", f"/signature/signing-sessions/{session_id}", token=sessions.access_token())
    except LoginRequired:
        return _problem_json(401, _("Votre session a expiré : connectez-vous de nouveau pour signer."),
                             "login_required")
    return ("", 204) if response.status_code in (204, 404) else _service_problem(response)

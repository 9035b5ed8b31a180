"""« Suivi d'une demande »: the page the helpdesk's mails link to, and « Mes demandes d'assistance ».

The link is ``/assistance/demande/<reference>#<token>``: the token is in the fragment, which browsers never
send to a server, so it is in no access log, proxy or Referer (the helpdesk's choice, kept). The page
answers the GET without the token; a form carries it in a POST body to this app, which checks it with the
helpdesk (``X-Follow-Token``) and then keeps it in an HttpOnly cookie limited to this ticket's address
(``/assistance/demande/<reference>``, ended with the browser): the ticket's page, its reply form and its
attachments work from there on, the token never in a URL, in the page nor in its JavaScript. With
JavaScript, ``web.js`` puts the fragment in that form and sends it at once (the address bar then holds no
token); without JavaScript, the person pastes the code that follows « # » in the mailed link into the same
form. A link the helpdesk refuses (unknown, expired, revoked: it answers them alike) gets a page saying so
and how to get a new one (every mail about the ticket carries a new link; the helpdesk has no re-send).

A logged-in user finds the tickets sent while logged in under « Mes demandes d'assistance », read, answered
and downloaded with the user's own token (the helpdesk's ``/tickets`` routes), no follow link needed.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import flask
from flask_babel import format_datetime
from flask_babel import gettext as _

from achats.chassis.app import current_runtime

from . import deps, forms
from .account import as_user, require_login
from .relay import relayed

blueprint = flask.Blueprint("assistance", __name__)

REFERENCE = re.compile(r"^[0-9]{8}$")
COOKIE = "achats_suivi"
# The helpdesk's refusals of the files go beside « Pièces jointes », the others beside « Message ».
FILE_CODES = {"too_many_attachments", "attachment_too_large", "attachment_empty", "attachment_type_refused",
              "payload_too_large"}


def _page(response, status: int = 200) -> flask.Response:
    response = flask.make_response(response, status)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _helpdesk():
    return deps.current().helpdesk


def _checked(reference: str) -> None:
    if not REFERENCE.match(reference):
        flask.abort(404)


def _cookie_path(reference: str) -> str:
    return f"/assistance/demande/{reference}"


def _token() -> str | None:
    return flask.request.cookies.get(COOKIE) or None


def _follow(method: str, reference: str, suffix: str = "", token: str | None = None, **kwargs):
    response = _helpdesk().request(method, f"/helpdesk/follow/{reference}{suffix}",
                                   headers={"X-Follow-Token": token or _token() or ""}, retry=False, **kwargs)
    if response.status_code >= 500:
        response.close()
        flask.abort(503)
    return response


def _code_page(reference: str, status: int = 200, **context) -> flask.Response:
    return _page(flask.render_template("assistance/follow_code.html", reference=reference, **context), status)


def _invalid(reference: str, detail: str) -> flask.Response:
    """The helpdesk refused the link: say so, how to get a new one, and forget the cookie."""
    response = _page(flask.render_template("assistance/follow_invalid.html", reference=reference, error=detail),
                     404)
    response.delete_cookie(COOKIE, path=_cookie_path(reference), httponly=True, samesite="Lax",
                           secure=current_runtime().settings.cookie_secure)
    return response


def _files() -> list:
    """The chosen files as the helpdesk takes them: always multipart (its contract), so with no file the
    nameless empty part a browser sends for an input left empty, which the helpdesk knows is no file."""
    chosen = [("attachments", (sent.filename, sent.stream, sent.mimetype or "application/octet-stream"))
              for sent in flask.request.files.getlist("attachments") if sent and sent.filename]
    return chosen or [("attachments", ("", b"", "application/octet-stream"))]


def _reply_errors(response) -> tuple[dict, str | None]:
    problem = forms.problem_of(response)
    errors = problem.field_errors({"message": "message", "attachments": "attachments"})
    if problem.code in FILE_CODES:  # its whole sentence (the accepted formats, the limit), not the short one
        errors["attachments"] = problem.detail
    return errors, None if errors else problem.detail


def _stream(response) -> flask.Response:
    return relayed(response)


# --- the follow link (no login) --------------------------------------------------------------------------

def _render_followed(reference: str, ticket: dict, status: int = 200, **context) -> flask.Response:
    return _page(flask.render_template(
        "assistance/follow_ticket.html", ticket=ticket,
        reply_url=flask.url_for("assistance.follow_reply", reference=reference),
        attachment_url=lambda a: flask.url_for("assistance.follow_download", reference=reference,
                                               attachment_id=a["id"]),
        sent=flask.request.args.get("envoye") == "1", fragment_form=True, **context), status)


@blueprint.get("/assistance/demande/<reference>")
def follow(reference: str):
    _checked(reference)
    if not _token():
        return _code_page(reference)
    response = _follow("GET", reference)
    if response.status_code == 200:
        return _render_followed(reference, response.json())
    return _invalid(reference, forms.problem_of(response).detail)


@blueprint.post("/assistance/demande/<reference>")
def follow_post(reference: str):
    _checked(reference)
    # What is pasted may be the whole link, or the code with its « # ».
    code = flask.request.form.get("code", "").strip().rpartition("#")[2].strip()
    if not code:
        return _code_page(reference, 422, errors={"code": _("Collez le code de suivi reçu par courriel.")})
    response = _follow("GET", reference, token=code)
    if response.status_code != 200:
        return _invalid(reference, forms.problem_of(response).detail)
    # Kept for this ticket's pages only, until the browser closes; then the page without the code (reload,
    # back button: no form sent again).
    done = flask.redirect(flask.url_for("assistance.follow", reference=reference), code=303)
    done.set_cookie(COOKIE, code, path=_cookie_path(reference), httponly=True, samesite="Lax",
                    secure=current_runtime().settings.cookie_secure)
    done.headers["Referrer-Policy"] = "no-referrer"
    return done


@blueprint.post("/assistance/demande/<reference>/reponse")
def follow_reply(reference: str):
    _checked(reference)
    if not _token():
        return _code_page(reference, 403, error=_("Affichez d’abord la demande avec le code de suivi reçu par "
                                                  "courriel, puis envoyez votre réponse."))
    message = flask.request.form.get("message", "")
    response = _follow("POST", reference, "/messages", data={"message": message}, files=_files())
    if response.status_code == 201:
        return flask.redirect(flask.url_for("assistance.follow", reference=reference, envoye="1"), code=303)
    if response.status_code == 404:
        return _invalid(reference, forms.problem_of(response).detail)
    errors, error = _reply_errors(response)
    current = _follow("GET", reference)
    if current.status_code != 200:
        return _invalid(reference, forms.problem_of(current).detail)
    return _render_followed(reference, current.json(), response.status_code, errors=errors, reply_error=error,
                            message=message)


@blueprint.get("/assistance/demande/<reference>/pieces-jointes/<uuid:attachment_id>")
def follow_download(reference: str, attachment_id: uuid.UUID):
    _checked(reference)
    if not _token():
        return _code_page(reference, 403)
    response = _follow("GET", reference, f"/attachments/{attachment_id}", stream=True)
    if response.status_code == 200:
        return _stream(response)
    problem = forms.problem_of(response)
    response.close()
    if problem.code == "attachment_not_found":
        flask.abort(404)
    return _invalid(reference, problem.detail)


# --- « Mes demandes d'assistance » (logged in) -----------------------------------------------------------

def _tickets(method: str, path: str, **kwargs):
    return as_user("helpdesk", method, f"/helpdesk/tickets{path}", **kwargs)


def _own(ticket_id: uuid.UUID) -> dict:
    response = _tickets("GET", f"/{ticket_id}")
    if response.status_code != 200:
        flask.abort(404 if response.status_code in (403, 404) else 503)
    return response.json()


def _render_own(ticket: dict, status: int = 200, **context):
    ticket_id = ticket["id"]
    return flask.render_template(
        "assistance/my_requests_ticket.html", ticket=ticket,
        reply_url=flask.url_for("assistance.my_request_reply", ticket_id=ticket_id),
        attachment_url=lambda a: flask.url_for("assistance.my_request_download", ticket_id=ticket_id,
                                               attachment_id=a["id"]),
        sent=flask.request.args.get("envoye") == "1", revoked=flask.request.args.get("liens") == "desactives",
        **context), status


@blueprint.get("/assistance/mes-demandes")
def my_requests():
    require_login()
    params = {"limit": 20}
    cursor = flask.request.args.get("suite")
    if cursor:
        params["cursor"] = cursor
    response = _tickets("GET", "", params=params)
    if response.status_code == 400 and cursor:
        return flask.redirect(flask.url_for("assistance.my_requests"), code=303)
    if response.status_code != 200:
        flask.abort(503)
    return flask.render_template("assistance/my_requests.html", page=response.json(), first=not cursor)


@blueprint.get("/assistance/mes-demandes/<uuid:ticket_id>")
def my_request(ticket_id: uuid.UUID):
    require_login()
    return _render_own(_own(ticket_id))


@blueprint.post("/assistance/mes-demandes/<uuid:ticket_id>/reponse")
def my_request_reply(ticket_id: uuid.UUID):
    require_login()
    message = flask.request.form.get("message", "")
    response = _tickets("POST", f"/{ticket_id}/messages", data={"message": message}, files=_files())
    if response.status_code == 201:
        return flask.redirect(flask.url_for("assistance.my_request", ticket_id=ticket_id, envoye="1"), code=303)
    if response.status_code == 404:
        flask.abort(404)
    errors, error = _reply_errors(response)
    return _render_own(_own(ticket_id), response.status_code, errors=errors, reply_error=error, message=message)


@blueprint.get("/assistance/mes-demandes/<uuid:ticket_id>/pieces-jointes/<uuid:attachment_id>")
def my_request_download(ticket_id: uuid.UUID, attachment_id: uuid.UUID):
    require_login()
    response = _tickets("GET", f"/{ticket_id}/attachments/{attachment_id}", stream=True)
    if response.status_code != 200:
        response.close()
        flask.abort(404)
    return _stream(response)


@blueprint.post("/assistance/mes-demandes/<uuid:ticket_id>/liens-de-suivi")
def my_request_revoke(ticket_id: uuid.UUID):
    """« Désactiver les liens de suivi »: a mail forwarded by mistake; the next mail brings a new link."""
    require_login()
    response = _tickets("DELETE", f"/{ticket_id}/follow-links")
    if response.status_code == 204:
        return flask.redirect(flask.url_for("assistance.my_request", ticket_id=ticket_id, liens="desactives"),
                              code=303)
    if response.status_code == 404:
        flask.abort(404)
    return _render_own(_own(ticket_id), response.status_code, reply_error=forms.problem_of(response).detail)


@blueprint.app_template_filter("datetime_local")
def datetime_local(value: str) -> str:
    """A service's ISO date-time as French (or English) people read it, in Paris time."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return format_datetime(moment.astimezone(ZoneInfo("Europe/Paris")), "d MMMM y, HH:mm", rebase=False)

"""Logins, refreshes, logouts, and the OAuth 2.0 token endpoint."""

import base64
import binascii

import flask

from achats.chassis.problems import Problem

from .. import sessions as service
from .context import client_address, identity, unit_of_work

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def login(body: dict):
    tokens = service.login(unit_of_work(), identity(), login=body["login"], password=body["password"],
                           address=client_address())
    return tokens, 200, NO_STORE


def refresh(body: dict):
    return service.refresh(unit_of_work(), identity(), body["refresh_token"]), 200, NO_STORE


def logout(body: dict):
    service.logout(unit_of_work(), identity(), body["refresh_token"])
    return None, 204


def token(body: dict):
    grant = body["grant_type"]
    if grant == "refresh_token":
        if not body.get("refresh_token"):
            raise _invalid_request("refresh_token")
        return service.refresh(unit_of_work(), identity(), body["refresh_token"]), 200, NO_STORE
    client_id, secret = _client_credentials(body)
    tokens = service.client_credentials(unit_of_work(), identity(), client_id=client_id, client_secret=secret)
    return tokens, 200, NO_STORE


def _client_credentials(body: dict) -> tuple[str, str]:
    header = flask.request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _invalid_request("Authorization") from None
        return client_id, secret
    if not body.get("client_id") or not body.get("client_secret"):
        raise _invalid_request("client_id")
    return body["client_id"], body["client_secret"]


def _invalid_request(field: str) -> Problem:
    from achats.chassis.problems import FieldError

    return Problem(status=400, code="invalid_request", detail="La requête de jeton est incomplète.",
                   errors=[FieldError(field, "Ce champ est obligatoire.")], extra={"error": "invalid_request"})

"""What the handlers share: who is calling (optional login), uploaded files, downloads."""

from __future__ import annotations

import re
import uuid

import flask

from achats.chassis import security
from achats.chassis.app import current_runtime
from achats.chassis.files import download_headers
from achats.chassis.problems import Problem
from achats.chassis.security import Principal, require_roles

from ..attachments import Upload
from ..context import Requester
from ..models import Attachment
from ..settings import HelpdeskSettings
from ..tickets import Actor

STAFF = ("support_agent", "platform_admin")
# The notifier's contract accepts only such addresses; a token's e-mail that is not one is ignored.
EMAIL = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\]+$")


def settings() -> HelpdeskSettings:
    return current_runtime().settings


def optional_claims(token_info: dict | None) -> dict | None:
    """The caller's claims on operations open to anonymous users, None when anonymous.

    connexion tries the bearer scheme, then the empty requirement: a token it refused would quietly
    make the caller anonymous. A request that carries an Authorization header is verified here
    instead, so an expired or invalid token is a 401, never an anonymous request.
    """
    if token_info:
        return token_info
    header = flask.request.headers.get("Authorization")
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(status=401, code="token_invalid", detail=security.DETAIL_INVALID,
                      headers={"WWW-Authenticate": "Bearer"})
    verifier = current_runtime().verifier
    if verifier is None:
        raise Problem(status=503, code="authentication_unavailable", detail=security.DETAIL_JWKS_UNAVAILABLE)
    return verifier.verify(token)


def as_uuid(value: str | uuid.UUID | None) -> uuid.UUID | None:
    """An optional UUID parameter (the chassis converts only those annotated exactly ``uuid.UUID``;
    the spec has already checked the format)."""
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(value)


def is_staff(claims: dict | None) -> bool:
    return bool(claims) and Principal.from_claims(claims).has_role(*STAFF)


def staff(token_info: dict) -> Actor:
    """The calling agent (or administrator); 403 for anyone else."""
    require_roles(token_info, *STAFF)
    who = Principal.from_claims(token_info)
    return Actor(kind="agent", id=who.sub, name=who.name or _full_name(token_info) or who.email)


def _full_name(claims: dict) -> str | None:
    name = " ".join(str(claims.get(k) or "").strip() for k in ("given_name", "family_name")).strip()
    return name or None


def requester(claims: dict | None, body: dict) -> Requester:
    """The contact data: what the form says, else the account's (the form shows them pre-filled)."""
    def field(name: str, claim: str | None = None) -> str | None:
        value = body.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if claims and claim:
            found = claims.get(claim)
            return found.strip() if isinstance(found, str) and found.strip() else None
        return None

    email = field("email", "email")
    if email is not None and not EMAIL.match(email):
        email = None
    company_id = str(claims["company_id"]) if claims and claims.get("company_id") else None
    company = field("company", "company_name")
    if company is None and company_id is not None:
        # A token issued before identity put company_name in it: the registry knows.
        company = current_runtime().deps.company_names.name_of(company_id, _bearer())
    return Requester(email=email, first_name=field("first_name", "given_name"),
                     last_name=field("last_name", "family_name"), phone=field("phone"),
                     company=company, user_id=str(claims["sub"]) if claims else None, company_id=company_id)


def _bearer() -> str | None:
    scheme, _, token = flask.request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def uploads(field: str = "attachments") -> list[Upload]:
    """The files of a multipart request; each read up to the size limit plus one byte."""
    if not flask.request.mimetype.startswith("multipart/"):
        return []
    limit = settings().attachment_max_bytes + 1
    found = []
    for item in flask.request.files.getlist(field):
        content = item.read(limit)
        # A browser sends an empty part without a name for a file input left empty: not a file.
        if item.filename or content:
            found.append(Upload(filename=item.filename or "", content=content))
    return found


def download(attachment: Attachment, content: bytes) -> flask.Response:
    return flask.Response(content, status=200,
                          headers=download_headers(attachment.filename, attachment.content_type, len(content)))


def user_agent() -> str | None:
    return flask.request.headers.get("User-Agent")

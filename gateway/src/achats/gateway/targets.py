"""The targets a sensitive request names (identifiant, e-mail, SIRET...), read from its small body."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

# Body fields that name what a request acts on, and the kind of target each is. ``login_or_email``
# (a password reset) is an e-mail when it looks like one, so both ways of naming an account meet.
FIELDS = {"login": "login", "login_or_email": "login", "email": "email", "siret": "siret", "siren": "siren",
          "client_id": "client", "refresh_token": "token", "token": "token"}
# A company is shared by its people: ten colleagues registering name the same SIREN and SIRET. Counting
# those would move the NAT problem from the office's address to its company, so a company is the target
# only of a request that names no account.
COMPANY = ("siret:", "siren:")
PARSED_TYPES = ("application/json", "application/x-www-form-urlencoded")
MAX_TARGETS = 8
MAX_DEPTH = 4


def wants_body(content_type: str) -> bool:
    """Only JSON and form bodies are read at the edge; uploads (multipart) stream through untouched."""
    media = content_type.split(";")[0].strip().lower()
    return media in PARSED_TYPES or media.endswith("+json")


def of_body(body: bytes, content_type: str) -> tuple[str, ...]:
    """``("login:mcurie", "email:m@example.fr")``, ``("siret:26570134200148",)``; nothing for a body that
    is not what it claims (the service refuses it; the caller's own limit applies meanwhile)."""
    media = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
        if media == "application/x-www-form-urlencoded":
            document: object = dict(parse_qsl(text, max_num_fields=50))
        else:
            document = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return ()
    found: list[str] = []
    _collect(document, found, depth=0)
    accounts = [t for t in found if not t.startswith(COMPANY)]
    return tuple(dict.fromkeys(accounts or found))[:MAX_TARGETS]


def _collect(node: object, found: list[str], depth: int) -> None:
    if depth > MAX_DEPTH or len(found) >= MAX_TARGETS or not isinstance(node, dict):
        return
    for key, value in node.items():
        if isinstance(value, dict):
            _collect(value, found, depth + 1)
        elif isinstance(value, str) and key in FIELDS and value.strip():
            normalized = value.strip().lower()[:320]
            kind = "email" if FIELDS[key] == "login" and "@" in normalized else FIELDS[key]
            if kind in ("siret", "siren"):
                normalized = "".join(normalized.split())
            found.append(f"{kind}:{normalized}")

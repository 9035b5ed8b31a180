"""A stand-in of the company registry, as the helpdesk's CompanyNames calls it, over real HTTP.

The helpdesk's tests must pass with only the helpdesk and the chassis installed (an agency may run the helpdesk
alone), so they do not start the real registry. This stand-in answers the one operation the helpdesk calls
(`GET /registry/companies/{company_id}`, with the requester's own token) from `registry-contract.yaml`, a
fragment of the registry's contract: every answer it gives is checked against that fragment, and
`tests/test_http_contracts.py` checks that the fragment is still part of the registry's `openapi.yaml`.

As the registry does, it reads a company only for a token of that company (or of the platform's staff or
services), and answers 404 otherwise, as for a company that does not exist.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from achats.chassis import security
from achats.chassis.testing.contract import ContractFragment
from achats.chassis.testing.keys import TestKeys
from achats.chassis.testing.server import serving

CONTRACT = ContractFragment(Path(__file__).with_name("registry-contract.yaml"))
PATH = "/companies/{company_id}"
READERS = ("support_agent", "platform_admin", "service")


def foreign_company(name: str) -> dict:
    """A company as the registry answers it: a foreign one (no INSEE data needed)."""
    return {"id": str(uuid.uuid4()), "source": "foreign", "verified": False, "country_code": "DE",
            "national_id": "HRB 12345", "vat_number": "DE136695976", "name": name, "establishment_count": 1}


def _problem(status: int, code: str, detail: str) -> dict:
    return {"type": "about:blank", "title": code, "status": status, "detail": detail, "code": code}


@contextlib.contextmanager
def running_registry(keys: TestKeys, companies: list[dict]) -> Iterator[tuple[str, list[str]]]:
    """The stand-in over HTTP, knowing ``companies``: its base URL and the paths it was asked, in order."""
    known = {company["id"]: company for company in companies}
    asked: list[str] = []
    verifier = security.TokenVerifier(security.JWKSCache("registry-standin", fetch=lambda _url: keys.jwks()),
                                      issuer=keys.issuer, audience=keys.audience)

    def answer(status: int, body: dict) -> Response:
        CONTRACT.check_answer(PATH, "get", status, body)
        return JSONResponse(body, status_code=status,
                            media_type="application/json" if status < 400 else "application/problem+json")

    async def get(request: Request) -> Response:
        asked.append(request.url.path)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            who = security.Principal.from_claims(verifier.verify(token)) if scheme.lower() == "bearer" else None
        except Exception:  # any refusal of the verifier is a 401, as in the registry
            who = None
        if who is None:
            return JSONResponse(_problem(401, "unauthenticated", "Authentification requise."), status_code=401,
                                media_type="application/problem+json")
        company_id = request.path_params["company_id"]
        company = known.get(company_id)
        if company is None or not (who.has_role(*READERS) or who.company_id == company_id):
            return answer(404, _problem(404, "company_not_found", "Cette entreprise n'existe pas."))
        return answer(200, company)

    app = Starlette(routes=[Route(f"{CONTRACT.base}{PATH}", get, methods=["GET"])])
    with serving(app) as url:
        yield url, asked

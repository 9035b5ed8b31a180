"""A stand-in of the company registry, as identity's RegistryClient calls it, over real HTTP.

Identity's tests must pass with only identity and the chassis installed (an agency may run identity
alone), so they do not start the real registry. This stand-in answers the two operations identity calls
(`POST /registry/companies`, `GET /registry/companies/{company_id}`) from `registry-contract.yaml`, a
fragment of the registry's own contract: every request it receives and every answer it gives is checked
against that fragment (a mismatch fails the test with the schema error), and
`tests/test_http_contracts.py` checks that the fragment is still part of the registry's `openapi.yaml`.

What it knows of the companies: two SIRETs of the INSEE stand-in's fixed entries (the CCAS of Metz, the
TEST SARL), a company typed by hand (`source: manual`), and « INSEE is down » (`set_mode("503")`), which
the real registry answers with 503 `fallback: manual`.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from achats.chassis import security
from achats.chassis.testing.contract import ContractBroken, ContractFragment
from achats.chassis.testing.server import serving

CONTRACT = ContractFragment(Path(__file__).with_name("registry-contract.yaml"))
BASE = CONTRACT.base
check_request, check_answer = CONTRACT.check_request, CONTRACT.check_answer

# The registry's messages identity passes on to the user (company_registry/lookup.py, identifiers.py).
UNAVAILABLE = ("Le service est actuellement indisponible. Veuillez vérifier la validité du n° SIRET fourni par "
               "l'entreprise, et renouveler cette opération dans quelques minutes. Si le problème persiste, "
               "veuillez contacter notre service support.")
SIRET_INVALID = "Ce numéro SIRET n'est pas valide : vérifiez sa saisie."

# INSEE's data of the INSEE stand-in's fixed entries (company_registry/standin/dataset.py), as the registry keeps it.
KNOWN = {
    "26570134200148": ({"siren": "265701342", "name": "CENTRE COMMUNAL D'ACTION SOCIALE", "naf_code": "88.99B",
                        "legal_form_code": "7361"},
                       {"street": "22 RUE DU WAD BILLY", "postal_code": "57000", "city": "METZ",
                        "is_head_office": True}),
    "39070200900015": ({"siren": "390702009", "name": "TEST SARL", "naf_code": "82.99Z", "legal_form_code": "5499"},
                       {"street": "8 RUE DE LA BOETIE", "postal_code": "75008", "city": "PARIS",
                        "is_head_office": True}),
}


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    return sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10 == 0


def problem(status: int, code: str, detail: str, **extra) -> tuple[int, dict]:
    return status, {"type": "about:blank", "title": code, "status": status, "detail": detail, "code": code, **extra}


class RegistryStandin:
    """The stand-in's state: the companies created, the calls received, the mode (`normal` or `503`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.mode = "normal"
        self.received: list[str] = []
        self.broken: list[str] = []  # what was sent or answered against the contract (the fixture fails on it)
        self.companies: dict[str, dict] = {}  # id -> Company
        self.establishments: dict[str, dict] = {}  # SIRET -> Establishment
        self.verifier: security.TokenVerifier | None = None
        self.runtime = None  # no database of its own (tests/test_event_contracts.py serves the real registry)

    # --- what the tests drive (the INSEE stand-in's control API, by the same names) ---------------------

    def set_mode(self, mode: str) -> None:
        self.mode = mode

    def calls(self) -> dict[str, Any]:
        return {"total": len(self.received), "by_path": {p: self.received.count(p) for p in set(self.received)}}

    def reset(self) -> None:
        with self._lock:
            self.mode, self.received, self.broken = "normal", [], []

    @contextlib.contextmanager
    def serving(self, verifier: security.TokenVerifier, _tmp_path=None) -> Iterator[str]:
        """Served over real HTTP for one identity (whose service tokens it verifies), with no company yet, as
        a fresh registry database."""
        with self._lock:
            self.companies, self.establishments, self.verifier = {}, {}, verifier
        app = Starlette(routes=[Route(f"{BASE}/companies", self.create, methods=["POST"]),
                                Route(f"{BASE}/companies/{{company_id}}", self.get, methods=["GET"])])
        with serving(app) as url:
            yield url

    # --- the two operations --------------------------------------------------------------------------------

    def _caller(self, request: Request) -> dict | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or self.verifier is None:
            return None
        try:
            return self.verifier.verify(token)
        except Exception:  # any refusal of the verifier is a 401, as in the registry
            return None

    async def create(self, request: Request) -> Response:
        self.received.append(request.url.path)
        body = await request.json()
        errors = check_request("/companies", "post", body)
        if errors:
            # The registry would refuse it with a 400; identity never means to send that.
            self.broken.append(f"POST {BASE}/companies: identity sent {errors}")
        claims = self._caller(request)
        if claims is None:
            return JSONResponse(problem(401, "unauthenticated", "Authentification requise.")[1], status_code=401,
                                media_type="application/problem+json")
        if errors:
            status, answer = problem(400, "validation_failed", "La requête est invalide.", errors=errors)
        elif "service" not in claims.get("roles", []):
            status, answer = problem(403, "forbidden", "Seule la plateforme peut inscrire une entreprise.")
        else:
            status, answer = self._register(body["company"], body.get("establishment"))
        return self._answer("/companies", "post", status, answer)

    async def get(self, request: Request) -> Response:
        self.received.append(request.url.path)
        company = self.companies.get(request.path_params["company_id"])
        if company is None:
            return self._answer("/companies/{company_id}", "get",
                                *problem(404, "not_found", "Cette entreprise est introuvable."))
        return self._answer("/companies/{company_id}", "get", 200, company)

    def _answer(self, path: str, method: str, status: int, body: dict) -> Response:
        try:
            check_answer(path, method, status, body)
        except ContractBroken as broken:
            self.broken.append(str(broken))
            raise
        return JSONResponse(body, status_code=status,
                            media_type="application/json" if status < 400 else "application/problem+json")

    def _register(self, company_in: dict, establishment_in: dict | None) -> tuple[int, dict]:
        siret = (establishment_in or {}).get("siret", "").replace(" ", "")
        if not (siret.isdigit() and len(siret) == 14 and luhn_valid(siret)):
            return problem(422, "siret_invalid", SIRET_INVALID,
                           errors=[{"field": "establishment.siret",
                                    "message": "Numéro SIRET invalide (clé de contrôle)."}])
        if company_in["source"] == "insee":
            if self.mode == "503":
                return problem(503, "insee_unavailable", UNAVAILABLE, fallback="manual", reason="unavailable")
            if siret not in KNOWN:
                return problem(404, "company_unknown", "Aucune entreprise ne correspond à ce numéro dans le "
                               "répertoire de l'INSEE. Vérifiez le numéro saisi.")
            company_data, establishment_data = KNOWN[siret]
            source = "insee"
        else:
            company_data = {k: company_in[k] for k in ("siren", "name", "naf_code", "legal_form_code")
                            if k in company_in}
            establishment_data = {k: v for k, v in establishment_in.items() if k not in ("source", "siret")}
            source = "manual"
        with self._lock:
            company = next((c for c in self.companies.values() if c["siren"] == siret[:9]), None)
            company_created = company is None
            if company is None:
                company = {"id": str(uuid.uuid4()), "source": source, "verified": source == "insee",
                           "country_code": "FR", "establishment_count": 0, "active": True,
                           **company_data, "siren": siret[:9]}
                self.companies[company["id"]] = company
            establishment = self.establishments.get(siret)
            establishment_created = establishment is None
            if establishment is None:
                establishment = {"id": str(uuid.uuid4()), "company_id": company["id"], "source": source,
                                 "verified": source == "insee", "siret": siret, "nic": siret[9:],
                                 "country_code": "FR", "active": True, **establishment_data}
                self.establishments[siret] = establishment
                company["establishment_count"] += 1
        return (201 if company_created or establishment_created else 200), {
            "company": company, "establishment": establishment, "company_created": company_created,
            "establishment_created": establishment_created}

"""ASGI app of the INSEE stand-in: the Sirene 3.11 endpoints, plus the `/_standin` control API (not INSEE's)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import re
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from achats.company_registry.standin import dataset
from achats.company_registry.standin.dataset import SireneData
from achats.company_registry.standin.query import Query, parse_query

DEFAULT_API_KEY = "standin-key"
DEFAULT_BASE_PATH = "/api-sirene/3.11"
API_KEY_HEADER = "X-INSEE-Api-Key-Integration"
MODES = ("normal", "outage", "slow", "429", "500", "503")
DEFAULT_SLOW_DELAY = 5.0
# Far beyond any sane client timeout (the platform uses ~3 s), yet it ends by itself if nobody calls reset.
DEFAULT_OUTAGE_SECONDS = 30.0
DEFAULT_RETRY_AFTER = 1
MAX_NOMBRE = 1000
DEFAULT_NOMBRE = 20

MESSAGES = {
    401: "Clé d'API (X-INSEE-Api-Key-Integration) absente ou invalide",
    405: "Méthode non autorisée",
    406: "Type de contenu demandé (Accept) non pris en charge : seul application/json est servi",
    429: "Trop de requêtes : le quota de l'application est dépassé, réessayez plus tard",
    500: "Erreur interne du serveur",
    503: "Service indisponible : maintenance en cours",
    504: "Délai d'attente dépassé",
}


class SireneJSON(JSONResponse):
    """JSON as INSEE sends it: UTF-8, non-ASCII characters left as they are."""

    media_type = "application/json;charset=utf-8"


def sirene_error(status: int, message: str | None = None, headers: dict[str, str] | None = None) -> Response:
    return SireneJSON({"header": {"statut": status, "message": message or MESSAGES[status]}}, status, headers=headers)


@dataclasses.dataclass(frozen=True)
class Ticket:
    """What one INSEE request gets from the current mode, decided when it arrives."""

    mode: str
    delay: float
    retry_after: int
    generation: int


class StandinState:
    """Mode and call counters, shared by requests and the control API; a lock makes every change atomic.

    The lock is a threading one because the all-in-one launcher or a test may change the mode from another thread.
    `generation` changes on every mode change and reset, which releases requests hanging in outage or slow mode.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._set_normal()
        self.total = 0
        self.by_path: dict[str, int] = {}
        self.generation = 0

    def _set_normal(self) -> None:
        self.mode = "normal"
        self.delay: float | None = None
        self.remaining: int | None = None
        self.retry_after = DEFAULT_RETRY_AFTER

    def set_mode(
        self, mode: str, delay: float | None = None, count: int | None = None, retry_after: int | None = None
    ) -> dict[str, Any]:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if delay is not None and (not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0):
            raise ValueError("delay must be a number of seconds >= 0")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise ValueError("count must be an integer >= 1")
        if retry_after is not None and (
            not isinstance(retry_after, int) or isinstance(retry_after, bool) or retry_after < 0
        ):
            raise ValueError("retry_after must be an integer >= 0")
        with self._lock:
            self._set_normal()
            if mode != "normal":
                self.mode, self.delay, self.remaining = mode, delay, count
                self.retry_after = DEFAULT_RETRY_AFTER if retry_after is None else retry_after
            self.generation += 1
            return self._mode_view()

    def reset(self) -> dict[str, Any]:
        with self._lock:
            self._set_normal()
            self.total = 0
            self.by_path = {}
            self.generation += 1
            return {**self._mode_view(), **self._calls_view()}

    def take(self, path: str) -> Ticket:
        """Count one INSEE call and consume one request of a mode that lasts `count` requests."""
        with self._lock:
            self.total += 1
            self.by_path[path] = self.by_path.get(path, 0) + 1
            default_delay = DEFAULT_OUTAGE_SECONDS if self.mode == "outage" else DEFAULT_SLOW_DELAY
            ticket = Ticket(
                self.mode,
                default_delay if self.delay is None else self.delay,
                self.retry_after,
                self.generation,
            )
            if self.remaining is not None:
                self.remaining -= 1
                if self.remaining <= 0:
                    self._set_normal()
            return ticket

    def mode_view(self) -> dict[str, Any]:
        with self._lock:
            return self._mode_view()

    def calls_view(self) -> dict[str, Any]:
        with self._lock:
            return self._calls_view()

    def _mode_view(self) -> dict[str, Any]:
        return {"mode": self.mode, "delay": self.delay, "count": self.remaining, "retry_after": self.retry_after}

    def _calls_view(self) -> dict[str, Any]:
        return {"total": self.total, "by_path": dict(self.by_path)}


def drop_nulls(value: Any) -> Any:
    """`masquerValeursNulles=true`: keys whose value is null disappear, at every depth."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def accepts_json(accept: str | None) -> bool:
    if not accept or not accept.strip():
        return True
    types = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return bool(types & {"application/json", "application/*", "*/*"})


async def _client_gone(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def pause(request: Request, seconds: float, state: StandinState, generation: int) -> bool:
    """Wait up to `seconds`; stop early on a mode change or reset. False if the client went away meanwhile.

    Watching for the disconnect matters: a hanging handler would otherwise hold the server's shutdown.
    """
    await request.body()  # cached by Starlette, so a POST search can still read its form afterwards
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    watcher = asyncio.ensure_future(_client_gone(request))
    try:
        while (left := deadline - loop.time()) > 0:
            done, _ = await asyncio.wait({watcher}, timeout=min(left, 0.05))
            if done:
                return False
            if state.generation != generation:
                return True
        return True
    finally:
        watcher.cancel()


def informations_body() -> dict[str, Any]:
    today = dt.date.today().isoformat()
    collections = ("Unités Légales", "Établissements", "Liens de succession")
    return {
        "etatService": "UP",
        "etatsDesServices": [{"Collection": c, "etatCollection": "UP"} for c in collections],
        "versionService": "3.11",
        "journalDesModifications": "https://www.sirene.fr/static-resources/documentation/v_sommaire_311.htm",
        "datesDernieresMisesAJourDesDonnees": [
            {
                "collection": c,
                "dateDerniereMiseADisposition": f"{today}T06:00:00.000",
                "dateDernierTraitementMaximum": f"{today}T03:00:00.000",
                "dateDernierTraitementDeMasse": "2024-11-04",
            }
            for c in collections
        ],
    }


def reply(request: Request, payload: dict[str, Any]) -> Response:
    if request.query_params.get("masquerValeursNulles", "").lower() == "true":
        payload = drop_nulls(payload)
    return SireneJSON(payload)


Handler = Callable[[Request], Awaitable[Response]]


class InseeGate:
    """What stands between a caller and the data at INSEE: network, gateway (key, quota), backend health."""

    def __init__(self, state: StandinState, base: str, api_key: str | None, api_key_header: str) -> None:
        self.state, self.base, self.api_key, self.api_key_header = state, base, api_key, api_key_header

    def __call__(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            ticket = self.state.take(request.url.path[len(self.base) :] or "/")
            refused = await self.refusal(request, ticket)
            return refused if refused is not None else await handler(request)

        return endpoint

    async def refusal(self, request: Request, ticket: Ticket) -> Response | None:
        """INSEE's answer instead of the data under the current mode, or None to go on to the data."""
        if ticket.mode == "outage":
            # Accept the connection, then say nothing until the client gives up (or a reset releases us).
            await pause(request, ticket.delay, self.state, ticket.generation)
            return sirene_error(504)
        if ticket.mode == "slow" and not await pause(request, ticket.delay, self.state, ticket.generation):
            return sirene_error(504)
        if self.api_key is not None and request.headers.get(self.api_key_header) != self.api_key:
            return sirene_error(401)
        if not accepts_json(request.headers.get("accept")):
            return sirene_error(406)
        if ticket.mode == "429":
            return sirene_error(429, headers={"Retry-After": str(ticket.retry_after)})
        if ticket.mode in ("500", "503"):
            return sirene_error(int(ticket.mode))
        return None


class Sirene:
    """The Sirene 3.11 endpoints over the stand-in's data."""

    def __init__(self, data: SireneData) -> None:
        self.data = data

    async def get_siret(self, request: Request) -> Response:
        siret = request.path_params["siret"]
        if not re.fullmatch(r"\d{14}", siret):
            return sirene_error(400, "Erreur de syntaxe dans le paramètre siret")
        if dataset.not_diffusible(siret):
            return sirene_error(403, f"Établissement non diffusable ({siret})")
        etablissement = self.data.establishment(siret)
        if etablissement is None:
            return sirene_error(404, f"Aucun élément trouvé pour le siret {siret}")
        return reply(request, {"header": {"statut": 200, "message": "ok"}, "etablissement": etablissement})

    async def get_siren(self, request: Request) -> Response:
        siren = request.path_params["siren"]
        if not re.fullmatch(r"\d{9}", siren):
            return sirene_error(400, "Erreur de syntaxe dans le paramètre siren")
        if dataset.not_diffusible(siren):
            return sirene_error(403, f"Unité légale non diffusable ({siren})")
        unit = self.data.unit(siren)
        if unit is None:
            return sirene_error(404, f"Aucun élément trouvé pour le siren {siren}")
        return reply(request, {"header": {"statut": 200, "message": "ok"}, "uniteLegale": unit})

    async def search_siret(self, request: Request) -> Response:
        params: dict[str, str] = dict(request.query_params)
        if request.method == "POST":
            params.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
        q = params.get("q", "")
        query = parse_query(q)
        if query is None:
            return sirene_error(400, "Erreur de syntaxe dans le paramètre q")
        try:
            nombre = int(params.get("nombre", DEFAULT_NOMBRE))
            debut = int(params.get("debut", 0))
        except ValueError:
            return sirene_error(400, "Les paramètres nombre et debut doivent être des entiers")
        if not 0 <= nombre <= MAX_NOMBRE or debut < 0:
            return sirene_error(400, f"Le paramètre nombre doit être compris entre 0 et {MAX_NOMBRE}")
        if query.siren and not query.siret and dataset.not_diffusible(query.siren):
            return sirene_error(403, f"Unité légale non diffusable ({query.siren})")
        scored = [(score, e) for e in self.candidates(query) if (score := query.score(e))]
        # Best match first, like INSEE's relevance order; then by SIRET.
        matches = [e for _, e in sorted(scored, key=lambda item: (-item[0], item[1]["siret"]))]
        page = matches[debut : debut + nombre]
        if not matches or (nombre and not page):
            return sirene_error(404, f"Aucun élément trouvé pour la requête {q}")
        header = {"statut": 200, "message": "OK", "total": len(matches), "debut": debut, "nombre": len(page)}
        return reply(request, {"header": header, "etablissements": page})

    def candidates(self, query: Query) -> list[dict[str, Any]]:
        """The establishments a search looks at: the SIRET's, the SIREN's, or (by name) the shipped dataset."""
        if query.siret:
            found = self.data.establishment(query.siret) if re.fullmatch(r"\d{14}", query.siret) else None
            candidates = [found] if found else []
            return [e for e in candidates if e["siren"] == query.siren] if query.siren else candidates
        if query.siren:
            return self.data.establishments_of(query.siren) if re.fullmatch(r"\d{9}", query.siren) else []
        # A search by name covers the shipped dataset (generated units have no name to be found by).
        return self.data.all_establishments()

    async def informations(self, request: Request) -> Response:
        return reply(request, informations_body())

    async def unknown_resource(self, _request: Request) -> Response:
        return sirene_error(404, "Ressource non trouvée")


class Control:
    """The `/_standin` control API (not INSEE's): mode, calls, reset."""

    def __init__(self, state: StandinState) -> None:
        self.state = state

    async def mode(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(self.state.mode_view())
        try:
            body = await request.json()
            if not isinstance(body, dict) or not isinstance(body.get("mode"), str):
                raise ValueError('body must be a JSON object with a "mode"')
            view = self.state.set_mode(body["mode"], body.get("delay"), body.get("count"), body.get("retry_after"))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError too
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(view)

    async def calls(self, _request: Request) -> Response:
        return JSONResponse(self.state.calls_view())

    async def reset(self, _request: Request) -> Response:
        return JSONResponse(self.state.reset())


async def http_error(_request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        return sirene_error(405)
    return sirene_error(404, "Ressource non trouvée") if status == 404 else sirene_error(500)


def create_app(
    api_key: str | None = DEFAULT_API_KEY,
    base_path: str = DEFAULT_BASE_PATH,
    *,
    data: SireneData | None = None,
    api_key_header: str = API_KEY_HEADER,
) -> Starlette:
    """The stand-in as an ASGI app; `api_key=None` accepts any caller. `app.state.standin` is its StandinState."""
    base = "/" + base_path.strip("/") if base_path.strip("/") else ""
    state = StandinState()
    insee = InseeGate(state, base, api_key, api_key_header)
    sirene, control = Sirene(data or SireneData.load()), Control(state)
    routes = [
        Route(f"{base}/siret/{{siret}}", insee(sirene.get_siret), methods=["GET"]),
        Route(f"{base}/siret", insee(sirene.search_siret), methods=["GET", "POST"]),
        Route(f"{base}/siren/{{siren}}", insee(sirene.get_siren), methods=["GET"]),
        Route(f"{base}/informations", insee(sirene.informations), methods=["GET"]),
        Route("/_standin/mode", control.mode, methods=["GET", "PUT"]),
        Route("/_standin/calls", control.calls, methods=["GET"]),
        Route("/_standin/reset", control.reset, methods=["POST"]),
        # Anything else under the base path is still a call INSEE would have received.
        Route(f"{base}/{{rest:path}}", insee(sirene.unknown_resource)),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.standin = state
    app.state.base_path = base
    app.state.api_key = api_key
    return app


__all__ = ["API_KEY_HEADER", "DEFAULT_API_KEY", "DEFAULT_BASE_PATH", "MODES", "StandinState", "create_app",
           "parse_query"]

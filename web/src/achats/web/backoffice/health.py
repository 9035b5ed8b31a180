"""« Santé » (platform administrators): each service's readiness (its ``/readyz``), its event bus (the chassis'
``/admin/bus``: outbox backlog, dead letters, « Rejouer » = ``/admin/bus/dead-letters/replay``, what the CLI's
``dlq replay`` does) and the INSEE quota used in the last minute (the registry's ``/registry/admin/insee``).

The services are ``HEALTH_SERVICES`` (name=address), asked in parallel with short timeouts: a service that does not
answer is « Indisponible », never an error of the page. The bus routes check ``platform_admin`` in each service; their
403 (and the registry's) is the 403 page.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import flask
import requests
from flask_babel import gettext as _

from achats.chassis.app import current_runtime

from .. import sessions
from . import ADMIN, blueprint, require_role

TIMEOUT = (1.0, 3.0)  # connect, read: a service down must not hold the page


def services() -> dict[str, str]:
    configured = current_runtime().settings.health_services
    return dict(entry.split("=", 1) for entry in configured if "=" in entry)


def _get(url: str, token: str | None = None) -> requests.Response | None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        return requests.get(url, headers=headers, timeout=TIMEOUT)
    except requests.RequestException:
        return None


def _check(name: str, url: str, token: str) -> dict:
    ready, bus = _get(f"{url}/readyz"), _get(f"{url}/admin/bus", token)
    checks = {}
    if ready is not None:
        try:
            checks = ready.json().get("checks") or {}
        except ValueError:
            checks = {}
    return {"name": name, "ready": ready is not None and ready.status_code == 200,
            "reachable": ready is not None, "checks": checks,
            "bus": bus.json() if bus is not None and bus.status_code == 200 else None,
            "bus_status": bus.status_code if bus is not None else None}


@blueprint.get("/sante")
def health():
    require_role(ADMIN)
    token = sessions.access_token()
    with ThreadPoolExecutor(max_workers=8) as pool:
        rows = list(pool.map(lambda item: _check(*item, token), services().items()))
    if any(row["bus_status"] in (401, 403) for row in rows):
        flask.abort(403)  # the services' refusal, not only the token's claim
    registry = services().get("company-registry")
    insee = _get(f"{registry}/registry/admin/insee", token) if registry else None
    if insee is not None and insee.status_code in (401, 403):
        flask.abort(403)
    args = flask.request.args
    done = error = None
    if args.get("rejoues", "").isdigit() and args.get("service") in services():
        done = _("%(count)s message(s) de %(service)s rejoué(s) : ils repartent dans la file du service.",
                 count=int(args["rejoues"]), service=args["service"])
    if args.get("echec") in services():
        error = _("Le service %(service)s n’a pas rejoué ses messages (il ne répond pas ou l’a refusé) : rien n’a "
                  "été rejoué. Réessayez, ou utilisez « achats-%(service)s dlq replay ».", service=args["echec"])
    return flask.render_template("backoffice/health.html", rows=rows, done=done, error=error,
                                 insee=insee.json() if insee is not None and insee.status_code == 200 else None,
                                 bo_page="backoffice.health")


@blueprint.post("/sante/<name>/rejouer")
def replay(name: str):
    require_role(ADMIN)
    url = services().get(name)
    if url is None:
        flask.abort(404)
    try:
        response = requests.post(f"{url}/admin/bus/dead-letters/replay", timeout=(1.0, 30.0),
                                 headers={"Authorization": f"Bearer {sessions.access_token()}"})
    except requests.RequestException:
        response = None
    if response is not None and response.status_code in (401, 403):
        flask.abort(403)
    if response is None or response.status_code != 200:
        return flask.redirect(flask.url_for("backoffice.health", echec=name), code=303)
    return flask.redirect(flask.url_for("backoffice.health", service=name, rejoues=response.json()["replayed"]),
                          code=303)

"""/api/docs: every contract it lists opens (issue 13 item 15), through a real gateway in front of
stand-ins serving the services' own contracts where each service serves it."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import requests
import yaml
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from achats.chassis.testing.server import serving
from achats.gateway.app import SERVICE, build_app
from achats.gateway.routes import match

SERVICES = Path(__file__).resolve().parents[2] / "services"
CONTRACTS = {"identity": "identity", "company-registry": "company_registry", "helpdesk": "helpdesk",
             "signature": "signature", "notifier": "notifier", "consultations": "consultations"}


def contract_of(service: str) -> dict:
    return yaml.safe_load((SERVICES / service / "src" / "achats" / CONTRACTS[service] / "openapi.yaml")
                          .read_text(encoding="utf-8"))


def publishing(service: str, publish: bool = True) -> Starlette:
    """A service's HTTP surface for the docs: its contract at ``<servers url>/openapi.json`` (where
    connexion serves it), or not published at all (``EXPOSE_DOCS=false``)."""
    spec = contract_of(service)
    base = spec["servers"][0]["url"]

    async def openapi(_request):
        return JSONResponse(spec)

    return Starlette(routes=[Route(f"{base}/openapi.json", openapi)] if publish else [])


@contextlib.contextmanager
def gateway_before(apps: dict[str, Starlette], down: tuple[str, ...] = ()):
    with contextlib.ExitStack() as stack:
        urls = {name: stack.enter_context(serving(app)) for name, app in apps.items()}
        urls.update({name: "http://127.0.0.1:1" for name in down})
        config = SERVICE.load_settings({}, upstreams=tuple(f"{n}={u}" for n, u in urls.items()))
        yield stack.enter_context(serving(build_app(config, SERVICE.runtime(config))))


def listed(gateway: str) -> list[dict]:
    """The list the page shows, found the way the browser finds it."""
    page = requests.get(f"{gateway}/api/docs")
    assert page.status_code == 200
    script = re.search(r'<script src="(/api/docs/achats-docs\.js)"', page.text).group(1)
    config = re.search(r"configUrl: '([^']+)'", requests.get(gateway + script).text).group(1)
    return requests.get(gateway + config).json()["urls"]


def test_every_contract_listed_on_the_docs_page_opens():
    with gateway_before({service: publishing(service) for service in CONTRACTS}) as gateway:
        entries = listed(gateway)
        assert [e["name"] for e in entries] == ["identity", "companies", "helpdesk", "signature", "notifier",
                                                "consultations"]
        for entry in entries:
            answer = requests.get(gateway + entry["url"])
            assert answer.status_code == 200, (entry, answer.text)
            spec = answer.json()
            assert spec["openapi"].startswith("3.") and spec["servers"] == [{"url": "/"}]
            # Its operations are the gateway's public paths, and each goes to the service it documents.
            assert spec["paths"], entry
            for path, operations in spec["paths"].items():
                method = next(m for m in operations if m in ("get", "post", "put", "patch", "delete"))
                rule = match(method.upper(), path.replace("{", "x").replace("}", ""))
                assert rule is not None and path.startswith("/api/"), path
        helpdesk = requests.get(f"{gateway}/api/docs/specs/helpdesk.json").json()
        assert "/api/helpdesk/tickets" in helpdesk["paths"]
        signature = requests.get(f"{gateway}/api/docs/specs/signature.json").json()
        assert any(p.startswith("/api/signature/") for p in signature["paths"])


def test_a_contract_not_published_or_out_of_reach_is_not_listed():
    apps = {"identity": publishing("identity"), "helpdesk": publishing("helpdesk", publish=False)}
    with gateway_before(apps, down=("signature",)) as gateway:
        assert [e["name"] for e in listed(gateway)] == ["identity"]
        out_of_reach = requests.get(f"{gateway}/api/docs/specs/signature.json")
        assert out_of_reach.status_code == 503
        unpublished = requests.get(f"{gateway}/api/docs/specs/helpdesk.json")
        assert unpublished.status_code == 404
        assert unpublished.json()["detail"] == ("Le service helpdesk ne publie pas sa documentation sur cette "
                                                "plateforme.")
        unknown = requests.get(f"{gateway}/api/docs/specs/nothing.json")
        assert (unknown.status_code, unknown.json()["detail"]) == (404, "Cette documentation n'existe pas.")

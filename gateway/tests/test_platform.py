"""GET /api/platform reports each upstream's readiness; errors are problem+json."""

import http.server
import threading

import pytest

from achats.gateway.app import SERVICE


@pytest.fixture
def ready_upstream():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/readyz" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_platform_lists_ready_and_unreachable_services(ready_upstream):
    settings = SERVICE.load_settings({"GATEWAY_UPSTREAMS": f"identity={ready_upstream},helpdesk=http://127.0.0.1:1"})
    client = SERVICE.create_app(settings).test_client()
    body = client.get("/api/platform").json()
    assert body["name"] == "Plateforme des achats"
    assert {s["name"]: s["status"] for s in body["services"]} == {"identity": "ok", "helpdesk": "indisponible"}


def test_gateway_needs_no_database_or_broker():
    client = SERVICE.create_app(SERVICE.load_settings({})).test_client()
    assert client.get("/readyz").status_code == 200
    response = client.get("/api/unknown")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"

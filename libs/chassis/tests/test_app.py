"""The app factory: problem+json for every error, request ids, probes, metrics, bearer security."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest

from achats.chassis.app import create_app
from achats.chassis.bus.amqp import AmqpTransport
from achats.chassis.db import Database
from achats.chassis.settings import ServiceSettings
from achats.chassis.testing.keys import TestKeys

SPEC = Path(__file__).parent / "sample_service" / "openapi.yaml"


def make_app(**overrides):
    settings = ServiceSettings.from_env("sample", environ={}, **{
        "database_url": "sqlite://", "amqp_url": "memory://app-tests", "log_json": True,
        "max_body_bytes": 10_000, **overrides})
    return create_app(settings, spec=SPEC, api_module="sample_service.api",
                      db=Database(settings.database_url))


@pytest.fixture
def client():
    return make_app().test_client()


def assert_problem(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code.replace("_", "-"))
    assert body["title"]
    assert body["detail"]
    return body


def test_schema_violations_are_reported_per_field_in_french(client):
    response = client.post("/sample/items", json={"name": "", "siret": "123", "extra": 1, "contact": {},
                                                  "email": "pas-un-mail"})
    body = assert_problem(response, 400, "validation_failed")
    assert body["detail"] == "Certaines données sont invalides. Corrigez les champs signalés."
    errors = {e["field"]: e["message"] for e in body["errors"]}
    assert errors == {
        "name": "Ce champ est obligatoire.",
        "siret": "Format invalide.",
        "extra": "Champ non autorisé.",
        "contact.phone": "Ce champ est obligatoire.",
        "email": "Adresse e-mail invalide.",
    }


def test_missing_required_fields_are_each_named(client):
    body = assert_problem(client.post("/sample/items", json={}), 400, "validation_failed")
    assert sorted(e["field"] for e in body["errors"]) == ["name", "siret"]


def test_invalid_json_and_wrong_media_type(client):
    assert_problem(client.post("/sample/items", content=b"{nope", headers={"content-type": "application/json"}),
                   400, "invalid_json")
    assert_problem(client.post("/sample/items", content=b"a=1", headers={"content-type": "text/plain"}),
                   415, "unsupported_media_type")


def test_parameters_are_validated_too(client):
    body = assert_problem(client.get("/sample/items", params={"limit": "0"}), 400, "validation_failed")
    assert body["errors"] == [{"field": "limit", "message": "Doit être supérieur ou égal à 1."}]
    body = assert_problem(client.get("/sample/items", params={"limit": "beaucoup"}), 400, "validation_failed")
    assert body["errors"][0]["field"] == "limit"
    body = assert_problem(client.get("/sample/items/not-a-uuid"), 400, "validation_failed")
    assert body["errors"] == [{"field": "item_id", "message": "Identifiant invalide."}]


def test_domain_problems_keep_their_code_and_detail(client):
    body = assert_problem(client.get("/sample/items/6f1c1a7e-1111-4111-8111-111111111111"), 404, "item_not_found")
    assert body["detail"] == "Cet élément n'existe pas."
    assert body["instance"] == "/sample/items/6f1c1a7e-1111-4111-8111-111111111111"


def test_unknown_routes_and_methods(client):
    assert_problem(client.get("/nowhere"), 404, "not_found")
    assert_problem(client.delete("/sample/items"), 405, "method_not_allowed")


def test_unhandled_exception_is_a_500_without_internals(client):
    response = client.get("/sample/boom")
    body = assert_problem(response, 500, "internal_error")
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert body["detail"] == "Une erreur inattendue est survenue. Veuillez réessayer plus tard."


def test_bodies_over_the_limit_are_refused_with_413(client):
    declared = client.post("/sample/items", content=b"x" * 20_000, headers={"content-type": "application/json"})
    body = assert_problem(declared, 413, "payload_too_large")
    assert "9,8 Ko" in body["detail"]

    def chunks():
        for _ in range(20):
            yield b" " * 1000

    streamed = client.post("/sample/items", content=chunks(), headers={"content-type": "application/json"})
    assert_problem(streamed, 413, "payload_too_large")


def test_chunked_bodies_within_the_limit_are_validated_like_any_other(client):
    def chunks(payload):
        yield payload[:5]
        yield payload[5:]

    ok = client.post("/sample/items", content=chunks(b'{"name": "a", "siret": "12345678901234"}'),
                     headers={"content-type": "application/json"})
    assert ok.status_code == 201
    assert ok.json()["name"] == "a"
    bad = client.post("/sample/items", content=chunks(b'{"name": "a", "siret": "1"}'),
                      headers={"content-type": "application/json"})
    assert_problem(bad, 400, "validation_failed")


def test_multipart_uploads_are_validated_and_reach_the_handler_whole():
    client = make_app(max_body_bytes=10_000_000).test_client()
    content = os.urandom(3_000_000)  # past any spooling threshold of the parsers involved
    response = client.post("/sample/uploads", data={"label": "pièce"},
                           files={"file": ("scan.pdf", content, "application/pdf")})
    assert response.status_code == 201, response.text
    # Parsed into memory (the body is bounded by MAX_BODY_BYTES), not into a temporary file on disk.
    assert response.json() == {"label": "pièce", "filename": "scan.pdf", "size": len(content),
                               "sha256": hashlib.sha256(content).hexdigest(), "in_memory": True}


def test_replayed_bodies_are_merged_into_few_messages_bytes_and_order_kept():
    from achats.chassis.validation import coalesced

    chunks = [os.urandom(n) for n in (1000, 70_000, 3, 250_000, 65_536, 10)]
    messages = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    messages[-1]["more_body"] = False
    merged = list(coalesced(messages, limit=100_000))
    assert [len(m["body"]) for m in merged] == [321_003, 65_546]
    assert b"".join(m["body"] for m in merged) == b"".join(chunks)
    assert [m["more_body"] for m in merged] == [True, False]

    # A body not read to its end stays open (the rest comes from the connection); other messages pass.
    partial = list(coalesced([*messages[:2], {"type": "http.disconnect"}], limit=10**9))
    assert partial == [{"type": "http.request", "body": chunks[0] + chunks[1], "more_body": True},
                       {"type": "http.disconnect"}]


def test_multipart_validation_names_each_field_in_french(client):
    missing = client.post("/sample/uploads", data={"label": "x" * 21}, files={"other": ("a.txt", b"x", "text/plain")})
    errors = {e["field"]: e["message"] for e in assert_problem(missing, 400, "validation_failed")["errors"]}
    assert errors == {"file": "Ce champ est obligatoire.", "label": "Ne doit pas dépasser 20 caractères.",
                      "other": "Champ non autorisé."}

    # A file sent where a text field is expected is refused, however small.
    swapped = client.post("/sample/uploads", files={"file": ("a.txt", b"x", "text/plain"),
                                                   "label": ("b.txt", b"y", "text/plain")})
    errors = {e["field"] for e in assert_problem(swapped, 400, "validation_failed")["errors"]}
    assert errors == {"label"}

    broken = client.post("/sample/uploads", content=b"--frontiere\r\nnot a part",
                         headers={"content-type": "multipart/form-data; boundary=frontiere"})
    assert "multipart" in assert_problem(broken, 400, "invalid_multipart")["detail"]
    no_boundary = client.post("/sample/uploads", content=b"x", headers={"content-type": "multipart/form-data"})
    assert_problem(no_boundary, 400, "invalid_multipart")


def test_request_id_is_accepted_echoed_or_generated(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 36
    # A header that could forge log lines is replaced, not echoed.
    hostile = client.get("/healthz", headers={"X-Request-ID": "x\" injected=1"}).headers["x-request-id"]
    assert hostile != "x\" injected=1"
    assert len(hostile) == 36
    # Errors carry it too.
    assert client.get("/nowhere", headers={"X-Request-ID": "err-1"}).headers["x-request-id"] == "err-1"


def test_request_id_is_in_the_json_logs(capsys):
    client = make_app().test_client()  # built here so that its log handler writes to the captured stderr
    client.post("/sample/items", json={"name": "a", "siret": "12345678901234"}, headers={"X-Request-ID": "log-42"})
    lines = [line for line in capsys.readouterr().err.splitlines() if '"http.request"' in line]
    assert any('"request_id": "log-42"' in line and '"status": 201' in line for line in lines)


def test_healthz_and_readyz(tmp_path):
    client = make_app(database_url=f"sqlite:///{tmp_path}/ok.db").test_client()
    assert client.get("/healthz").json() == {"status": "ok", "service": "sample"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_reports_each_unreachable_dependency(tmp_path):
    settings = ServiceSettings.from_env("sample", environ={}, database_url=f"sqlite:///{tmp_path}/none/x.db",
                                        amqp_url="amqp://guest:guest@127.0.0.1:1/")
    app = create_app(settings, spec=SPEC, api_module="sample_service.api", db=Database(settings.database_url),
                     transport=AmqpTransport(settings.amqp_url, exchange="x"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "indisponible", "checks": {"database": "indisponible",
                                                                    "broker": "indisponible"}}
    # Liveness does not depend on them: restarting the pod would not help.
    assert app.test_client().get("/healthz").status_code == 200


def test_metrics_count_requests_by_operation_and_status(client):
    client.get("/sample/items")
    client.get("/sample/items")
    client.get("/nowhere/at/all/123")
    text = client.get("/metrics").text
    assert 'http_requests_total{method="GET",route="sample_service.api.list_items",service="sample",' \
           'status="200"}' in text
    assert 'route="unmatched"' in text
    assert "/nowhere/at/all/123" not in text  # unmatched paths never become label values


def test_bearer_security_rejects_then_accepts(keys):
    client = make_app(jwks_url=keys.jwks_url).test_client()
    body = assert_problem(client.get("/sample/secret"), 401, "unauthenticated")
    assert body["detail"] == "Vous devez être connecté pour accéder à cette ressource."
    expired = client.get("/sample/secret", headers={"Authorization": f"Bearer {keys.token(exp_in=-3600)}"})
    assert_problem(expired, 401, "token_expired")
    forged = TestKeys(kid=keys.kid).token()
    assert_problem(client.get("/sample/secret", headers={"Authorization": f"Bearer {forged}"}), 401, "token_invalid")
    ok = client.get("/sample/secret", headers={"Authorization": f"Bearer {keys.token({'sub': 'u-7'})}"})
    assert ok.status_code == 200
    assert ok.json() == {"sub": "u-7", "roles": ["supplier"]}


def test_dates_and_times_are_checked_by_format():
    from achats.chassis.validation import format_checker

    assert format_checker.conforms("2026-11-28T09:00:00Z", "date-time")
    assert format_checker.conforms("2026-11-28T09:00:00+01:00", "date-time")
    assert not format_checker.conforms("2026-11-28 09:00", "date-time")
    assert not format_checker.conforms("hier", "date-time")
    assert format_checker.conforms("2026-11-28", "date")
    assert not format_checker.conforms("28/11/2026", "date")


def test_secured_operation_without_any_verifier_is_503_not_500(client):
    # make_app's settings name no JWKS: the app has no verifier.
    response = client.get("/sample/secret", headers={"Authorization": "Bearer abc.def.ghi"})
    assert response.status_code == 503
    assert response.json()["code"] == "authentication_unavailable"


def _typed_handler(a: uuid.UUID, b: uuid.UUID | None = None, c: str = ""):
    return {"a": type(a).__name__, "b": type(b).__name__, "c": type(c).__name__}, 200


def test_parameters_annotated_uuid_or_optional_uuid_are_converted():
    from achats.chassis.app import _json_by_default, _uuid_parameters

    assert _uuid_parameters(_typed_handler) == {"a", "b"}
    value = "6f1c1a7e-1111-4111-8111-111111111111"
    body, _status, headers = _json_by_default(_typed_handler)(a=value, b=value, c=value)
    assert body == {"a": "UUID", "b": "UUID", "c": "str"}
    assert headers["Content-Type"] == "application/json"


def test_handlers_know_when_their_request_arrived():
    """A budget promised to users runs from the request's arrival, waits for a worker thread included."""
    import time

    from starlette.testclient import TestClient

    from achats.chassis.context import request_started
    from achats.chassis.observability import RequestContextMiddleware

    seen = {}

    async def app(scope, receive, send):
        seen["started"], seen["now"] = request_started(), time.monotonic()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    before = time.monotonic()
    assert TestClient(RequestContextMiddleware(app, service="sample", max_body_bytes=1000)).get("/").status_code == 204
    assert before <= seen["started"] <= seen["now"]
    assert request_started() is None  # nothing leaks past the request

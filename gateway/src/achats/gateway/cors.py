"""CORS at the edge: Starlette's ``CORSMiddleware`` for the origins of ``CORS_ORIGINS``, answering its
preflights the way the rest of the edge answers (204 with the security headers; a refusal is a 403
problem, not Starlette's plain-text 400)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware

from achats.chassis.problems import Problem

from . import edge

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HEADERS = ("Authorization", "Content-Type", "X-CSRF-Token", "X-Request-ID", "Idempotency-Key", "traceparent")
EXPOSED = ("X-Request-ID", "Retry-After")


class EdgeCORS(CORSMiddleware):
    """Simple responses get Starlette's headers (allowed origin echoed, credentials, exposed headers,
    ``Vary: Origin``) on whatever the gateway answers: proxied answers, problems, pages, its own endpoints."""

    def __init__(self, app, origins: tuple[str, ...]):
        super().__init__(app, allow_origins=origins, allow_methods=METHODS, allow_headers=HEADERS,
                         allow_credentials=True, expose_headers=EXPOSED, max_age=600)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await super().__call__(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "access-control-request-method" not in headers:
            await super().__call__(scope, receive, send)
            return
        # A preflight: never forwarded to a service.
        answer = self.preflight_response(request_headers=headers) if "origin" in headers else None
        if answer is None or answer.status_code != 200:
            await edge.send_problem(send, Problem(status=403, code="cors_denied",
                                                  detail="Cette origine n'est pas autorisée."), scope["path"])
            return
        allowed = [(name, value) for name, value in answer.raw_headers
                   if name not in (b"content-type", b"content-length")]
        await send({"type": "http.response.start", "status": 204, "headers": edge.with_security_headers(allowed)})
        await send({"type": "http.response.body", "body": b""})

"""What every answer of the gateway carries: security headers, problem+json errors (CORS: cors.py)."""

from __future__ import annotations

import json

from achats.chassis.problems import PROBLEM_JSON, Problem

API_SECURITY_HEADERS = [
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]
DOCS_CSP = (b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            b"script-src 'self'; frame-ancestors 'none'")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "proxy-connection"}


def with_security_headers(headers: list[tuple[bytes, bytes]], csp: bytes | None = None) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    out = list(headers)
    for name, value in API_SECURITY_HEADERS:
        if name == b"content-security-policy" and csp is not None:
            value = csp
        if name not in present:
            out.append((name, value))
    return out


async def send_problem(send, problem: Problem, path: str) -> None:
    body = json.dumps(problem.to_dict(instance=path), ensure_ascii=False).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
               *[(k.lower().encode(), v.encode()) for k, v in problem.headers.items()]]
    await send({"type": "http.response.start", "status": problem.status, "headers": with_security_headers(headers)})
    await send({"type": "http.response.body", "body": body})

"""The reverse proxy: streams requests and answers between clients and services (aiohttp client)."""

from __future__ import annotations

import json
import os

import aiohttp
import structlog

from achats.chassis.context import current_request_id
from achats.chassis.http import CircuitBreaker
from achats.chassis.problems import Problem

from .edge import HOP_BY_HOP
from .routes import Rule, public_path

log = structlog.get_logger(__name__)

IDEMPOTENT = {"GET", "HEAD", "OPTIONS"}
MAX_REWRITTEN_PROBLEM = 64 * 1024
# Headers a client must never be able to set for the services behind us.
STRIPPED = {"forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip", "x-user",
            "x-user-id", "x-roles", "x-remote-user", "remote-user", "x-forwarded-user", "x-auth-request-user",
            "x-auth-request-email", "x-client-verify", "cookie", "host", "content-length"}


class BodyTooLarge(Exception):
    pass


class Upstream:
    def __init__(self, name: str, base_url: str, *, pool_size: int, connect_timeout: float):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.breaker = CircuitBreaker(failure_threshold=5, reset_timeout=15.0, name=name)
        self.pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        # Made on first use, inside the serving event loop (one pool of keep-alive connections).
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.pool_size, keepalive_timeout=30, ttl_dns_cache=60)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False,
                                                  skip_auto_headers=("User-Agent", "Accept-Encoding"))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def traceparent(incoming: str | None) -> str:
    """W3C trace context: keep the caller's trace, this hop as a new parent span."""
    trace = incoming.split("-")[1] if incoming and incoming.count("-") == 3 else os.urandom(16).hex()
    return f"00-{trace}-{os.urandom(8).hex()}-01"


def upstream_headers(raw: list[tuple[bytes, bytes]], *, client: str, proto: str, host: str,
                     authorization: str | None, keep_cookies: bool = False) -> dict[str, str]:
    """The request's headers for the upstream; cookies reach only the web front end (it owns the
    browser session), never a service."""
    connection_tokens = set()
    for name, value in raw:
        if name.lower() == b"connection":
            connection_tokens |= {t.strip().lower() for t in value.decode("latin-1").split(",")}
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        if key == "cookie" and keep_cookies:
            headers[key] = value.decode("latin-1")
            continue
        if key in HOP_BY_HOP or key in STRIPPED or key in connection_tokens or key == "authorization":
            continue
        headers[key] = value.decode("latin-1")
    if authorization:
        headers["authorization"] = authorization
    headers["x-forwarded-for"] = client
    headers["x-forwarded-proto"] = proto
    headers["x-forwarded-host"] = host
    headers["forwarded"] = f'for="{client}";proto={proto};host="{host}"'
    headers["x-request-id"] = current_request_id() or ""
    headers["traceparent"] = traceparent(headers.get("traceparent"))
    return headers


async def forward(upstream: Upstream, rule: Rule, scope: dict, receive, send, *,
                  headers: dict[str, str], declared_length: int | None, rules: list[Rule]) -> None:
    """Send the request on and stream the answer back; raise Problem before the answer starts."""
    method = scope["method"]
    requested = rule.upstream_path(scope["path"])
    url = upstream.base_url + requested
    if scope.get("query_string"):
        url += "?" + scope["query_string"].decode("latin-1")
    if declared_length is not None:
        check_declared(rule, declared_length)
        headers["content-length"] = str(declared_length)
    has_body = declared_length not in (None, 0) or "transfer-encoding" in {
        k.decode().lower() for k, _ in scope["headers"]}

    if not upstream.breaker.allow_request():
        raise Problem(status=503, code="service_unavailable",
                      detail=f"Le service {upstream.name} est momentanément indisponible. Veuillez réessayer "
                             "dans quelques instants.", headers={"Retry-After": "15"})
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=upstream.connect_timeout, sock_read=rule.timeout)
    attempts = 2 if method in IDEMPOTENT and not has_body else 1
    for attempt in range(1, attempts + 1):
        try:
            data = body_chunks(receive, rule.max_body) if has_body else None
            async with upstream.session.request(method, url, headers=headers, data=data, timeout=timeout,
                                                allow_redirects=False) as response:
                await _relay(upstream, response, send,
                             PublicPaths(upstream.name, requested, scope["path"], rules)
                             if rule.target and method != "HEAD" else None, html_pages=rule.upstream == "web")
                return
        except BodyTooLarge:
            raise too_large(rule) from None
        except aiohttp.ClientConnectorError as exc:
            # Nothing reached the service: safe to try once more for a read.
            upstream.breaker.record_failure()
            log.warning("gateway.upstream_unreachable", upstream=upstream.name, error=str(exc), attempt=attempt)
            if attempt == attempts:
                raise Problem(status=503, code="service_unavailable",
                              detail=f"Le service {upstream.name} est momentanément indisponible. Veuillez "
                                     "réessayer dans quelques instants.", headers={"Retry-After": "15"}) from None
        except (TimeoutError, aiohttp.ServerTimeoutError):
            upstream.breaker.record_failure()
            raise Problem(status=504, code="upstream_timeout",
                          detail=f"Le service {upstream.name} n'a pas répondu à temps. Veuillez réessayer.") from None
        except aiohttp.ClientError as exc:
            upstream.breaker.record_failure()
            log.warning("gateway.upstream_error", upstream=upstream.name, error=repr(exc))
            raise Problem(status=502, code="bad_gateway",
                          detail=f"Le service {upstream.name} n'a pas répondu correctement. Veuillez "
                                 "réessayer.") from None


class PublicPaths:
    """Services name their own paths (``/registry/lookup/x``) in what they answer; the client knows the
    gateway's (``/api/companies/lookup/x``): the route map turns one into the other."""

    def __init__(self, upstream: str, requested: str, public: str, rules: list[Rule]):
        self.upstream, self.requested, self.public, self.rules = upstream, requested, public, rules

    def __call__(self, path: str) -> str | None:
        return self.public if path == self.requested else public_path(path, self.upstream, self.rules)

    def location(self, value: bytes) -> bytes:
        text = value.decode("latin-1")
        if not text.startswith("/") or text.startswith("//"):
            return value  # absolute URLs are the service's business
        path, mark, query = text.partition("?")
        public = self(path)
        return (public + mark + query).encode("latin-1") if public is not None else value

    def problem(self, body: bytes) -> bytes:
        """The problem document with ``instance`` the public path (dropped if there is none)."""
        try:
            document = json.loads(body)
        except ValueError:
            return body
        if not isinstance(document, dict) or not isinstance(document.get("instance"), str):
            return body
        public = self(document["instance"])
        if public is None:
            del document["instance"]
        else:
            document["instance"] = public
        return json.dumps(document, ensure_ascii=False).encode()


async def _relay(upstream: Upstream, response: aiohttp.ClientResponse, send, paths: PublicPaths | None,
                 html_pages: bool = False) -> None:
    from .edge import with_security_headers

    kind = response.headers.get("Content-Type", "")
    problem = kind.startswith("application/problem+json")
    # The web front end's own error pages (a service behind it down: its 503 page) are French DSFR pages
    # without internals (web/errors.py): passed on as they are; any other 5xx is replaced.
    own_page = html_pages and kind.startswith("text/html")
    if response.status >= 500 and not problem and not own_page:
        # Not one of our problem documents: a crash page or a proxy's error, maybe with internals.
        upstream.breaker.record_failure()
        log.warning("gateway.upstream_failed", upstream=upstream.name, status=response.status)
        raise Problem(status=502, code="bad_gateway",
                      detail=f"Le service {upstream.name} n'a pas répondu correctement. Veuillez réessayer.")
    upstream.breaker.record_success()
    connection_tokens = {t.strip().lower() for t in response.headers.get("Connection", "").split(",")}
    headers = [(name.lower(), value) for name, value in response.raw_headers
               if name.decode("latin-1").lower() not in HOP_BY_HOP | connection_tokens
               and name.lower() not in (b"x-request-id", b"date", b"server")]
    body = None
    if paths is not None:
        headers = [(name, paths.location(value) if name == b"location" else value) for name, value in headers]
        small = response.content_length is not None and response.content_length <= MAX_REWRITTEN_PROBLEM
        if problem and small and "Content-Encoding" not in response.headers:
            # A problem document is small: read whole, its instance made public, its length told anew.
            try:
                body = paths.problem(await response.content.read())
            except (TimeoutError, aiohttp.ClientError) as exc:
                log.warning("gateway.upstream_cut", upstream=upstream.name, error=repr(exc))
                raise Problem(status=502, code="bad_gateway",
                              detail=f"Le service {upstream.name} n'a pas répondu correctement. Veuillez "
                                     "réessayer.") from None
            headers = [(n, v) for n, v in headers if n != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response.status,
                "headers": with_security_headers(headers)})
    if body is not None:
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return
    try:
        async for chunk in response.content.iter_any():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except (TimeoutError, aiohttp.ClientError) as exc:
        log.warning("gateway.upstream_cut", upstream=upstream.name, error=repr(exc))
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def check_declared(rule: Rule, declared_length: int | None) -> None:
    """A request announcing (``Content-Length``) more than the route takes is refused before reading it."""
    if declared_length is not None and declared_length > rule.max_body:
        raise too_large(rule)


async def body_chunks(receive, limit: int):
    """The request body from ASGI ``receive``, chunk by chunk; BodyTooLarge once more than ``limit`` bytes came
    (whatever ``Content-Length`` said: chunked bodies have none). The one body counter of the gateway: streamed
    on to the service, or read whole when the gateway needs the body itself."""
    seen = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge()
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def too_large(rule: Rule) -> Problem:
    return too_large_bytes(rule.max_body)


def too_large_bytes(limit: int) -> Problem:
    from achats.chassis.observability import human_size

    return Problem(status=413, code="payload_too_large",
                   detail=f"Le contenu envoyé dépasse la taille maximale autorisée ({human_size(limit)}).")

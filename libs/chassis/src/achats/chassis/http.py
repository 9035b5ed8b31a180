"""Service-to-service HTTP client: timeouts, safe retries, circuit breaker and context propagation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import requests
import structlog
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from achats.chassis.context import current_request_id, current_traceparent

__all__ = [
    "CircuitBreaker",
    "CircuitOpenError",
    "ServiceClient",
    "ServiceTimeout",
    "ServiceUnavailable",
]

log = structlog.get_logger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# With an Idempotency-Key the callee deduplicates, so replaying these writes is safe too.
KEYED_METHODS = IDEMPOTENT_METHODS | {"POST", "PATCH"}
RETRY_STATUSES = frozenset({502, 503, 504})
# Cap on an honoured Retry-After: a callee must not park one of our workers for minutes.
MAX_RETRY_AFTER = 5.0

# Failures that mean "the callee could not answer". Other RequestExceptions (invalid URL,
# too many redirects...) are caller bugs: they propagate untouched and do not trip the breaker.
_UNAVAILABLE = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.RetryError,
)


class ServiceUnavailable(Exception):
    """The callee could not give an answer. ``str(exc)`` is French and safe to show to users."""

    message_template = "Le service {service} est momentanément indisponible."

    def __init__(self, service: str, *, status: int | None = None) -> None:
        self.service = service
        self.status = status  # last 5xx status seen, when the failure was a response
        self.message = self.message_template.format(service=service)
        super().__init__(self.message)


class ServiceTimeout(ServiceUnavailable):
    message_template = "Le service {service} ne répond pas dans les délais. Veuillez réessayer plus tard."


class CircuitOpenError(ServiceUnavailable):
    message_template = (
        "Le service {service} est momentanément indisponible. Veuillez réessayer dans quelques instants."
    )


class CircuitBreaker:
    """Fail fast after ``failure_threshold`` consecutive failures, probe again after ``reset_timeout``."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        name: str | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be >= 1")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._state = self.CLOSED
        self._failures = 0
        self._opened_at = 0.0

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    def allow_request(self) -> bool:
        """Whether a call may go out now; after the reset timeout, admits a single trial call."""
        with self._lock:
            if self._state == self.CLOSED:
                return True
            now = self._clock()
            if now - self._opened_at < self.reset_timeout:
                return False
            # Re-arming the timer keeps other callers out while the trial runs, and frees the
            # slot again if that trial never reports back.
            self._state = self.HALF_OPEN
            self._opened_at = now
            return True

    def record_success(self) -> None:
        with self._lock:
            self._state = self.CLOSED
            self._failures = 0

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            # In OPEN, a late failure from a call admitted earlier must not extend the open period.
            if self._state == self.OPEN:
                return
            # Only a success resets the count, so a failed half-open trial re-opens at once.
            if self._failures < self.failure_threshold:
                return
            self._state = self.OPEN
            self._opened_at = self._clock()
            failures = self._failures
        log.warning(
            "circuit_breaker_opened",
            breaker=self.name,
            consecutive_failures=failures,
            reset_timeout=self.reset_timeout,
        )


class _Retry(Retry):
    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        retry_after = super().get_retry_after(response)
        return None if retry_after is None else min(retry_after, MAX_RETRY_AFTER)


def _is_problem(response: requests.Response) -> bool:
    return response.headers.get("Content-Type", "").split(";")[0].strip() == "application/problem+json"


def _is_timeout(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.Timeout):
        return True
    # Exhausted retries surface as ConnectionError(MaxRetryError(reason=...)) and a timeout while
    # reading the body as ConnectionError(ReadTimeoutError): look at the urllib3 cause.
    cause = exc.args[0] if exc.args else None
    cause = getattr(cause, "reason", cause)
    # NewConnectionError subclasses ConnectTimeoutError for historical reasons but is a refusal.
    return isinstance(cause, (ReadTimeoutError, ConnectTimeoutError)) and not isinstance(
        cause, NewConnectionError
    )


class ServiceClient:
    """HTTP client for calling another service of the platform.

    4xx responses are returned as they are, and so are 5xx responses carrying a problem+json
    document: the callee answered, deliberately, about a dependency of its own (the registry saying
    INSEE is down, say) and its French ``detail`` is for the user. Connection errors, timeouts and
    other 5xx responses (after retries) raise :class:`ServiceUnavailable` or one of its subclasses.
    """

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.2,
        breaker: CircuitBreaker | None = None,
        token_provider: Callable[[], str | None] | None = None,
        user_agent: str = "achats",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.service = service
        self.timeout = (connect_timeout, read_timeout)
        self.breaker = breaker if breaker is not None else CircuitBreaker(name=service)
        self._token_provider = token_provider
        # A urllib3 Retry is fixed per adapter, so keyed writes get their own session.
        self._session = self._make_session(IDEMPOTENT_METHODS, retries, backoff, user_agent)
        self._keyed_session = self._make_session(KEYED_METHODS, retries, backoff, user_agent)
        # Connection failures only: for calls whose answer is final even when it is a 5xx.
        self._connect_only_session = self._make_session(frozenset(), retries, backoff, user_agent)

    @staticmethod
    def _make_session(
        methods: frozenset[str], retries: int, backoff: float, user_agent: str
    ) -> requests.Session:
        # Connect errors are retried whatever the method (urllib3 does so because nothing was
        # sent); read errors and retryable statuses only for ``methods``.
        retry = _Retry(
            total=retries,
            connect=retries,
            # urllib3 reads an empty method set as "every method": no methods means no read retries.
            read=retries if methods else 0,
            status=retries if methods else 0,
            backoff_factor=backoff,
            status_forcelist=RETRY_STATUSES if methods else frozenset(),
            allowed_methods=methods or frozenset({"NONE"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        session = requests.Session()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = user_agent
        return session

    def _url(self, path: str) -> str:
        # Concatenation rather than urljoin: keeps the base path prefix, and a path such as
        # "//host/x" or "http://host/x" can never send the call (and our token) elsewhere.
        return f"{self.base_url}/{path.lstrip('/')}"

    def _headers(self, given: Any) -> CaseInsensitiveDict[str]:
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(given or {})
        # Headers given by the caller win, e.g. to forward the end user's own token.
        request_id = current_request_id()
        if request_id and "X-Request-ID" not in headers:
            headers["X-Request-ID"] = request_id
        traceparent = current_traceparent()
        if traceparent and "traceparent" not in headers:
            headers["traceparent"] = traceparent
        if self._token_provider is not None and "Authorization" not in headers:
            token = self._token_provider()
            if token:
                headers["Authorization"] = f"Bearer {token}"
        return headers

    def request(self, method: str, path: str, *, retry: bool = True, **kwargs: Any) -> requests.Response:
        """Send a request to ``base_url/path``; ``kwargs`` are those of ``requests.request``.

        ``retry=False``: only a connection that could not be made is tried again.
        """
        method = method.upper()
        headers = self._headers(kwargs.pop("headers", None))
        kwargs["headers"] = headers
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout  # never wait forever
        if not retry:
            session = self._connect_only_session
        else:
            session = self._keyed_session if "Idempotency-Key" in headers else self._session

        if not self.breaker.allow_request():
            raise CircuitOpenError(self.service)
        try:
            response = session.request(method, self._url(path), **kwargs)
        except _UNAVAILABLE as exc:
            self.breaker.record_failure()
            error = ServiceTimeout if _is_timeout(exc) else ServiceUnavailable
            raise error(self.service) from exc

        if response.status_code >= 500 and not _is_problem(response):
            self.breaker.record_failure()
            status = response.status_code
            response.close()
            raise ServiceUnavailable(self.service, status=status)
        # Any other answer, 4xx included, proves the callee is up.
        self.breaker.record_success()
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self._session.close()
        self._keyed_session.close()
        self._connect_only_session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

"""The name of the requester's company: the token's company_name claim, else the registry's answer."""

from __future__ import annotations

import threading
import time

import structlog

from achats.chassis.http import ServiceClient, ServiceUnavailable

log = structlog.get_logger(__name__)


class CompanyNames:
    """Asks the registry, with the requester's own token (a user reads their own company), for tokens
    issued without the claim. Short timeouts and no retry: the form never waits on the registry, and a
    name it cannot get is « Non connu », never the company's UUID. Names are remembered a while."""

    def __init__(self, base_url: str, *, ttl: float = 600.0, miss_ttl: float = 60.0, size: int = 10_000):
        self.http = ServiceClient(base_url, service="company-registry", connect_timeout=1.0, read_timeout=2.0,
                                  retries=0) if base_url else None
        self.ttl, self.miss_ttl, self.size = ttl, miss_ttl, size
        self._known: dict[str, tuple[str | None, float]] = {}
        self._lock = threading.Lock()

    def name_of(self, company_id: str, token: str | None) -> str | None:
        if self.http is None or not token:
            return None
        with self._lock:
            known = self._known.get(company_id)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        name = self._ask(company_id, token)
        with self._lock:
            if len(self._known) >= self.size:
                self._known.clear()
            self._known[company_id] = (name, time.monotonic() + (self.ttl if name else self.miss_ttl))
        return name

    def _ask(self, company_id: str, token: str) -> str | None:
        try:
            response = self.http.get(f"/registry/companies/{company_id}", headers={"Authorization": f"Bearer {token}"})
        except ServiceUnavailable as exc:
            log.warning("helpdesk.registry_unavailable", error=repr(exc))
            return None
        if response.status_code != 200:
            return None
        try:
            name = response.json().get("name")
        except ValueError:
            return None
        return name.strip() if isinstance(name, str) and name.strip() else None

"""The automatic context of a request, as the form shows it: applicative, business and technical."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ua_parser import parse

UNKNOWN = "Non connu"
NO_BUSINESS_CONTEXT = "Aucune information de contexte n'est disponible."
# ua-parser's family names, as users know the products.
BROWSERS = {"Firefox": "Mozilla Firefox", "Chrome": "Google Chrome", "Chrome Mobile": "Google Chrome Mobile",
            "Edge": "Microsoft Edge", "IE": "Internet Explorer", "Mobile Safari": "Safari Mobile"}
SYSTEMS = {"Mac OS X": "macOS"}


@dataclass(frozen=True)
class Requester:
    """Who asks: the account when a token came with the request, the contact data of the form."""

    email: str | None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    company: str | None = None
    user_id: str | None = None
    company_id: str | None = None

    @property
    def logged_in(self) -> bool:
        return self.user_id is not None

    @property
    def display_name(self) -> str | None:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.email


def _version(*parts: str | None) -> str:
    numbers = []
    for part in parts:
        if not part:
            break
        numbers.append(part)
    return ".".join(numbers)


@functools.lru_cache(maxsize=4096)
def describe_user_agent(user_agent: str) -> tuple[str, str]:
    """(operating system, browser) from a User-Agent, « Non connu » for what cannot be told."""
    if not user_agent:
        return UNKNOWN, UNKNOWN
    result = parse(user_agent[:1000])
    system = browser = UNKNOWN
    if result.os is not None and result.os.family != "Other":
        name = SYSTEMS.get(result.os.family, result.os.family)
        version = _version(result.os.major, result.os.minor, result.os.patch)
        system = f"{name} {version}".strip()
    if result.user_agent is not None and result.user_agent.family != "Other":
        name = BROWSERS.get(result.user_agent.family, result.user_agent.family)
        version = _version(result.user_agent.major, result.user_agent.minor or "0")
        browser = f"{name} {version}".strip()
    return system, browser


def build(*, platform: str, version: str, requester: Requester, page: str | None, resource: str | None,
          user_agent: str | None, assistant_version: str | None, browser_facts: dict | None = None) -> dict:
    """The three blocks of the form. The applicative one names the logged-in user only: an anonymous
    request shows « Non connu » there, its contact data being what the requester typed. ``browser_facts``: what
    the page's script told (screen, language, cookies), kept in the technical block when sent."""
    system, browser = describe_user_agent(user_agent or "")
    logged_in = requester.logged_in
    return {
        "applicative": {
            "platform": platform,
            "version": version,
            "user_name": (requester.display_name or UNKNOWN) if logged_in else UNKNOWN,
            "user_email": (requester.email or UNKNOWN) if logged_in else UNKNOWN,
            # The company's name (the token's, else the registry's); never its UUID, which says nothing.
            "company": (requester.company or UNKNOWN) if logged_in else UNKNOWN,
        },
        "business": {
            "page": page or None,
            "resource": resource or None,
            "summary": None if page or resource else NO_BUSINESS_CONTEXT,
        },
        "technical": {
            "operating_system": system,
            "browser": browser,
            "assistant_version": assistant_version or UNKNOWN,
            "user_agent": (user_agent or "")[:500] or None,
            **{k: v for k, v in (browser_facts or {}).items() if v},
        },
    }

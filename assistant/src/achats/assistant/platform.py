"""Where the platform is and how the assistant logs in to it (for the `signer` command at the terminal)."""

from __future__ import annotations

import os

import requests

from .errors import AssistantError

DEFAULT_PLATFORM = "http://localhost:8080"


def platform_url(value: str | None = None) -> str:
    return (value or os.environ.get("ACHATS_ASSISTANT_PLATFORM") or DEFAULT_PLATFORM).rstrip("/")


def signature_api(platform: str) -> str:
    """The signature service through the platform's gateway (ACHATS_ASSISTANT_SIGNATURE_API to go elsewhere)."""
    return os.environ.get("ACHATS_ASSISTANT_SIGNATURE_API") or f"{platform}/api/signature"


def login(platform: str, identifiant: str, password: str, *, timeout: float = 20) -> str:
    """« Se connecter » with the platform's identity API: the access token (kept in memory only)."""
    try:
        response = requests.post(f"{platform}/api/identity/sessions", json={"login": identifiant,
                                                                              "password": password}, timeout=timeout)
    except requests.RequestException:
        raise AssistantError("platform_unreachable", f"La plateforme ({platform}) ne répond pas : vérifiez votre "
                                                     "connexion à Internet.", status=502) from None
    if response.status_code != 200:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = None
        raise AssistantError("login_failed", detail or "Connexion à la plateforme refusée.", status=401)
    return response.json()["access_token"]

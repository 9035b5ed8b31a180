"""Error pages for people (issue 15 item 8): what the gateway answers a browser's navigation on a page path.

The API keeps its problem+json. For a page (every path outside ``/api``) asked for by a browser (``Accept``
naming HTML, see ``achats.chassis.negotiation``), a refusal of the gateway — body too large, too many requests,
the web front end down, slow or failing — is the web app's own DSFR page ``/erreur/<status>`` (fetched without
cookies, so anonymous, and kept ``TTL`` seconds), served with the real status and headers (``Retry-After``);
when the web app cannot give it (down, or answering something else), a small built-in page in French."""

from __future__ import annotations

import html
import time

import aiohttp
import structlog

from .proxy import Upstream

log = structlog.get_logger(__name__)

# The statuses the web app has a page for at /erreur/<status>.
WEB_PAGES = {413, 429, 502, 503, 504}
TTL = 60.0
FAILED_TTL = 5.0  # a web app that could not give its page is not asked again at once
MAX_PAGE = 256 * 1024
FETCH_TIMEOUT = 2.0
# The built-in pages: no stylesheet to fetch (the web app may be down), nothing of the platform's insides.
BUILTIN_CSP = b"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'"
BUILTIN = {
    400: ("La demande n’a pas pu aboutir", "La demande envoyée n’a pas pu être traitée. Revenez à la page "
                                           "précédente et réessayez."),
    404: ("Page non trouvée", "La page que vous cherchez est introuvable."),
    413: ("Fichier trop volumineux", "Le contenu envoyé dépasse la taille maximale autorisée sur cette page. "
                                     "Revenez à la page précédente et choisissez un fichier plus petit."),
    429: ("Trop de demandes", "Vous avez envoyé trop de demandes en peu de temps. Réessayez dans quelques "
                              "instants."),
    500: ("Erreur inattendue", "Désolé, le service rencontre un problème. Réessayez plus tard."),
    502: ("Le service n’a pas répondu correctement", "Un service de la plateforme a rencontré un problème en "
                                                     "traitant votre demande. Veuillez réessayer dans quelques "
                                                     "instants."),
    503: ("Service indisponible", "Le service est momentanément indisponible. Veuillez réessayer dans quelques "
                                  "minutes."),
    504: ("Le service n’a pas répondu à temps", "Un service de la plateforme a mis trop de temps à répondre. "
                                                "Veuillez réessayer dans quelques instants."),
}
TEMPLATE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{heading} — Plateforme des achats</title>
<style>
body {{ font-family: Marianne, Arial, sans-serif; color: #161616; background: #fff; margin: 0; line-height: 1.5; }}
header, main {{ max-width: 48rem; margin: 0 auto; padding: 1.5rem 1rem; }}
header {{ border-bottom: 1px solid #ddd; font-weight: 700; }}
a {{ color: #000091; }}
a:focus {{ outline: 2px solid #0a76f6; outline-offset: 2px; }}
</style>
</head>
<body>
<header><p>République française — Plateforme des achats</p></header>
<main id="contenu">
<h1>{heading}</h1>
<p>Erreur {status}</p>
<p>{message}</p>
<p><a href="/">Page d’accueil</a></p>
</main>
</body>
</html>
"""


def builtin(status: int, wait: str | None = None) -> bytes:
    heading, message = BUILTIN.get(status, BUILTIN[500] if status >= 500 else BUILTIN[400])
    if status == 429 and wait:
        message = f"Vous avez envoyé trop de demandes en peu de temps. Réessayez dans {wait}."
    return TEMPLATE.format(heading=html.escape(heading), status=status, message=html.escape(message)).encode()


class ErrorPages:
    """The web app's error pages, fetched on first need and kept a little while (they hold nobody's data:
    fetched without cookies)."""

    def __init__(self, web: Upstream | None, ttl: float = TTL):
        self.web, self.ttl = web, ttl
        self.cache: dict[str, tuple[float, bytes, bytes] | tuple[float, None, None]] = {}

    async def page(self, status: int, *, web_down: bool, limit: int | None = None, wait: int | None = None,
                   spoken: str | None = None) -> tuple[bytes, bytes]:
        """``(html, content-security-policy)``: the web app's page, else the built-in one."""
        if self.web is None or status not in WEB_PAGES or web_down:
            return builtin(status, spoken), BUILTIN_CSP
        query = f"limite={limit}" if status == 413 and limit else f"attente={wait}" if status == 429 and wait else ""
        address = f"/erreur/{status}" + (f"?{query}" if query else "")
        now = time.monotonic()
        kept = self.cache.get(address)
        if kept is None or kept[0] < now:
            body, csp = await self._fetch(address)
            kept = (now + (self.ttl if body is not None else FAILED_TTL), body, csp)
            if len(self.cache) > 200:
                self.cache.clear()
            self.cache[address] = kept
        if kept[1] is None:
            return builtin(status, spoken), BUILTIN_CSP
        return kept[1], kept[2]

    async def _fetch(self, address: str) -> tuple[bytes | None, bytes | None]:
        try:
            async with self.web.session.get(self.web.base_url + address, allow_redirects=False,
                                            headers={"Accept": "text/html", "Accept-Language": "fr"},
                                            timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT)) as response:
                kind = response.headers.get("Content-Type", "")
                if (response.status != 200 or not kind.startswith("text/html")
                        or "Content-Encoding" in response.headers):
                    raise ValueError(f"status {response.status}, {kind}")
                body = await response.content.read(MAX_PAGE + 1)
                if len(body) > MAX_PAGE:
                    raise ValueError("page too large")
                csp = response.headers.get("Content-Security-Policy", "").encode("latin-1") or BUILTIN_CSP
                return body, csp
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            log.warning("gateway.error_page_unavailable", address=address, error=repr(exc))
            return None, None

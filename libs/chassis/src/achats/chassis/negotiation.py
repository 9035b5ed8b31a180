"""Content negotiation for error answers: a page for a browser's navigation, a problem for a program."""

from __future__ import annotations

HTML = ("text/html", "application/xhtml+xml")
JSON = ("application/json", "application/problem+json")


def prefers_html(accept: str | None) -> bool:
    """True when the ``Accept`` header names an HTML type explicitly and ranks it above JSON.

    A browser's navigation (a link, a form posted without JavaScript) sends ``text/html,...``; ``fetch`` and
    ``XMLHttpRequest`` send ``*/*`` unless told otherwise, and an API client names JSON: wildcards do not
    count, so those keep their problem+json."""
    html = json = 0.0
    for part in (accept or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        media = media.lower()
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media in HTML:
            html = max(html, quality)
        elif media in JSON or (media.startswith("application/") and media.endswith("+json")):
            json = max(json, quality)
    return html > 0 and html > json

"""The public pages: home, the footer's pages, the top menu's pages, the language switch, the assets."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import urlsplit

import flask

from achats.chassis.http import ServiceUnavailable

from . import audit, configuration, deps, i18n, user_guide

blueprint = flask.Blueprint("pages", __name__)

YEAR = 365 * 24 * 3600

# The footer's and top menu's pages: (address, template).
STATIC_PAGES = {
    "mentions-legales": "pages/mentions_legales.html",
    "conditions-d-utilisation": "pages/conditions.html",
    "pre-requis-techniques": "pages/prerequis.html",
    "accessibilite": "pages/accessibilite.html",
    "aide": "pages/aide.html",
    "se-preparer-a-repondre": "pages/se_preparer.html",
}


@blueprint.get("/")
def home():
    return flask.render_template("home.html")


@blueprint.get("/<any(" + ",".join(f'"{p}"' for p in STATIC_PAGES) + "):page>")
def static_page(page: str):
    extra = {"audit": audit.load()} if page == "accessibilite" else {}
    if page == "aide":
        extra["guide_size"] = user_guide_path().stat().st_size
        extra["faq"] = helpdesk_faq()
    if page == "pre-requis-techniques":
        # The one list of supported browsers, which « Tester la configuration » checks against too.
        extra["browsers"] = configuration.SUPPORTED_BROWSERS
    return flask.render_template(STATIC_PAGES[page], page=page, **extra)


def helpdesk_faq() -> list[dict] | None:
    """The helpdesk's FAQ by category, as anyone may read it (no token: the page needs no account); None when the
    helpdesk does not answer, and the page says so."""
    client = deps.current().helpdesk
    headers = {"User-Agent": flask.request.headers.get("User-Agent", "")}
    try:
        answer = client.request("GET", "/helpdesk/categories", headers=headers, retry=False)
        if answer.status_code != 200:
            return None
        categories = [dict(c, questions=[]) for c in answer.json().get("items", [])]
        by_id = {c["id"]: c for c in categories}
        cursor = None
        for _page in range(20):
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            answer = client.request("GET", "/helpdesk/faq", headers=headers, params=params, retry=False)
            if answer.status_code != 200:
                return None
            body = answer.json()
            for entry in body.get("items", []):
                if entry.get("category_id") in by_id:
                    by_id[entry["category_id"]]["questions"].append(entry)
            cursor = body.get("next_cursor")
            if not cursor:
                break
    except ServiceUnavailable:
        return None
    return [c for c in categories if c["questions"]]


def user_guide_path() -> Path:
    """The « Guide d'utilisation » PDF of the current source, built on first request, cached by content hash."""
    return user_guide.ensure_built(Path(flask.current_app.extensions["achats_assets"]["dest"]) / "guide")


@blueprint.get("/aide/" + user_guide.FILENAME)
def guide_pdf():
    path = user_guide_path()
    response = flask.send_file(path, mimetype="application/pdf", as_attachment=True,
                               download_name=user_guide.FILENAME, etag=path.stem, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get("/langue/<any(fr,en):code>")
def language(code: str):
    """The header's FR/EN switch: a plain link (works without JavaScript), back to the same page."""
    response = flask.redirect(safe_next(flask.request.args.get("next")), code=303)
    response.set_cookie(i18n.COOKIE, code, max_age=YEAR, samesite="Lax", httponly=True,
                        secure=flask.current_app.extensions["achats"].settings.cookie_secure)
    return response


@blueprint.get("/assets/<path:name>")
def asset(name: str):
    """Built assets: fingerprinted names (or a versioned folder), so cached for a year."""
    dest = Path(flask.current_app.extensions["achats_assets"]["dest"])
    accepted = flask.request.accept_encodings
    for encoding, suffix in (("br", ".br"), ("gzip", ".gz")):
        # Compressed once at build time (assets.PRECOMPRESSED), at the best level: sent as stored.
        if accepted[encoding] and (dest / f"{name}{suffix}").is_file() and not name.endswith((".br", ".gz")):
            response = flask.send_from_directory(dest, name + suffix, max_age=YEAR,
                                                 mimetype=mimetypes.guess_type(name)[0])
            response.headers["Content-Encoding"] = encoding
            break
    else:
        response = flask.send_from_directory(dest, name, max_age=YEAR)
        # Read whole (the files are small) so that the compression applies to them too.
        response.direct_passthrough = False
    response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    # A name that changes with its content is never revalidated: no validators, no Expires beside
    # Cache-Control, and not send_file's « attachment » name (of the .br file, at that).
    for header in ("Expires", "Last-Modified", "ETag", "Content-Disposition"):
        response.headers.pop(header, None)
    return response


def safe_next(target: str | None) -> str:
    """A local path only: an address given in a link never sends the visitor to another site."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def return_path() -> str:
    """The page to come back to after a detour (the login page, the language switch): this page for a GET; for a
    page answered to a form (its POST address is no page: a GET there answers 405), the page that held the form,
    from the Referer's path (only a path: the host the browser saw is the gateway's, not this app's)."""
    request = flask.request
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else "")) if referrer.path else "/"

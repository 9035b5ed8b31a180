"""Which language a page is in: French unless the visitor chose English with the header's switch."""

from __future__ import annotations

import flask

LOCALES = ("fr", "en")
COOKIE = "achats_lang"


def select_locale() -> str:
    chosen = flask.request.cookies.get(COOKIE)
    return chosen if chosen in LOCALES else "fr"


def current_locale() -> str:
    return select_locale() if flask.has_request_context() else "fr"


def other_locale() -> str:
    return "en" if current_locale() == "fr" else "fr"

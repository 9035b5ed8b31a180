"""GET /registry/reference/...: the INSEE nomenclatures the registry ships, for the web form's choosers."""

from __future__ import annotations

import hashlib
import json

import flask

from .. import reference as nomenclatures

# The lists change with INSEE's nomenclatures, i.e. with a new release of the service.
CACHE_CONTROL = "public, max-age=86400"
DEFAULT_LIMIT = 20


def legal_forms(q: str | None = None, limit: int | None = None):
    return _answer(nomenclatures.legal_forms(), q, limit)


def naf_codes(q: str | None = None, limit: int | None = None):
    return _answer(nomenclatures.naf_codes(), q, limit)


def _answer(table: nomenclatures.Nomenclature, q: str | None, limit: int | None) -> flask.Response:
    found = table.search(q)
    # Without a query, the whole list (a page without JavaScript renders it as a <select>).
    if limit is None:
        limit = DEFAULT_LIMIT if q else len(found)
    shown = found[:limit]
    body = json.dumps({"count": len(found), "items": [e.shape() for e in shown]}, ensure_ascii=False,
                      separators=(",", ":"))
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": f'"{etag}"'}
    if etag in flask.request.if_none_match:
        return flask.Response(status=304, headers=headers)
    return flask.Response(body, status=200, content_type="application/json", headers=headers)

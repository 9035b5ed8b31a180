"""A service's file answered to the browser as it arrives (the vault, the DCE, the receipts, the attachments, the
signed documents): one way for every download the pages relay, never held whole in memory."""

from __future__ import annotations

import flask

# The service's own description of the file: its detected type, its size, its name, its no-sniffing.
PASSED_HEADERS = ("Content-Type", "Content-Length", "Content-Disposition", "X-Content-Type-Options")
CHUNK = 64 * 1024


def relayed(response, passed: tuple[str, ...] = PASSED_HEADERS) -> flask.Response:
    """The streamed ``requests`` answer ``response`` (200) as this app's answer: its ``passed`` headers, never
    cached (private, no-store), never giving its address away (no-referrer); the upstream answer closed at the
    end or when the browser goes away."""

    def chunks():
        try:
            yield from response.iter_content(CHUNK)
        finally:
            response.close()

    out = flask.Response(flask.stream_with_context(chunks()), status=200)
    for name in passed:
        if name in response.headers:
            out.headers[name] = response.headers[name]
    out.headers["Cache-Control"] = "private, no-store"
    out.headers["Referrer-Policy"] = "no-referrer"
    return out

"""A ticket followed through the link of the mails: read, answer, download — no login."""

from __future__ import annotations

import uuid

import flask

from achats.chassis.app import current_runtime

from .. import attachments, follow, tickets
from . import common, shapes

# Answers opened by a capability: never cached, never leaking the page's address.
PRIVATE = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


def _token() -> str | None:
    return flask.request.headers.get("X-Follow-Token")


def get(reference: str):
    with current_runtime().db.session() as session:
        ticket = follow.resolve(session, reference, _token())
        return shapes.ticket(tickets.view(session, ticket), common.settings()), 200, PRIVATE


def add_message(reference: str, body: dict):
    settings = common.settings()
    seen = tickets.reply_by_link(current_runtime().db.unit_of_work(), reference, _token(), settings=settings,
                                 message=(body or {}).get("message") or "", uploads=common.uploads())
    return shapes.ticket(seen, settings), 201, PRIVATE


def download(reference: str, attachment_id: uuid.UUID):
    with current_runtime().db.session() as session:
        ticket = follow.resolve(session, reference, _token())
        attachment, content = attachments.get(session, ticket, attachment_id, include_internal=False)
    response = common.download(attachment, content)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response

"""The requester's side: send the form (logged in or not), then « Mes demandes d'assistance »."""

from __future__ import annotations

import uuid

import flask

from achats.chassis.app import current_runtime
from achats.chassis.security import Principal

from .. import attachments, tickets
from ..tickets import Actor, RequestForm
from . import common, shapes


def create(body: dict, token_info: dict | None = None):
    claims = common.optional_claims(token_info)
    fields = body or {}
    settings = common.settings()
    form = RequestForm(category_id=uuid.UUID(fields["category_id"]), severity=fields["severity"],
                       frequency=fields.get("frequency") or None, message=fields.get("message") or "",
                       subject=fields.get("subject"), page=fields.get("page"), resource=fields.get("resource"),
                       assistant_version=fields.get("assistant_version"), user_agent=common.user_agent(),
                       browser_facts={k: fields.get(k) for k in ("screen", "language", "cookies") if fields.get(k)})
    files = common.uploads()
    key = flask.request.headers.get("Idempotency-Key") or None
    requester = common.requester(claims, fields)
    seen, token = tickets.open_request(current_runtime().db.unit_of_work(), settings=settings, requester=requester,
                                       form=form, uploads=files, idempotency_key=key)
    answer = shapes.ticket(seen, settings)
    answer["follow_url"] = settings.follow_url(seen.ticket.reference, token) if token else None
    answer["confirmation"] = shapes.confirmation(seen.ticket, settings)
    return answer, 201 if token else 200


def list(token_info: dict, status: list[str] | None = None, limit: int = 50, cursor: str | None = None):
    who = Principal.from_claims(token_info)
    with current_runtime().db.session() as session:
        items, following, total = tickets.list_own(session, who.sub, limit=limit, cursor=cursor, status=status)
        return {"count": total, "items": [shapes.summary(t, for_agent=False) for t in items],
                "next_cursor": following}, 200


def get(ticket_id: uuid.UUID, token_info: dict):
    who = Principal.from_claims(token_info)
    with current_runtime().db.session() as session:
        ticket = tickets.get_own(session, ticket_id, who.sub)
        return shapes.ticket(tickets.view(session, ticket), common.settings()), 200


def add_message(ticket_id: uuid.UUID, body: dict, token_info: dict):
    settings = common.settings()
    seen = tickets.reply_own(current_runtime().db.unit_of_work(), ticket_id, Principal.from_claims(token_info).sub,
                             settings=settings, message=(body or {}).get("message") or "", uploads=common.uploads())
    return shapes.ticket(seen, settings), 201


def download(ticket_id: uuid.UUID, attachment_id: uuid.UUID, token_info: dict):
    who = Principal.from_claims(token_info)
    with current_runtime().db.session() as session:
        ticket = tickets.get_own(session, ticket_id, who.sub)
        attachment, content = attachments.get(session, ticket, attachment_id, include_internal=False)
    return common.download(attachment, content)


def revoke_links(ticket_id: uuid.UUID, token_info: dict):
    who = Principal.from_claims(token_info)
    actor = common.staff(token_info) if who.has_role(*common.STAFF) else Actor(kind="requester", id=who.sub)
    tickets.revoke_links(current_runtime().db.unit_of_work(), ticket_id, actor=actor)
    return None, 204

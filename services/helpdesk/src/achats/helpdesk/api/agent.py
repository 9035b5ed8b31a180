"""The support's desk: the queue, and what agents do to a ticket."""

from __future__ import annotations

import uuid

from achats.chassis.app import current_runtime

from .. import attachments, desk, tickets
from ..desk import QueueFilter
from . import common, shapes


def queue(token_info: dict, status: list[str] | None = None, severity: list[str] | None = None,
          category_id: str | None = None, assignee: str | None = None, min_age_hours: int | None = None,
          max_age_hours: int | None = None, reference: str | None = None, email: str | None = None,
          q: str | None = None, sort: str = "oldest", limit: int = 50, cursor: str | None = None):
    actor = common.staff(token_info)
    query = QueueFilter(status=tuple(status or ()), severity=tuple(severity or ()),
                        category_id=common.as_uuid(category_id),
                        assignee=actor.id if assignee == "me" else assignee, min_age_hours=min_age_hours,
                        max_age_hours=max_age_hours, reference=reference, email=email,
                        words=tuple((q or "").split()))
    with current_runtime().db.session() as session:
        items, following, total = desk.queue(session, query, sort=sort, limit=limit, cursor=cursor)
        return {"count": total, "items": [shapes.summary(t, for_agent=True) for t in items],
                "next_cursor": following}, 200


def get(ticket_id: uuid.UUID, token_info: dict):
    common.staff(token_info)
    with current_runtime().db.session() as session:
        return shapes.ticket(tickets.view(session, tickets.get(session, ticket_id), for_agent=True),
                             common.settings()), 200


def _done(seen, status: int = 201):
    return shapes.ticket(seen, common.settings()), status


def assign(ticket_id: uuid.UUID, body: dict, token_info: dict):
    agent = (body["agent_id"], body.get("agent_name")) if "agent_id" in body else None
    return _done(desk.assign(current_runtime().db.unit_of_work(), ticket_id, actor=common.staff(token_info),
                             settings=common.settings(), agent=agent), 200)


def reply(ticket_id: uuid.UUID, body: dict, token_info: dict):
    fields = body or {}
    return _done(desk.reply(current_runtime().db.unit_of_work(), ticket_id, actor=common.staff(token_info),
                            settings=common.settings(), message=fields.get("message") or "", uploads=common.uploads(),
                            then_status=fields.get("status") or None))


def request_information(ticket_id: uuid.UUID, body: dict, token_info: dict):
    return _done(desk.request_information(current_runtime().db.unit_of_work(), ticket_id,
                                          actor=common.staff(token_info), settings=common.settings(),
                                          message=(body or {}).get("message") or "", uploads=common.uploads()))


def note(ticket_id: uuid.UUID, body: dict, token_info: dict):
    return _done(desk.note(current_runtime().db.unit_of_work(), ticket_id, actor=common.staff(token_info),
                           settings=common.settings(), message=(body or {}).get("message") or "",
                           uploads=common.uploads()))


def change_status(ticket_id: uuid.UUID, body: dict, token_info: dict):
    return _done(desk.change_status(current_runtime().db.unit_of_work(), ticket_id, actor=common.staff(token_info),
                                    settings=common.settings(), status=body["status"], comment=body.get("comment")),
                 200)


def download(ticket_id: uuid.UUID, attachment_id: uuid.UUID, token_info: dict):
    common.staff(token_info)
    with current_runtime().db.session() as session:
        ticket = tickets.get(session, ticket_id)
        attachment, content = attachments.get(session, ticket, attachment_id, include_internal=True)
    return common.download(attachment, content)


def merge(ticket_id: uuid.UUID, body: dict, token_info: dict):
    """« Fusionner avec »: this ticket is a duplicate of the one numbered ``reference``."""
    return _done(desk.merge(current_runtime().db.unit_of_work(), ticket_id, actor=common.staff(token_info),
                            settings=common.settings(), reference=body.get("reference") or ""), 200)


def send_link(ticket_id: uuid.UUID, token_info: dict):
    """« Envoyer un nouveau lien »: a new follow link mailed to the requester."""
    return _done(desk.send_link(current_runtime().db.unit_of_work(), ticket_id, actor=common.staff(token_info),
                                settings=common.settings()))


def agents(token_info: dict):
    actor = common.staff(token_info)
    with current_runtime().db.session() as session:
        known = dict(desk.agents(session))
    known.setdefault(actor.id, actor.name)
    items = sorted(known.items(), key=lambda item: ((item[1] or "").lower(), item[0]))
    return {"items": [{"id": agent_id, "name": name} for agent_id, name in items]}, 200

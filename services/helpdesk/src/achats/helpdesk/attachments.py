"""Attachments of requests and replies: screenshots and documents, checked by content, limited in size."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from achats.chassis import files
from achats.chassis.observability import human_size
from achats.chassis.problems import FieldError, Problem

from .models import Attachment, AttachmentContent, Ticket, TicketEntry

ACCEPTED = ("copies d'écran (PNG, JPEG, GIF, WebP, BMP, TIFF), PDF, documents bureautiques (Word, Excel, "
            "PowerPoint, OpenDocument) et fichiers texte")


@dataclass(frozen=True)
class Upload:
    """A file as received: its name as the sender gave it, and its bytes (at most the limit plus one)."""

    filename: str
    content: bytes


def sniff(content: bytes) -> str | None:
    """The media type of ``content`` judged by its bytes (any known kind is accepted here)."""
    return files.sniff(content)


def check(uploads: list[Upload], *, max_bytes: int, per_message: int, per_ticket: int,
          already: int = 0) -> list[tuple[Upload, str]]:
    """Each upload with its detected type, or the Problem that refuses the lot (nothing is stored)."""
    if len(uploads) > per_message:
        raise Problem(status=422, code="too_many_attachments",
                      detail=f"Vous pouvez joindre au plus {per_message} fichiers à un message.",
                      errors=[FieldError("attachments", f"{per_message} fichiers au plus.")])
    if already + len(uploads) > per_ticket:
        raise Problem(status=422, code="too_many_attachments",
                      detail=f"Une demande compte au plus {per_ticket} pièces jointes : cette limite est atteinte.",
                      errors=[FieldError("attachments", f"{per_ticket} fichiers au plus par demande.")])
    checked = []
    for upload in uploads:
        name = safe_name(upload.filename)
        if len(upload.content) > max_bytes:
            raise Problem(status=413, code="attachment_too_large",
                          detail=f"Le fichier « {name} » dépasse la taille maximale autorisée "
                                 f"({human_size(max_bytes)}).",
                          errors=[FieldError("attachments", f"{name} : {human_size(max_bytes)} au plus.")])
        if not upload.content:
            raise Problem(status=422, code="attachment_empty", detail=f"Le fichier « {name} » est vide.",
                          errors=[FieldError("attachments", f"{name} : fichier vide.")])
        content_type = sniff(upload.content)
        if content_type is None:
            raise Problem(status=415, code="attachment_type_refused",
                          detail=f"Le type du fichier « {name} » n'est pas accepté. Formats acceptés : {ACCEPTED}.",
                          errors=[FieldError("attachments", f"{name} : type de fichier refusé.")])
        checked.append((upload, content_type))
    return checked


def store(session: Session, ticket: Ticket, entry: TicketEntry,
          checked: list[tuple[Upload, str]]) -> list[Attachment]:
    stored = []
    for upload, content_type in checked:
        attachment = Attachment(id=uuid.uuid4(), ticket_id=ticket.id, entry_id=entry.id, internal=entry.internal,
                                filename=safe_name(upload.filename), content_type=content_type,
                                size=len(upload.content), sha256=hashlib.sha256(upload.content).hexdigest())
        session.add(attachment)
        session.add(AttachmentContent(attachment_id=attachment.id, content=upload.content))
        stored.append(attachment)
    ticket.attachment_count += len(checked)
    return stored


def safe_name(filename: str) -> str:
    return files.safe_name(filename, default="piece-jointe")


def of_ticket(session: Session, ticket: Ticket, *, include_internal: bool) -> dict[uuid.UUID, list[Attachment]]:
    """The ticket's attachments (without their bytes) by history entry."""
    statement = select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.created_at,
                                                                                      Attachment.id)
    if not include_internal:
        statement = statement.where(Attachment.internal.is_(False))
    found: dict[uuid.UUID, list[Attachment]] = {}
    for attachment in session.execute(statement).scalars():
        found.setdefault(attachment.entry_id, []).append(attachment)
    return found


def get(session: Session, ticket: Ticket, attachment_id: uuid.UUID, *, include_internal: bool) -> tuple[
        Attachment, bytes]:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket.id or (attachment.internal and not include_internal):
        raise Problem(status=404, code="attachment_not_found", detail="Cette pièce jointe n'existe pas.")
    return attachment, session.get(AttachmentContent, attachment.id).content

"""Attachments of requests and replies: screenshots and documents, checked by content, limited in size."""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from achats.chassis.observability import human_size
from achats.chassis.problems import FieldError, Problem

from .models import Attachment, AttachmentContent, Ticket, TicketEntry

ACCEPTED = ("copies d'écran (PNG, JPEG, GIF, WebP, BMP, TIFF), PDF, documents bureautiques (Word, Excel, "
            "PowerPoint, OpenDocument) et fichiers texte")
_TEXT_CONTROLS = set(range(0, 32)) - {9, 10, 12, 13}


@dataclass(frozen=True)
class Upload:
    """A file as received: its name as the sender gave it, and its bytes (at most the limit plus one)."""

    filename: str
    content: bytes


def sniff(content: bytes) -> str | None:
    """The media type of ``content`` judged by its bytes, or None when it is not an accepted kind.

    The name and the declared type of an upload are never trusted: an executable renamed ``.png``
    is still an executable.
    """
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if content.startswith(b"RIFF") and content[8:12] == b"WEBP":
        return "image/webp"
    if content.startswith(b"BM") and len(content) > 26 and content[14:18] in (
            b"\x0c\x00\x00\x00", b"\x28\x00\x00\x00", b"\x38\x00\x00\x00", b"\x6c\x00\x00\x00",
            b"\x7c\x00\x00\x00"):  # the sizes of the known BMP info headers
        return "image/bmp"
    if content.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"  # legacy .doc/.xls/.ppt
    if content.startswith(b"PK\x03\x04"):
        return _office_zip(content)
    return _text(content)


def _office_zip(content: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                kind = archive.read("mimetype").decode("ascii", "replace").strip()
                return kind if kind.startswith("application/vnd.oasis.opendocument.") else None
            if "[Content_Types].xml" in names:
                for folder, kind in (("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml"
                                               ".document"),
                                     ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                                     ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml"
                                              ".presentation")):
                    if any(name.startswith(folder) for name in names):
                        return kind
    except (zipfile.BadZipFile, KeyError, ValueError):
        return None
    return None


def _text(content: bytes) -> str | None:
    """Plain UTF-8 text (logs, error messages copied by hand): no control characters but blanks."""
    try:
        decoded = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not decoded.strip() or any(ord(ch) in _TEXT_CONTROLS for ch in decoded):
        return None
    return "text/plain"


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
    # Only the last path component, without control characters: it is echoed in Content-Disposition.
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"\r\n')
    return (name or "piece-jointe")[:255]


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

"""The vault: list, add, read, download and remove the company's documents."""

from __future__ import annotations

import uuid
from datetime import date

import flask

from achats.chassis.app import current_runtime
from achats.chassis.files import download_headers
from achats.chassis.pagination import page

from .. import companies as companies_service
from .. import vault
from ..access import can_read_vault, principal
from . import shapes


def list(company_id: uuid.UUID, token_info: dict, limit: int = 50, cursor: str | None = None):
    can_read_vault(principal(token_info), company_id)
    with current_runtime().db.session() as session:
        items = vault.list_documents(session, companies_service.get(session, company_id))
        chunk, following = page(items, limit=limit, cursor=cursor)
        today, notice_days = vault.today(), current_runtime().settings.expiry_notice_days
        return {"count": len(items), "items": [shapes.document(d, today, notice_days) for d in chunk],
                "next_cursor": following}, 200


def create(company_id: uuid.UUID, body: dict, token_info: dict, file=None):
    runtime = current_runtime()
    settings = runtime.settings
    upload = file or flask.request.files.get("file")
    content = upload.read(settings.vault_max_bytes + 1)
    valid_until = body.get("valid_until")
    if isinstance(valid_until, str):
        valid_until = date.fromisoformat(valid_until)
    document = vault.upload(runtime.db.unit_of_work(), who=principal(token_info), company_id=company_id,
                            type=body["type"], label=body.get("label"), valid_until=valid_until,
                            filename=upload.filename or "document", content=content,
                            uploaded_by=shapes.person(token_info), max_bytes=settings.vault_max_bytes,
                            max_documents=settings.vault_max_documents)
    return shapes.document(document, vault.today(), settings.expiry_notice_days), 201


def get(company_id: uuid.UUID, document_id: uuid.UUID, token_info: dict):
    can_read_vault(principal(token_info), company_id)
    with current_runtime().db.session() as session:
        company = companies_service.get(session, company_id)
        return shapes.document(vault.get(session, company, document_id), vault.today(),
                               current_runtime().settings.expiry_notice_days), 200


def download(company_id: uuid.UUID, document_id: uuid.UUID, token_info: dict):
    can_read_vault(principal(token_info), company_id)
    with current_runtime().db.session() as session:
        document = vault.get(session, companies_service.get(session, company_id), document_id)
        content = vault.content_of(session, document)
        filename, content_type = document.filename, document.content_type
    return flask.Response(content, status=200, headers=download_headers(filename, content_type, len(content)))


def delete(company_id: uuid.UUID, document_id: uuid.UUID, token_info: dict):
    vault.remove(current_runtime().db.unit_of_work(), who=principal(token_info), company_id=company_id,
                 document_id=document_id)
    return None, 204

"""« Signer un document » in two steps: the data to be signed, then the value made on the user's device."""

from __future__ import annotations

import uuid

from achats.chassis.app import current_runtime
from achats.chassis.security import Principal

from .. import signing, uploads
from . import files
from .options import signing_request

CERTIFICATE_LIMIT = 64 * 1024


def create(body: dict, token_info: dict, file=None, certificate=None):
    runtime = current_runtime()
    filename, content = files.read("file", file, runtime.settings.max_file_bytes)
    _name, certificates = files.read("certificate", certificate, CERTIFICATE_LIMIT)
    document = uploads.Upload("file", filename, content, uploads.sniff_kind(content))
    answer = signing.open_session(runtime.db.unit_of_work(), runtime.deps, runtime.settings,
                                  who=Principal.from_claims(token_info), document=document,
                                  certificates=certificates, request=signing_request(body, document))
    return answer, 201


def get(session_id: uuid.UUID, token_info: dict):
    with current_runtime().db.session() as session:
        return signing.describe(signing.get_session(session, Principal.from_claims(token_info), session_id)), 200


def delete(session_id: uuid.UUID, token_info: dict):
    signing.cancel_session(current_runtime().db.unit_of_work(), who=Principal.from_claims(token_info),
                           session_id=session_id)
    return None, 204


def complete(session_id: uuid.UUID, body: dict, token_info: dict):
    runtime = current_runtime()
    signed, request = signing.complete_session(runtime.db.unit_of_work(), runtime.deps, runtime.settings,
                                               who=Principal.from_claims(token_info), session_id=session_id,
                                               signature_value=body["signature_value"])
    return files.attachment(signed, request.output_name, request.output_media_type)

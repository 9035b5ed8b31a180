"""« Signer un document » in one shot: the PKCS#12 and its password are used in memory, never kept."""

from __future__ import annotations

from achats.chassis.app import current_runtime
from achats.chassis.security import Principal

from .. import signing, uploads
from . import files
from .options import signing_request

PKCS12_LIMIT = 64 * 1024


def create(body: dict, token_info: dict, file=None, pkcs12=None):
    Principal.from_claims(token_info)  # any logged-in user of the platform
    runtime = current_runtime()
    filename, content = files.read("file", file, runtime.settings.max_file_bytes)
    _name, p12 = files.read("pkcs12", pkcs12, PKCS12_LIMIT)
    document = uploads.Upload("file", filename, content, uploads.sniff_kind(content))
    request = signing_request(body, document)
    signed = signing.sign_oneshot(runtime.deps, runtime.settings, document=document, pkcs12=p12,
                                  password=body.get("password") or "", request=request)
    return files.attachment(signed, request.output_name, request.output_media_type)

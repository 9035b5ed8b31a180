"""Signing in PAdES, CAdES (detached) and XAdES (detached), in two steps or in one shot.

Both ways share one path: ``prepare`` computes the data to be signed (DTBS) and the state to finish
with; ``finish`` checks the signature value against the certificate and assembles the signed
document. Two steps: the user's device signs the DTBS (the key never leaves it). One shot: the
PKCS#12's key signs it here, in memory.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from pyhanko.sign import timestamps
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from ..trust.lists import TrustMaterial
from ..validation.common import DocumentRejected
from . import cades, pades, xades
from .credentials import Credentials, check_signature, normalise_signature, signature_algorithm
from .pades import Stamp

__all__ = ["FORMATS", "LEVELS", "Environment", "SigningRequest", "Stamp", "finish", "prepare", "sign"]

FORMATS = ("pades", "cades", "xades")
LEVELS = {"pades": ("B-B", "B-T", "B-LT"), "cades": ("B-B", "B-T"), "xades": ("B-B", "B-T")}


@dataclass(frozen=True)
class SigningRequest:
    format: str
    level: str
    filename: str
    media_type: str = "application/octet-stream"
    stamp: Stamp | None = None
    reason: str | None = None
    location: str | None = None
    field_name: str = "Signature1"

    def check(self, tsa_url: str) -> None:
        if self.level not in LEVELS[self.format]:
            allowed = ", ".join(LEVELS[self.format])
            raise DocumentRejected("level_unsupported", f"Niveau {self.level} non disponible en {self.format.upper()} "
                                                        f"(niveaux possibles : {allowed}).", "level")
        if self.level != "B-B" and not tsa_url:
            raise DocumentRejected("tsa_not_configured", "L'horodatage n'est pas configuré sur ce service : seul le "
                                                         "niveau B-B est disponible.", "level")
        if self.stamp is not None and self.format != "pades":
            raise DocumentRejected("stamp_unsupported", "Le tampon visible n'existe que pour les signatures PAdES "
                                                        "(PDF).", "visible")

    @property
    def output_name(self) -> str:
        stem, ext = os.path.splitext(self.filename or "document")
        if self.format == "pades":
            return f"{stem}-signe{ext or '.pdf'}"
        return f"{self.filename or 'document'}.p7s" if self.format == "cades" else \
            f"{self.filename or 'document'}.xades.xml"

    @property
    def output_media_type(self) -> str:
        return {"pades": "application/pdf", "cades": "application/pkcs7-signature",
                "xades": "application/xml"}[self.format]


@dataclass(frozen=True)
class Environment:
    tsa_url: str
    fetch_timeout: float
    material: TrustMaterial


def _timestamper(request: SigningRequest, env: Environment):
    if request.level == "B-B":
        return None
    return timestamps.HTTPTimeStamper(env.tsa_url, timeout=env.fetch_timeout)


async def prepare(request: SigningRequest, document: bytes, credentials: Credentials, env: Environment) -> dict:
    """{data_to_be_signed, state, prepared}: ``prepared`` is the document (or XML) to finish with."""
    request.check(env.tsa_url)
    if request.format == "pades":
        try:
            dtbs, state, prepared = await pades.prepare(
                document, credentials, field_name=request.field_name, timestamper=_timestamper(request, env),
                stamp=request.stamp, reason=request.reason, location=request.location)
        except TimestampRequestError:
            raise _tsa_down() from None
    elif request.format == "cades":
        dtbs, state = await cades.prepare(document, credentials)
        prepared = b""
    else:
        dtbs, prepared = xades.prepare(document, request.filename, request.media_type, credentials)
        state = {}
    state["certificates"] = [base64.b64encode(c.dump()).decode() for c in [credentials.certificate,
                                                                           *credentials.chain]]
    state["data_to_be_signed"] = base64.b64encode(dtbs).decode()
    return {"data_to_be_signed": dtbs, "state": state, "prepared": prepared,
            "signature_algorithm": signature_algorithm(credentials)}


async def finish(request: SigningRequest, state: dict, prepared: bytes, credentials: Credentials,
                 signature_value: bytes, env: Environment) -> bytes:
    dtbs = base64.b64decode(state["data_to_be_signed"])
    value = normalise_signature(credentials, signature_value)
    check_signature(credentials, dtbs, value)
    timestamper = _timestamper(request, env)
    try:
        if request.format == "pades":
            return await pades.finish(prepared, state, credentials, value, timestamper=timestamper,
                                      long_term=request.level == "B-LT", material=env.material,
                                      fetch_timeout=env.fetch_timeout)
        if request.format == "cades":
            return await cades.finish(state, credentials, value, timestamper=timestamper)
        return await xades.finish(prepared, credentials, value, timestamper=timestamper)
    except TimestampRequestError:
        raise _tsa_down() from None


async def sign(request: SigningRequest, document: bytes, credentials: Credentials, env: Environment) -> bytes:
    """One shot: prepare, sign the DTBS with the PKCS#12 key, finish — nothing kept."""
    prepared = await prepare(request, document, credentials, env)
    value = credentials.sign(prepared["data_to_be_signed"])
    return await finish(request, prepared["state"], prepared["prepared"], credentials, value, env)


def _tsa_down() -> DocumentRejected:
    return DocumentRejected("tsa_unavailable", "Le service d'horodatage ne répond pas : réessayez plus tard ou "
                                               "signez au niveau B-B.", None, status=503)

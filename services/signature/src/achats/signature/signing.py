"""Use cases of signing: one shot with a PKCS#12, or two steps where the key stays on the user's device."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from hashlib import sha256

import structlog
from sqlalchemy import delete
from sqlalchemy.orm import Session

from achats.chassis import clock
from achats.chassis.db import UnitOfWork
from achats.chassis.problems import FieldError, Problem
from achats.chassis.security import Principal

from . import uploads
from .deps import Dependencies
from .models import SigningSession
from .settings import SignatureSettings
from .signers import SigningRequest, Stamp
from .verifications import run_job, trust_snapshot

log = structlog.get_logger(__name__)

NOT_FOUND = Problem(status=404, code="signing_session_not_found",
                    detail="Cette signature en cours n'existe pas ou a expiré : recommencez.")


def build_request(*, document: uploads.Upload, format: str, level: str, visible: bool = False, page: int = 1,
                  x: float = 50, y: float = 50, width: float = 250, height: float = 60, reason: str | None = None,
                  location: str | None = None) -> SigningRequest:
    if format == "pades" and document.kind != uploads.PDF:
        raise Problem(status=415, code="pdf_required",
                      detail="La signature PAdES s'applique aux documents PDF : choisissez CAdES ou XAdES pour les "
                             "autres fichiers.", errors=[FieldError("file", "Un fichier PDF est attendu.")])
    stamp = Stamp(page=page, x=x, y=y, width=width, height=height) if visible else None
    return SigningRequest(format=format, level=level, filename=document.filename or "document",
                          media_type=document.media_type, stamp=stamp, reason=reason, location=location)


def sign_oneshot(deps: Dependencies, settings: SignatureSettings, *, document: uploads.Upload, pkcs12: bytes,
                 password: str, request: SigningRequest) -> bytes:
    """Sign with the key of an uploaded PKCS#12, in the sandbox's memory; nothing is stored or logged (no unit
    of work: nothing is written)."""
    signed = run_job(deps.sandbox, "sign", _trust_for(deps, settings, request), settings, request=request,
                     document=document.content, pkcs12=pkcs12, password=password, tsa_url=settings.tsa_url,
                     fetch_timeout=settings.fetch_timeout)
    log.info("signature.signed", mode="one_shot", format=request.format, level=request.level)
    return signed


def open_session(uow: UnitOfWork, deps: Dependencies, settings: SignatureSettings, *, who: Principal,
                 document: uploads.Upload, certificates: bytes, request: SigningRequest) -> dict:
    """Step 1: the data to be signed; the prepared document waits (SIGNING_SESSION_TTL) for the value."""
    prepared = run_job(deps.sandbox, "prepare", None, settings, request=request,
                       document=document.content, certificates=certificates, tsa_url=settings.tsa_url,
                       fetch_timeout=settings.fetch_timeout)
    created = clock.now()
    with uow:
        purge(uow.session, created)
        state = {**prepared["state"], "signature_algorithm": prepared["signature_algorithm"]}
        session = SigningSession(owner=who.sub, format=request.format, level=request.level,
                                 filename=request.filename, media_type=request.media_type, options=_options(request),
                                 state=state, prepared=prepared["prepared"], created_at=created,
                                 expires_at=created + timedelta(seconds=settings.signing_session_ttl))
        uow.session.add(session)
        uow.session.flush()
        answer = describe(session)
        uow.commit()
    log.info("signature.session_opened", session_id=answer["id"], format=request.format, level=request.level)
    return answer


def get_session(session: Session, who: Principal, session_id: uuid.UUID) -> SigningSession:
    found = session.get(SigningSession, session_id)
    # Someone else's session answers like a missing one: its existence is not disclosed.
    if found is None or found.owner != who.sub or found.expires_at <= clock.now():
        raise NOT_FOUND
    return found


def complete_session(uow: UnitOfWork, deps: Dependencies, settings: SignatureSettings, *, who: Principal,
                     session_id: uuid.UUID, signature_value: str) -> tuple[bytes, SigningRequest]:
    """Step 2: check the value against the certificate and the data, assemble the signed document."""
    try:
        value = base64.b64decode(signature_value, validate=True)
    except (binascii.Error, ValueError):
        raise Problem(status=400, code="validation_failed", detail="Certaines données sont invalides.",
                      errors=[FieldError("signature_value", "Valeur en base64 attendue.")]) from None
    with uow:
        found = get_session(uow.session, who, session_id)
        request = _request(found)
        state, prepared = dict(found.state), found.prepared
    signed = run_job(deps.sandbox, "finish", _trust_for(deps, settings, request), settings, request=request,
                     state=state, prepared=prepared, signature_value=value, tsa_url=settings.tsa_url,
                     fetch_timeout=settings.fetch_timeout)
    with uow:
        uow.session.execute(delete(SigningSession).where(SigningSession.id == session_id))
        uow.commit()
    log.info("signature.signed", mode="two_steps", format=request.format, level=request.level,
             session_id=str(session_id))
    return signed, request


def cancel_session(uow: UnitOfWork, *, who: Principal, session_id: uuid.UUID) -> None:
    with uow:
        found = get_session(uow.session, who, session_id)
        uow.session.delete(found)
        uow.commit()


def _trust_for(deps: Dependencies, settings: SignatureSettings, request: SigningRequest):
    """B-LT needs the trust lists (to validate the chain it embeds); the other levels do not."""
    if request.level != "B-LT":
        return None
    return trust_snapshot(deps.trust_lists, settings)


def describe(session: SigningSession) -> dict:
    state = session.state
    dtbs = base64.b64decode(state["data_to_be_signed"])
    algorithm = state.get("signature_algorithm")
    return {"id": str(session.id), "format": session.format, "level": session.level, "filename": session.filename,
            "digest_algorithm": "sha256", "signature_algorithm": algorithm,
            "data_to_be_signed": state["data_to_be_signed"],
            "data_to_be_signed_digest": base64.b64encode(sha256(dtbs).digest()).decode(),
            "created_at": clock.iso(session.created_at), "expires_at": clock.iso(session.expires_at)}


def purge(session: Session, moment: datetime | None = None) -> int:
    result = session.execute(delete(SigningSession).where(SigningSession.expires_at <= (moment or clock.now())))
    return result.rowcount or 0


def _options(request: SigningRequest) -> dict:
    return {"stamp": asdict(request.stamp) if request.stamp else None, "reason": request.reason,
            "location": request.location, "field_name": request.field_name}


def _request(session: SigningSession) -> SigningRequest:
    options = session.options or {}
    stamp = Stamp(**options["stamp"]) if options.get("stamp") else None
    return SigningRequest(format=session.format, level=session.level, filename=session.filename,
                          media_type=session.media_type, stamp=stamp, reason=options.get("reason"),
                          location=options.get("location"), field_name=options.get("field_name") or "Signature1")

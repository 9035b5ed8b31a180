"""The consultations: the practice data, the rolling deadline, the search, the DCE downloads per company.

No Flask and no HTTP here: the handlers, the migration and the CLI share these functions.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from achats.chassis import clock
from achats.chassis.bus import publish
from achats.chassis.clock import iso
from achats.chassis.problems import FieldError, Problem

from .models import Consultation, DceDownload

PROCEDURES = {"open": "Appel d'offres ouvert", "restricted": "Appel d'offres restreint",
              "adapted": "Procédure adaptée", "negotiated": "Procédure négociée"}
CONTRACT_TYPES = {"works": "Travaux", "supplies": "Fournitures", "services": "Services"}
SOURCE = "/consultations"
DCE_DOWNLOADED = "consultations.dce.downloaded"
# The practice deadlines fall at noon, Paris time in winter.
DEADLINE_HOUR_UTC = 11


def fold(text: str) -> str:
    """Lower case without accents: what the word search compares."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_text(reference: str, title: str, buyer: str, summary: str, lot_titles: list[str]) -> str:
    return fold(" ".join([reference, title, buyer, summary, *lot_titles]))


def anchor(now: datetime | None = None) -> datetime:
    """The anchor of a practice deadline created now: today at the deadline hour."""
    now = now or clock.now()
    return now.replace(hour=DEADLINE_HOUR_UTC, minute=0, second=0, microsecond=0)


def deadline(consultation: Consultation, now: datetime | None = None) -> datetime:
    """The consultation's current deadline. A practice one rolls: the first anchor + k × period after now."""
    now = now or clock.now()
    period = timedelta(days=consultation.deadline_days)
    first = consultation.deadline_anchor + period
    if not consultation.practice or first > now:
        return first
    periods = (now - first) // period + 1
    return first + periods * period


def get(session: Session, consultation_id: uuid.UUID) -> Consultation:
    found = session.get(Consultation, consultation_id)
    if found is None:
        raise Problem(status=404, code="consultation_not_found", detail="Cette consultation n'existe pas.")
    return found


@dataclass(frozen=True)
class Criteria:
    words: list[str]
    cpv: str | None = None
    procedure: str | None = None
    contract_type: str | None = None


MAX_WORDS = 10


def criteria(q: str | None, cpv: str | None, procedure: str | None, contract_type: str | None) -> Criteria:
    words = fold(q or "").replace("'", " ").replace("’", " ").split()
    if len(words) > MAX_WORDS:
        raise Problem(status=400, code="search_too_long", detail="La recherche compte trop de mots.",
                      errors=[FieldError("q", f"Saisissez au plus {MAX_WORDS} mots.")])
    code = (cpv or "").strip().replace(" ", "")
    if code:
        digits = code.split("-", 1)[0]  # « 45000000-7 »: the check digit is not part of the code
        if not digits.isdigit() or not 2 <= len(digits) <= 8:
            raise Problem(status=400, code="cpv_invalid", detail="Le code CPV est invalide.",
                          errors=[FieldError("cpv", "Saisissez un code CPV de 2 à 8 chiffres, par exemple 45000000.")])
        # Trailing zeros are the code's hierarchy: 45000000 is the division 45, which holds 45262000.
        code = digits.rstrip("0") or digits
    return Criteria(words=words, cpv=code or None, procedure=procedure, contract_type=contract_type)


def _codes(consultation: Consultation) -> set[str]:
    return {*consultation.cpv_codes, *(c for lot in consultation.lots for c in lot.cpv_codes)}


def search(session: Session, found: Criteria) -> list[Consultation]:
    """Every consultation matching all the words (any order), the CPV prefix and the filters, soonest
    deadline first."""
    query = select(Consultation)
    for word in found.words:
        query = query.where(Consultation.search_text.contains(word, autoescape=True))
    if found.procedure:
        query = query.where(Consultation.procedure == found.procedure)
    if found.contract_type:
        query = query.where(Consultation.contract_type == found.contract_type)
    items = list(session.execute(query).scalars())
    if found.cpv:
        items = [c for c in items if any(code.startswith(found.cpv) for code in _codes(c))]
    now = clock.now()
    return sorted(items, key=lambda c: (deadline(c, now), c.reference))


def record_download(session: Session, consultation: Consultation, *, company_id: str, user_id: str,
                    email: str | None, document: str) -> DceDownload:
    """Record that the company downloaded a DCE document (or the zip), and say so on the bus."""
    row = DceDownload(consultation_id=consultation.id, company_id=company_id, user_id=user_id, email=email,
                      document=document, downloaded_at=clock.now())
    session.add(row)
    session.flush()
    publish(session, DCE_DOWNLOADED, {
        "consultation_id": str(consultation.id), "reference": consultation.reference, "company_id": company_id,
        "user_id": user_id, "document": document, "downloaded_at": iso(row.downloaded_at)},
        source=SOURCE, subject=str(consultation.id))
    return row


def downloads(session: Session, company_id: str, consultation_id: uuid.UUID | None = None) -> list[DceDownload]:
    query = select(DceDownload).where(DceDownload.company_id == company_id)
    if consultation_id is not None:
        query = query.where(DceDownload.consultation_id == consultation_id)
    return list(session.execute(query.order_by(DceDownload.downloaded_at.desc(), DceDownload.id)).scalars())

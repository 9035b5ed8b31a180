"""Companies typed by hand while INSEE was down: the result of their automatic re-verification, the platform
administrators' decision (accept / reject with a reason) and the audit log of these decisions.

A manual entry is ``review_status="pending"`` from its creation; the worker's re-verification (jobs.reverify)
records each attempt (``record_attempt``): INSEE knows the SIREN (« matches »: its data replaces what was typed and
the company leaves the list as ``insee``), INSEE does not know it or refuses to diffuse it (« disagrees »), or
INSEE is still unavailable. An administrator then accepts (the company becomes verified) or rejects it (it stays
unverified and is no longer re-verified); every decision is a line of ``audit_log`` in the same transaction.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from achats.chassis import clock
from achats.chassis.clock import iso
from achats.chassis.db import UnitOfWork
from achats.chassis.pagination import keyset_page
from achats.chassis.problems import FieldError, Problem
from achats.chassis.security import Principal

from . import companies, events
from .models import AuditEntry, Company

STATUSES = ("pending", "insee", "accepted", "rejected")
OUTCOMES = ("matches", "disagrees", "unavailable")
REASON_MAX = 500

ADMIN_ONLY = Problem(status=403, code="platform_admin_required",
                     detail="Réservé aux administrateurs de la plateforme.")

# What the worker writes as INSEE's answer (French: shown to administrators as it is).
MATCHES = "L'INSEE connaît ce SIREN : ses données ont remplacé la saisie et l'entreprise est vérifiée."
UNKNOWN = "L'INSEE ne connaît pas ce numéro SIREN."
NOT_DIFFUSIBLE = "L'INSEE ne diffuse pas les données de cette entreprise (diffusion refusée)."
NO_ESTABLISHMENT = "L'INSEE ne liste aucun établissement pour ce SIREN."
UNAVAILABLE = "L'INSEE est toujours indisponible : une nouvelle tentative sera faite."


def require_admin(who: Principal) -> None:
    if not who.has_role("platform_admin"):
        raise ADMIN_ONLY


def record_attempt(session: Session, company: Company, outcome: str, detail: str) -> None:
    """One automatic re-verification of a manual entry: when, and what INSEE answered."""
    assert outcome in OUTCOMES, outcome
    company.reverified_at, company.reverify_outcome, company.reverify_detail = clock.now(), outcome, detail[:300]


def _shape(session: Session, company: Company, last_decision: AuditEntry | None) -> dict:
    return {
        "id": str(company.id), "siren": company.siren, "name": company.name, "sigle": company.sigle,
        "naf_code": company.naf_code, "naf_label": company.naf_label, "legal_form_code": company.legal_form_code,
        "legal_form_label": company.legal_form_label, "source": company.source, "verified": company.verified,
        "created_at": iso(company.created_at),
        "establishments": [{"id": str(e.id), "siret": e.siret, "name": e.name, "street": e.street,
                            "postal_code": e.postal_code, "city": e.city, "verified": e.verified}
                           for e in companies.establishments(session, company)],
        "reverification": {"at": iso(company.reverified_at), "outcome": company.reverify_outcome,
                           "detail": company.reverify_detail} if company.reverified_at else None,
        "review": {"status": company.review_status,
                   "decided_at": iso(last_decision.at) if last_decision else None,
                   "decided_by": _actor(last_decision) if last_decision else None,
                   "reason": (last_decision.detail or {}).get("reason") if last_decision else None},
    }


def _actor(entry: AuditEntry) -> dict:
    return {"id": entry.actor_id, "name": entry.actor_name, "email": entry.actor_email}


def _last_decisions(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, AuditEntry]:
    if not ids:
        return {}
    rows = session.execute(select(AuditEntry).where(AuditEntry.company_id.in_(ids))
                           .order_by(AuditEntry.at)).scalars()
    return {row.company_id: row for row in rows}  # the latest wins


def manual_companies(session: Session, *, status: str = "pending", limit: int = 25, cursor: str | None = None) -> dict:
    """The companies typed by hand with this review status (``all``: every one), oldest entry first, with the
    last re-verification and the last decision; ``counts``: how many of each status."""
    query = select(Company).where(Company.review_status.is_not(None))
    if status != "all":
        query = query.where(Company.review_status == status)
    rows, following = keyset_page(session, query, keys=(Company.created_at, Company.id), limit=limit, cursor=cursor)
    decisions = _last_decisions(session, [c.id for c in rows])
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(dict(session.execute(select(Company.review_status, func.count()).where(
        Company.review_status.is_not(None)).group_by(Company.review_status)).all()))
    return {"items": [_shape(session, c, decisions.get(c.id)) for c in rows], "counts": counts,
            "next_cursor": following}


def decide(uow: UnitOfWork, who: Principal, company_id: uuid.UUID, decision: str, reason: str | None) -> dict:
    """Accept (the company becomes verified) or reject (it stays unverified, no longer re-verified) a pending
    manual entry; a rejection needs its reason. Audited in the same transaction."""
    require_admin(who)
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise Problem(status=422, code="reason_required", detail="Indiquez le motif du refus.",
                      errors=[FieldError("reason", "Indiquez le motif du refus : il est conservé au journal.")])
    with uow:
        answer = _decide(uow.session, who, company_id, decision, reason)
        uow.commit()
    return answer


def _decide(session: Session, who: Principal, company_id: uuid.UUID, decision: str, reason: str) -> dict:
    company = session.get(Company, company_id)
    if company is None or company.review_status is None:
        raise Problem(status=404, code="manual_company_not_found",
                      detail="Aucune entreprise saisie à la main ne correspond.")
    if company.review_status != "pending":
        raise Problem(status=409, code="review_not_pending", detail={
            "insee": "L'INSEE a confirmé cette entreprise entre-temps : aucune décision n'est plus nécessaire.",
            "accepted": "Cette entreprise a déjà été validée.",
            "rejected": "Cette entreprise a déjà été refusée."}[company.review_status])
    if decision == "accept":
        company.review_status, company.verified = "accepted", True
        session.flush()
        events.company_updated(session, company, ["verified"])
    else:
        company.review_status = "rejected"
    entry = AuditEntry(actor_id=who.sub, actor_name=who.name, actor_email=who.email,
                       action="company.accepted" if decision == "accept" else "company.rejected",
                       company_id=company.id, company_name=company.name, siren=company.siren,
                       detail={"reason": reason or None,
                               "reverification": company.reverify_outcome})
    session.add(entry)
    session.flush()
    return _shape(session, company, entry)


def audit_log(session: Session, *, company_id: uuid.UUID | None = None, limit: int = 50,
              cursor: str | None = None) -> dict:
    query = select(AuditEntry)
    if company_id is not None:
        query = query.where(AuditEntry.company_id == company_id)
    rows, following = keyset_page(session, query, keys=(AuditEntry.at, AuditEntry.id), limit=limit, cursor=cursor,
                                  descending=True)
    return {"items": [{"id": str(r.id), "at": iso(r.at), "actor": _actor(r), "action": r.action,
                       "company_id": str(r.company_id) if r.company_id else None, "company_name": r.company_name,
                       "siren": r.siren, "detail": r.detail or {}} for r in rows],
            "next_cursor": following}

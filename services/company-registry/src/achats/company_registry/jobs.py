"""The worker's periodic jobs: re-verify manual entries against INSEE, announce expiring documents."""

from __future__ import annotations

import structlog

from achats.chassis import clock
from achats.chassis.app import Runtime

from . import companies, reviews, vault
from .insee import InseeClient, InseeNotDiffusible, InseeNotFound, InseeUnavailable
from .sirene import from_search_answer

log = structlog.get_logger(__name__)


def reverify(runtime: Runtime) -> int:
    """Check a few pending manual companies against INSEE; stop at the first sign it is down. Each attempt's
    outcome is kept on the company (reviews.record_attempt) for the administrators' list."""
    insee: InseeClient = runtime.deps.insee
    settings = runtime.settings
    with runtime.db.session() as session:
        pending = [(c.id, c.siren) for c in companies.unverified(session, settings.reverify_batch)]
    verified = 0
    for company_id, siren in pending:
        try:
            data = from_search_answer(insee.establishments_of(siren), siren)
        except InseeUnavailable:
            _record(runtime, company_id, "unavailable", reviews.UNAVAILABLE, checked=False)
            return verified
        except (InseeNotFound, InseeNotDiffusible) as exc:
            detail = reviews.UNKNOWN if isinstance(exc, InseeNotFound) else reviews.NOT_DIFFUSIBLE
            _record(runtime, company_id, "disagrees", detail, checked=True)
            continue
        with runtime.db.unit_of_work() as uow:
            company = uow.session.get(companies.Company, company_id)
            if company is not None and data["establishments"]:
                companies.apply_insee(uow.session, company, data)
                reviews.record_attempt(uow.session, company, "matches", reviews.MATCHES)
                uow.commit()
                verified += 1
            elif company is not None:
                company.insee_checked_at = clock.now()
                reviews.record_attempt(uow.session, company, "disagrees", reviews.NO_ESTABLISHMENT)
                uow.commit()
    if verified:
        log.info("registry.reverified", count=verified)
    return verified


def _record(runtime: Runtime, company_id, outcome: str, detail: str, *, checked: bool) -> None:
    with runtime.db.unit_of_work() as uow:
        company = uow.session.get(companies.Company, company_id)
        if company is not None:
            if checked:
                company.insee_checked_at = clock.now()
            reviews.record_attempt(uow.session, company, outcome, detail)
            uow.commit()


def notify_expiring(runtime: Runtime) -> int:
    with runtime.db.unit_of_work() as uow:
        count = vault.notify_expiring(uow.session, today=vault.today(),
                                      notice_days=runtime.settings.expiry_notice_days)
        uow.commit()
    return count

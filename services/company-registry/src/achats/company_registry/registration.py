"""A company's use cases: identity's registration (``POST /registry/companies``), the refresh from INSEE, its
administrator's changes, and its deletion. Each takes the unit of work, the caller and plain values, and commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from achats.chassis.db import UnitOfWork
from achats.chassis.problems import Problem
from achats.chassis.security import Principal

from . import companies
from .access import can_administer
from .identifiers import compact
from .insee import InseeClient
from .lookup import lookup
from .models import Company, Establishment


@dataclass(frozen=True)
class Registered:
    company: Company
    establishment: Establishment | None
    company_created: bool
    establishment_created: bool
    establishment_count: int  # the company's, for the answer (shaped once the unit of work has closed)

    @property
    def created(self) -> bool:
        return self.company_created or self.establishment_created


def register(uow: UnitOfWork, insee: InseeClient, *, who: Principal, company_in: dict,
             establishment_in: dict | None) -> Registered:
    """Create the company and establishment of a registration, or return those that exist (identity calls it
    for each new user of a company). Only the platform registers (its services, its administrators); INSEE is
    asked only for what is to be created from its data, outside any transaction; two registrations racing to
    create the same company or establishment: the second finds and returns it."""
    if not who.has_role("service", "platform_admin"):
        raise Problem(status=403, code="forbidden", detail="Seule la plateforme peut inscrire une entreprise.")
    company_in = with_siren_of_siret(company_in, establishment_in)
    with uow:
        number = insee_number(uow.session, company_in, establishment_in)
    insee_data = lookup(insee, number) if number else None
    for attempt in (1, 2):
        try:
            with uow:
                company, establishment, company_created, establishment_created = companies.create_or_return(
                    uow.session, company_in=company_in, establishment_in=establishment_in, insee_data=insee_data,
                    own=True)
                count = companies.count_establishments(uow.session, company)
                uow.commit()
            return Registered(company, establishment, company_created, establishment_created, count)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # the second attempt returns or raises


@dataclass(frozen=True)
class Refreshed:
    company: Company
    changes: list[str]
    establishment_count: int


def refresh_from_insee(uow: UnitOfWork, insee: InseeClient, *, who: Principal, company_id: uuid.UUID) -> Refreshed:
    """« Mettre à jour depuis l'INSEE »: the company's data read again from INSEE (not from the cache), applied,
    and what changed. A foreign company is not in INSEE's directory: 409."""
    can_administer(who, company_id)
    with uow:
        siren = companies.get(uow.session, company_id).siren
    if siren is None:
        raise Problem(status=409, code="not_in_insee",
                      detail="Cette entreprise étrangère n'est pas inscrite au répertoire de l'INSEE.")
    insee.forget(f"siren:{siren}")
    insee_data = lookup(insee, siren)
    with uow:
        company = companies.get(uow.session, company_id)
        changes = companies.apply_insee(uow.session, company, insee_data)
        count = companies.count_establishments(uow.session, company)
        uow.commit()
    return Refreshed(company, changes, count)


def change(uow: UnitOfWork, *, who: Principal, company_id: uuid.UUID, changes: dict) -> tuple[Company, int]:
    """« Mon entreprise » changed by its administrator (INSEE's data stays read-only once verified); the company
    and its number of establishments, for the answer."""
    can_administer(who, company_id)
    with uow:
        company = companies.get(uow.session, company_id)
        companies.update(uow.session, company, changes)
        count = companies.count_establishments(uow.session, company)
        uow.commit()
    return company, count


def delete(uow: UnitOfWork, *, who: Principal, company_id: uuid.UUID, deleted_by: dict) -> None:
    """The company and everything it holds, gone (its deletion announced to the other services)."""
    can_administer(who, company_id)
    with uow:
        companies.delete(uow.session, companies.get(uow.session, company_id), deleted_by)
        uow.commit()


def with_siren_of_siret(company_in: dict, establishment_in: dict | None) -> dict:
    """A French company given by its establishment's SIRET alone: its SIREN is the SIRET's first nine digits."""
    siret = (establishment_in or {}).get("siret")
    if company_in["source"] != "foreign" and not company_in.get("siren") and siret:
        return {**company_in, "siren": compact(siret)[:9]}
    return company_in


def insee_number(session: Session, company_in: dict, establishment_in: dict | None) -> str | None:
    """The number to look up at INSEE, or None when nothing is to be created from INSEE data (a foreign company,
    or a company and establishment the registry already has)."""
    if company_in["source"] == "foreign":
        return None
    siren = compact(company_in.get("siren") or "")
    siret = compact((establishment_in or {}).get("siret") or "")
    existing = companies.get_by_siren(session, siren) if siren else None
    wants_insee_company = company_in["source"] == "insee" and existing is None
    wants_insee_establishment = (bool(establishment_in) and establishment_in.get("source", "insee") == "insee"
                                 and (not siret or companies.get_by_siret(session, siret) is None))
    if not (wants_insee_company or wants_insee_establishment):
        return None
    return siret or siren or None

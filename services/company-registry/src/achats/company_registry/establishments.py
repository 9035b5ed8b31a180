"""A company's establishments: the use cases behind ``/registry/companies/{id}/establishments`` — add one, change a
manual one, replace one whose SIRET changed. Each takes the unit of work, the caller and plain values, checks the
caller's right, asks INSEE (between two transactions, none held open) only for an establishment to be created from
its data, and commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from achats.chassis.db import UnitOfWork
from achats.chassis.security import Principal

from . import companies
from .access import can_use
from .identifiers import compact
from .insee import InseeClient
from .lookup import NOT_SELECTABLE, lookup
from .models import Establishment


@dataclass(frozen=True)
class Added:
    establishment: Establishment
    created: bool  # False: the company had it already, returned as it is
    warnings: list[dict] = field(default_factory=list)  # a closed establishment: added, with a word


def add(uow: UnitOfWork, insee: InseeClient, *, who: Principal, company_id: uuid.UUID, establishment_in: dict) -> Added:
    """« + Ajouter un établissement ». A foreign company's establishments are foreign whatever the request says; a
    closed establishment is added all the same (the company's history), with a warning."""
    can_use(who, company_id)
    with uow:
        company = companies.get(uow.session, company_id)
        if company.source == "foreign":
            establishment_in = {**establishment_in, "source": "foreign"}
        number = _insee_number(uow.session, establishment_in)
    insee_data = lookup(insee, number) if number else None
    with uow:
        company = companies.get(uow.session, company_id)
        _, establishment, _, created = companies.create_or_return(
            uow.session, company_in=_identity(company), establishment_in=establishment_in, insee_data=insee_data,
            establishment_prefix="")
        uow.commit()
    warnings = []
    if insee_data is not None and not establishment.active:
        closed_since = next((e["closed_since"] for e in insee_data["establishments"]
                             if e["siret"] == establishment.siret), None)
        warnings.append({"code": "establishment_closed", "siret": establishment.siret,
                         "message": f"{companies.closed_text(establishment.siret, closed_since)} {NOT_SELECTABLE}"})
    return Added(establishment, created, warnings)


def change(uow: UnitOfWork, *, who: Principal, company_id: uuid.UUID, establishment_id: uuid.UUID,
           changes: dict) -> Establishment:
    """A manual establishment's address or name corrected (INSEE's are read-only)."""
    can_use(who, company_id)
    with uow:
        company = companies.get(uow.session, company_id)
        establishment = companies.get_establishment(uow.session, company, establishment_id)
        companies.update_establishment(uow.session, establishment, changes)
        uow.commit()
    return establishment


def replace(uow: UnitOfWork, insee: InseeClient, *, who: Principal, company_id: uuid.UUID,
            establishment_id: uuid.UUID, new_in: dict) -> Establishment:
    """A SIRET that changed (FAQ): the new establishment, the old one closed and pointing to it."""
    can_use(who, company_id)
    with uow:
        number = _insee_number(uow.session, new_in)
    insee_data = lookup(insee, number) if number else None
    with uow:
        company = companies.get(uow.session, company_id)
        old = companies.get_establishment(uow.session, company, establishment_id)
        new = companies.replace_establishment(uow.session, company, old, new_in, insee_data)
        uow.commit()
    return new


def _insee_number(session: Session, establishment_in: dict) -> str | None:
    """The SIRET to ask INSEE about, for an establishment to be created from its data; None when it is typed by
    hand or the registry has it already."""
    if establishment_in.get("source", "insee") != "insee" or not establishment_in.get("siret"):
        return None
    siret = compact(establishment_in["siret"])
    return None if companies.get_by_siret(session, siret) is not None else siret


def _identity(company) -> dict:
    if company.source == "foreign":
        return {"source": "foreign", "country_code": company.country_code, "national_id": company.national_id}
    return {"source": company.source, "siren": company.siren}

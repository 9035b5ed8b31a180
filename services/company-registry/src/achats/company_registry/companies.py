"""Companies and their establishments: create-or-return, read, update, refresh from INSEE, delete."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from achats.chassis import clock
from achats.chassis.problems import FieldError, Problem

from . import events, reference
from .identifiers import french_vat, kind_of, require_siret, valid_vat
from .models import Company, Establishment
from .reference import legal_form_label, naf_label

COMPANY_FROM_INSEE = ("name", "sigle", "naf_code", "naf_label", "legal_form_code", "legal_form_label", "category",
                      "workforce_range", "active", "hidden_fields")
ESTABLISHMENT_FROM_INSEE = ("name", "street", "complement", "postal_code", "city", "country_code", "country",
                            "naf_code", "workforce_range", "active", "hidden_fields", "is_head_office")
# What a company administrator may always change; INSEE data is read-only once verified.
COMPANY_EDITABLE = {"is_pme", "phone", "email", "website"}
COMPANY_EDITABLE_UNVERIFIED = COMPANY_EDITABLE | {"name", "sigle", "naf_code", "legal_form_code"}
ESTABLISHMENT_EDITABLE = {"name", "street", "complement", "postal_code", "city"}

READ_ONLY_COMPANY = ("Les informations de l'entreprise issues de l'INSEE ne sont pas modifiables. Utilisez "
                     "« Mettre à jour depuis l'INSEE » pour reprendre les données du répertoire.")
LEGAL_FORM_EXPECTED = ("Saisissez son abréviation usuelle (SARL, SAS, SA, EURL, EI…), son libellé INSEE "
                       "(« Société à responsabilité limitée ») ou son code INSEE à 4 chiffres (5499).")
NAF_EXPECTED = ("Saisissez le code de la nomenclature NAF rév. 2, avec ou sans point (82.99Z, 8299Z ou 8299 "
                "s'il n'a qu'une sous-classe), ou son libellé INSEE.")
NOT_OWN_ESTABLISHMENT = ("Il ne peut pas être votre établissement de rattachement : choisissez un établissement en "
                         "activité de votre entreprise ou, si votre numéro SIRET a changé, saisissez le nouveau.")
READ_ONLY_ESTABLISHMENT = ("Les données de cet établissement proviennent de l'INSEE et ne sont pas modifiables. "
                           "Utilisez « Mettre à jour depuis l'INSEE » pour les actualiser ; si votre numéro SIRET "
                           "a changé, remplacez l'établissement.")


# --- reads --------------------------------------------------------------------------------------

def get(session: Session, company_id: uuid.UUID) -> Company:
    company = session.get(Company, company_id)
    if company is None:
        raise Problem(status=404, code="company_not_found", detail="Cette entreprise n'existe pas.")
    return company


def get_by_siren(session: Session, siren: str) -> Company | None:
    return session.execute(select(Company).where(Company.siren == siren)).scalar_one_or_none()


def get_foreign(session: Session, country_code: str, national_id: str) -> Company | None:
    return session.execute(select(Company).where(Company.country_code == country_code,
                                                 Company.national_id == national_id)).scalar_one_or_none()


def get_by_siret(session: Session, siret: str) -> Establishment | None:
    return session.execute(select(Establishment).where(Establishment.siret == siret)).scalar_one_or_none()


def get_establishment(session: Session, company: Company, establishment_id: uuid.UUID) -> Establishment:
    establishment = session.get(Establishment, establishment_id)
    if establishment is None or establishment.company_id != company.id:
        raise Problem(status=404, code="establishment_not_found", detail="Cet établissement n'existe pas.")
    return establishment


def establishments(session: Session, company: Company) -> list[Establishment]:
    return list(session.execute(select(Establishment).where(Establishment.company_id == company.id)
                                .order_by(Establishment.is_head_office.desc(), Establishment.created_at)).scalars())


def count_establishments(session: Session, company: Company) -> int:
    return session.execute(select(func.count()).select_from(Establishment)
                           .where(Establishment.company_id == company.id)).scalar_one()


# --- nomenclatures and closed establishments -----------------------------------------------------

def legal_form_code(value: str | None, field: str) -> str | None:
    """The INSEE code of the legal form a person typed (« SARL », a label, a code), or a 422 saying what is expected."""
    if value in (None, ""):
        return None
    try:
        return reference.legal_form_code(value)
    except reference.Unresolved as exc:
        message = (f"Plusieurs formes juridiques correspondent : {_listed(exc.candidates)}. Précisez-la ou "
                   f"saisissez son code." if exc.candidates else f"Forme juridique inconnue. {LEGAL_FORM_EXPECTED}")
        raise Problem(status=422, code="legal_form_unknown",
                      detail=f"La forme juridique « {value} » n'est pas reconnue.",
                      errors=[FieldError(field, message)]) from None


def naf_code(value: str | None, field: str, *, nace_class: bool = False) -> str | None:
    """The NAF rév. 2 code a person typed (« 8299 », « 82.99z »), or a 422 saying what is expected."""
    if value in (None, ""):
        return None
    try:
        return reference.naf_code(value, nace_class=nace_class)
    except reference.Unresolved as exc:
        message = (f"Plusieurs sous-classes correspondent : {_listed(exc.candidates)}. Précisez la lettre."
                   if exc.candidates else f"Code APE / NAF inconnu. {NAF_EXPECTED}")
        raise Problem(status=422, code="naf_unknown", detail=f"Le code APE / NAF « {value} » n'est pas reconnu.",
                      errors=[FieldError(field, message)]) from None


def _listed(entries: list[reference.Entry], at_most: int = 5) -> str:
    listed = " ; ".join(f"{e.code} ({e.label})" for e in entries[:at_most])
    return listed + (" ; …" if len(entries) > at_most else "")


def closed_text(siret: str | None, closed_since: str | None, *, per_insee: bool = True) -> str:
    """« L'établissement … est fermé selon l'INSEE depuis le 30/06/2021. »"""
    source = " selon l'INSEE" if per_insee else ""
    since = " depuis le " + "/".join(reversed(closed_since.split("-"))) if closed_since else ""
    return f"L'établissement {siret} est fermé{source}{since}."


def _refuse_closed(siret: str | None, closed_since: str | None, field: str, *, per_insee: bool = True) -> None:
    raise Problem(status=422, code="establishment_closed",
                  detail=f"{closed_text(siret, closed_since, per_insee=per_insee)} {NOT_OWN_ESTABLISHMENT}",
                  errors=[FieldError(field, "Établissement fermé.")])


# --- creation -----------------------------------------------------------------------------------

def create_or_return(session: Session, *, company_in: dict, establishment_in: dict | None,
                     insee_data: dict | None, own: bool = False,
                     establishment_prefix: str = "establishment") -> tuple[Company, Establishment | None, bool, bool]:
    """The company (by SIREN, or country + national id) and the establishment (by SIRET), created
    if they do not exist. ``insee_data`` is the lookup result when INSEE answered (source insee).
    ``own``: the establishment becomes the registering user's own, so a closed one is refused (as
    is a ceased company registered without one). Field errors name the establishment's fields under
    ``establishment_prefix`` (empty: the establishment is the whole request body)."""
    if own and establishment_in is None and insee_data and not insee_data["company"]["active"]:
        raise Problem(status=422, code="company_ceased",
                      detail="Cette entreprise est cessée selon l'INSEE : elle ne peut pas être inscrite.",
                      errors=[FieldError("company.siren", "Entreprise cessée selon l'INSEE.")])
    company, company_created = _company(session, company_in, insee_data)
    establishment, establishment_created = None, False
    if establishment_in is not None:
        establishment, establishment_created = _establishment(session, company, establishment_in, insee_data,
                                                              own=own, prefix=establishment_prefix)
    return company, establishment, company_created, establishment_created


def _company(session: Session, company_in: dict, insee_data: dict | None) -> tuple[Company, bool]:
    source = company_in["source"]
    if source == "foreign":
        country, national_id = company_in["country_code"].upper(), company_in["national_id"].strip()
        if country == "FR":
            raise Problem(status=422, code="foreign_company_invalid",
                          detail="Une entreprise française s'inscrit avec son numéro SIREN ou SIRET.",
                          errors=[FieldError("company.country_code", "Pays étranger attendu.")])
        naf = naf_code(company_in.get("naf_code"), "company.naf_code", nace_class=True)
        vat = company_in.get("vat_number")
        if vat and not valid_vat(vat):
            raise Problem(status=422, code="vat_invalid",
                          detail="Ce numéro de TVA intracommunautaire n'est pas valide.",
                          errors=[FieldError("company.vat_number", "Numéro de TVA invalide.")])
        existing = get_foreign(session, country, national_id)
        if existing is not None:
            return existing, False
        company = Company(source="foreign", verified=False, country_code=country, national_id=national_id,
                          vat_number=vat, name=_required(company_in, "name", "company"),
                          naf_code=naf, naf_label=naf_label(naf), is_pme=company_in.get("is_pme"),
                          phone=company_in.get("phone"), email=company_in.get("email"))
    else:
        siren = _siren_of(company_in)
        existing = get_by_siren(session, siren)
        if existing is not None:
            return existing, False
        if source == "insee":
            if insee_data is None:
                raise Problem(status=422, code="insee_data_missing", detail="Les données de l'INSEE sont requises.")
            data = insee_data["company"]
            company = Company(source="insee", verified=True, siren=siren, country_code="FR",
                              vat_number=data["vat_number"], insee_checked_at=clock.now(),
                              **{k: data[k] for k in COMPANY_FROM_INSEE})
            company.is_pme = company_in.get("is_pme", data["is_pme"])
            if not company.name:
                # Hidden by INSEE ([ND]): the user had to type it.
                company.name = _required(company_in, "name", "company")
        else:
            naf = naf_code(company_in.get("naf_code"), "company.naf_code")
            legal = legal_form_code(company_in.get("legal_form_code"), "company.legal_form_code")
            company = Company(source="manual", verified=False, siren=siren, country_code="FR",
                              vat_number=french_vat(siren), name=_required(company_in, "name", "company"),
                              sigle=company_in.get("sigle"), naf_code=naf, naf_label=naf_label(naf),
                              legal_form_code=legal, legal_form_label=legal_form_label(legal),
                              is_pme=company_in.get("is_pme"), review_status="pending")
        company.phone, company.email = company_in.get("phone"), company_in.get("email")
    session.add(company)
    session.flush()
    events.company_created(session, company)
    return company, True


def _siren_of(company_in: dict) -> str:
    siren = (company_in.get("siren") or "").strip()
    if kind_of(siren, "company.siren") != "siren":
        raise Problem(status=422, code="siren_invalid", detail="Un numéro SIREN (9 chiffres) est attendu.",
                      errors=[FieldError("company.siren", "Numéro SIREN attendu.")])
    return siren


def _required(data: dict, key: str, prefix: str) -> Any:
    value = data.get(key)
    if value in (None, ""):
        raise Problem(status=400, code="validation_failed",
                      detail="Certaines données sont invalides. Corrigez les champs signalés.",
                      errors=[FieldError(f"{prefix}.{key}" if prefix else key, "Ce champ est obligatoire.")])
    return value


def _establishment(session: Session, company: Company, establishment_in: dict,
                   insee_data: dict | None, *, own: bool = False,
                   prefix: str = "establishment") -> tuple[Establishment, bool]:
    siret_field = f"{prefix}.siret" if prefix else "siret"
    source = establishment_in.get("source", "insee")
    siret = establishment_in.get("siret")
    if company.source == "foreign":
        source, siret = "foreign", None
    if siret:
        siret = require_siret(siret, siret_field)
        if company.siren and siret[:9] != company.siren:
            raise Problem(status=422, code="siret_mismatch",
                          detail="Ce SIRET n'appartient pas à l'entreprise (son SIREN est différent).",
                          errors=[FieldError(siret_field, "SIRET d'une autre entreprise.")])
        existing = get_by_siret(session, siret)
        if existing is not None:
            if own and not existing.active:
                _refuse_closed(siret, None, siret_field, per_insee=False)
            return existing, False
    elif source != "foreign":
        raise Problem(status=400, code="validation_failed",
                      detail="Certaines données sont invalides. Corrigez les champs signalés.",
                      errors=[FieldError(siret_field, "Ce champ est obligatoire.")])
    if source == "insee":
        data = _insee_establishment(insee_data, siret)
        if own and not data["active"]:
            _refuse_closed(siret, data.get("closed_since"), siret_field)
        establishment = Establishment(company_id=company.id, siret=siret, source="insee", verified=True,
                                      insee_checked_at=clock.now(), **{k: data[k] for k in ESTABLISHMENT_FROM_INSEE})
        for key in ("street", "postal_code", "city"):
            if getattr(establishment, key) is None and establishment_in.get(key):
                setattr(establishment, key, establishment_in[key])  # hidden by INSEE, typed by the user
    else:
        establishment = Establishment(
            company_id=company.id, siret=siret, source=source, verified=False,
            is_head_office=bool(establishment_in.get("is_head_office")), name=establishment_in.get("name"),
            street=_required(establishment_in, "street", prefix),
            complement=establishment_in.get("complement"),
            postal_code=_required(establishment_in, "postal_code", prefix),
            city=_required(establishment_in, "city", prefix),
            country_code=(establishment_in.get("country_code") or company.country_code).upper(),
            country=establishment_in.get("country"))
    session.add(establishment)
    session.flush()
    events.establishment_added(session, establishment)
    return establishment, True


def _insee_establishment(insee_data: dict | None, siret: str) -> dict:
    for candidate in (insee_data or {}).get("establishments", []):
        if candidate["siret"] == siret:
            return candidate
    raise Problem(status=404, code="establishment_unknown",
                  detail="Aucun établissement ne correspond à ce SIRET dans le répertoire de l'INSEE.")


# --- changes ------------------------------------------------------------------------------------

def update(session: Session, company: Company, changes: dict) -> list[str]:
    allowed = COMPANY_EDITABLE if company.verified else COMPANY_EDITABLE_UNVERIFIED
    refused = sorted(set(changes) - allowed)
    if refused:
        raise Problem(status=409, code="company_read_only", detail=READ_ONLY_COMPANY,
                      errors=[FieldError(name, "Donnée issue de l'INSEE, non modifiable.") for name in refused])
    changes = dict(changes)
    if "naf_code" in changes:
        changes["naf_code"] = naf_code(changes["naf_code"], "naf_code", nace_class=company.source == "foreign")
    if "legal_form_code" in changes:
        changes["legal_form_code"] = legal_form_code(changes["legal_form_code"], "legal_form_code")
    changed = [key for key, value in changes.items() if getattr(company, key) != value]
    for key in changed:
        setattr(company, key, changes[key])
    if "naf_code" in changed:
        company.naf_label = naf_label(company.naf_code)
    if "legal_form_code" in changed:
        company.legal_form_label = legal_form_label(company.legal_form_code)
    if changed:
        session.flush()
        events.company_updated(session, company, changed)
    return changed


def apply_insee(session: Session, company: Company, insee_data: dict) -> list[str]:
    """Take INSEE's current data (« Mettre à jour depuis l'INSEE », or the re-verification of a manual
    entry): names, codes, and the state of every establishment it knows."""
    data = insee_data["company"]
    changed = [key for key in COMPANY_FROM_INSEE if key != "name" or data["name"]
               if getattr(company, key) != data[key]]
    for key in changed:
        setattr(company, key, data[key])
    if not company.verified or company.source != "insee":
        company.verified, company.source = True, "insee"
        changed.append("verified")
    if company.review_status == "pending":
        company.review_status = "insee"  # INSEE confirmed it: no administrator's decision is needed
    company.insee_checked_at = clock.now()
    by_siret = {e["siret"]: e for e in insee_data["establishments"]}
    for establishment in establishments(session, company):
        fresh = by_siret.get(establishment.siret or "")
        if fresh is None:
            continue
        before = {key: getattr(establishment, key) for key in ESTABLISHMENT_FROM_INSEE}
        for key in ESTABLISHMENT_FROM_INSEE:
            if fresh[key] is not None or key in ("active", "hidden_fields"):
                setattr(establishment, key, fresh[key])
        establishment.source, establishment.verified, establishment.insee_checked_at = "insee", True, clock.now()
        if before != {key: getattr(establishment, key) for key in ESTABLISHMENT_FROM_INSEE}:
            changed.append(f"establishment:{establishment.siret}")
    session.flush()
    if changed:
        events.company_updated(session, company, changed)
    return changed


def update_establishment(session: Session, establishment: Establishment, changes: dict) -> list[str]:
    if establishment.verified or establishment.source == "insee":
        raise Problem(status=409, code="establishment_read_only", detail=READ_ONLY_ESTABLISHMENT)
    refused = sorted(set(changes) - ESTABLISHMENT_EDITABLE)
    if refused:
        raise Problem(status=409, code="establishment_read_only", detail=READ_ONLY_ESTABLISHMENT,
                      errors=[FieldError(name, "Donnée non modifiable.") for name in refused])
    changed = [key for key, value in changes.items() if getattr(establishment, key) != value]
    for key in changed:
        setattr(establishment, key, changes[key])
    session.flush()
    return changed


def replace_establishment(session: Session, company: Company, old: Establishment, new_in: dict,
                          insee_data: dict | None) -> Establishment:
    """A SIRET that changed (FAQ): a new establishment, the old one closed and pointing to it."""
    if old.replaced_by_id is not None:
        raise Problem(status=409, code="establishment_already_replaced",
                      detail="Cet établissement a déjà été remplacé.")
    new_siret = require_siret(new_in.get("siret") or "", "siret")
    if new_siret == old.siret:
        raise Problem(status=422, code="siret_unchanged", detail="Le nouveau SIRET est identique à l'actuel.",
                      errors=[FieldError("siret", "SIRET identique.")])
    # The users of the old establishment move to the new one: it becomes their own.
    new, _created = _establishment(session, company, new_in, insee_data, own=True, prefix="")
    old.active, old.replaced_by_id = False, new.id
    session.flush()
    events.establishment_replaced(session, old, new)
    return new


def delete(session: Session, company: Company, deleted_by: dict) -> None:
    events.company_deleted(session, company, deleted_by)
    session.delete(company)
    session.flush()


def unverified(session: Session, limit: int) -> list[Company]:
    """Manual entries to check against INSEE (those an administrator rejected no longer), the least recently
    checked first."""
    return list(session.execute(
        select(Company).where(Company.source == "manual", Company.verified.is_(False),
                              Company.review_status == "pending")
        .order_by(Company.insee_checked_at.is_not(None), Company.insee_checked_at, Company.created_at)
        .limit(limit)).scalars())

"""From INSEE's Sirene 3.11 JSON to the registry's company and establishment, hidden fields flagged."""

from __future__ import annotations

from typing import Any

from .identifiers import french_vat
from .reference import legal_form_label, naf_label, workforce_label

HIDDEN = "[ND]"

# The street types INSEE abbreviates (typeVoie), spelled out for people.
STREET_TYPES = {
    "ALL": "ALLÉE", "AV": "AVENUE", "BD": "BOULEVARD", "CAR": "CARREFOUR", "CHE": "CHEMIN", "CHS": "CHAUSSÉE",
    "CITE": "CITÉ", "COR": "CORNICHE", "CRS": "COURS", "DOM": "DOMAINE", "DSC": "DESCENTE", "ECA": "ÉCART",
    "ESP": "ESPLANADE", "FG": "FAUBOURG", "GR": "GRANDE RUE", "HAM": "HAMEAU", "HLE": "HALLE", "IMP": "IMPASSE",
    "LD": "LIEU-DIT", "LOT": "LOTISSEMENT", "MAR": "MARCHÉ", "MTE": "MONTÉE", "PAS": "PASSAGE", "PL": "PLACE",
    "PLN": "PLAINE", "PLT": "PLATEAU", "PRO": "PROMENADE", "PRV": "PARVIS", "QUA": "QUARTIER", "QUAI": "QUAI",
    "RES": "RÉSIDENCE", "RLE": "RUELLE", "ROC": "ROCADE", "RPT": "ROND-POINT", "RTE": "ROUTE", "RUE": "RUE",
    "SEN": "SENTIER", "SQ": "SQUARE", "TPL": "TERRE-PLEIN", "TRA": "TRAVERSE", "VLA": "VILLA", "VLGE": "VILLAGE",
}


def _value(source: dict, key: str, hidden: list[str], name: str) -> Any:
    value = source.get(key)
    if value == HIDDEN:
        if name not in hidden:
            hidden.append(name)
        return None
    return value


def _current(periods: list[dict] | None) -> dict:
    for period in periods or []:
        if period.get("dateFin") is None:
            return period
    return (periods or [{}])[0]


def company_from_unit(unit: dict, siren: str) -> dict:
    """The company of a ``uniteLegale`` (embedded in /siret answers, or from /siren)."""
    hidden: list[str] = []
    current = _current(unit.get("periodesUniteLegale"))

    def pick(key: str, name: str) -> Any:
        return _value(unit, key, hidden, name) if key in unit else _value(current, key, hidden, name)

    name = pick("denominationUniteLegale", "name")
    if not name and "name" not in hidden:
        # Sole traders have no denomination: first name + name.
        first, last = pick("prenom1UniteLegale", "name"), pick("nomUniteLegale", "name")
        name = " ".join(part for part in (first, last) if part) or None
    naf = pick("activitePrincipaleUniteLegale", "naf_code")
    nomenclature = pick("nomenclatureActivitePrincipaleUniteLegale", "naf_code")
    legal_form = pick("categorieJuridiqueUniteLegale", "legal_form_code")
    category = unit.get("categorieEntreprise")
    workforce = pick("trancheEffectifsUniteLegale", "workforce_range")
    state = pick("etatAdministratifUniteLegale", "active")
    return {
        "siren": siren,
        "name": name,
        "sigle": pick("sigleUniteLegale", "sigle"),
        "naf_code": naf,
        "naf_label": naf_label(naf) if nomenclature in (None, "NAFRev2") else None,
        "legal_form_code": legal_form,
        "legal_form_label": legal_form_label(legal_form),
        "category": category,
        "is_pme": category == "PME" if category else None,
        "workforce_range": workforce,
        "workforce_label": workforce_label(workforce),
        "active": state != "C",
        "vat_number": french_vat(siren),
        "hidden_fields": hidden,
    }


def establishment_from(etab: dict) -> dict:
    hidden: list[str] = []
    address = etab.get("adresseEtablissement") or {}
    current = _current(etab.get("periodesEtablissement"))

    def pick(source: dict, key: str, name: str) -> Any:
        return _value(source, key, hidden, name)

    number = pick(address, "numeroVoieEtablissement", "street")
    repetition = pick(address, "indiceRepetitionEtablissement", "street")
    street_type = pick(address, "typeVoieEtablissement", "street")
    street_name = pick(address, "libelleVoieEtablissement", "street")
    street = " ".join(str(p) for p in (number, repetition, STREET_TYPES.get(street_type or "", street_type),
                                        street_name) if p) or None
    foreign_country = pick(address, "libellePaysEtrangerEtablissement", "country")
    signboard = pick(current, "enseigne1Etablissement", "name") or pick(current, "denominationUsuelleEtablissement",
                                                                         "name")
    return {
        "siret": etab.get("siret"),
        "nic": etab.get("nic"),
        "is_head_office": bool(etab.get("etablissementSiege")),
        "name": signboard,
        "street": street,
        "complement": pick(address, "complementAdresseEtablissement", "complement"),
        "postal_code": pick(address, "codePostalEtablissement", "postal_code"),
        "city": pick(address, "libelleCommuneEtablissement", "city") or pick(
            address, "libelleCommuneEtrangerEtablissement", "city"),
        "country_code": "FR" if not foreign_country else (address.get("codePaysEtrangerEtablissement") or "XX"),
        "country": foreign_country or "France",
        "naf_code": pick(current, "activitePrincipaleEtablissement", "naf_code"),
        "workforce_range": pick(etab, "trancheEffectifsEtablissement", "workforce_range"),
        "active": current.get("etatAdministratifEtablissement", "A") != "F",
        # The current period of a closed establishment starts on the day it closed.
        "closed_since": current.get("dateDebut") if current.get("etatAdministratifEtablissement") == "F" else None,
        "hidden_fields": hidden,
    }


def from_siret_answer(body: dict) -> dict:
    etab = body.get("etablissement") or {}
    return {"company": company_from_unit(etab.get("uniteLegale") or {}, etab.get("siren", "")),
            "establishments": [establishment_from(etab)]}


def from_search_answer(body: dict, siren: str) -> dict:
    etabs = body.get("etablissements") or []
    unit = (etabs[0].get("uniteLegale") if etabs else None) or {}
    establishments = [establishment_from(e) for e in etabs]
    # Head office first, then active ones, then by SIRET: the order a person expects in the list.
    establishments.sort(key=lambda e: (not e["is_head_office"], not e["active"], e["siret"] or ""))
    return {"company": company_from_unit(unit, siren), "establishments": establishments}

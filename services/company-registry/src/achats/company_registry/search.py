"""Finding a company by its name in Sirene (INSEE's multi-criteria search), for a user without the SIRET.

The query is Sirene 3.11's own syntax on ``/siret``: ``raisonSociale`` (INSEE's search field over the
names of the unit: dénomination, dénominations usuelles, nom, nom d'usage) once per word, approximate
(``~1``, one typing error) on words long enough to carry one; the head office only
(``etablissementSiege:true``), still open (``periode(etatAdministratifEtablissement:A)``: a historised
variable of establishments is searched inside ``periode()``), and the postal code or the commune if given.
"""

from __future__ import annotations

import re

from achats.chassis.problems import FieldError, Problem

from .insee import InseeClient, InseeNotDiffusible, InseeNotFound
from .lookup import asking_insee, deadline, unavailable
from .reference import STOP_WORDS, fold
from .sirene import company_from_unit, establishment_from

MAX_WORDS = 6
# A word this long may hold a typing error the search forgives; a shorter one must be exact.
APPROXIMATE_FROM = 4
POSTAL_CODE = re.compile(r"^\d{5}$")
BAD_INPUT = "Certaines données sont invalides. Corrigez les champs signalés."


def _words(text: str) -> list[str]:
    """The words of a name as Sirene indexes them (upper case, no accents), one-letter ones left out."""
    return [w.upper() for w in fold(text).split() if len(w) > 1]


def sirene_query(name: str, *, postal_code: str | None = None, city: str | None = None) -> str:
    words = _words(name)
    meaningful = [w for w in words if w.lower() not in STOP_WORDS] or words
    terms = [f"raisonSociale:{w}~1" if len(w) >= APPROXIMATE_FROM else f"raisonSociale:{w}"
             for w in meaningful[:MAX_WORDS]]
    terms += ["etablissementSiege:true", "periode(etatAdministratifEtablissement:A)"]
    if postal_code:
        terms.append(f"codePostalEtablissement:{postal_code}")
    if city:
        commune = _words(city)
        terms.append("libelleCommuneEtablissement:" + (commune[0] if len(commune) == 1 else f'"{" ".join(commune)}"'))
    return " AND ".join(terms)


def validate(q: str, postal_code: str | None, city: str | None) -> None:
    errors = []
    if not _words(q):
        errors.append(FieldError("q", "Saisissez au moins 2 lettres ou chiffres du nom de l'entreprise."))
    if postal_code is not None and not POSTAL_CODE.match(postal_code.strip()):
        errors.append(FieldError("postal_code", "Code postal : 5 chiffres attendus (ex. 75008)."))
    if city is not None and not _words(city):
        errors.append(FieldError("city", "Saisissez au moins 2 lettres du nom de la commune."))
    if errors:
        raise Problem(status=422, code="search_invalid", detail=BAD_INPUT, errors=errors)


def search(insee: InseeClient, q: str, *, postal_code: str | None = None, city: str | None = None,
           limit: int = 20) -> dict:
    """Head offices of the open companies whose name matches ``q``: what the user picks their company from."""
    validate(q, postal_code, city)
    query = sirene_query(q, postal_code=postal_code.strip() if postal_code else None, city=city)
    until = deadline(insee)

    def ask() -> dict:
        try:
            return insee.search(query, limit, until)
        except InseeNotFound:
            return {"header": {"total": 0}, "etablissements": []}
        except InseeNotDiffusible:
            # A 403 on a search is no unit's choice: the application's subscription is missing.
            raise unavailable("http_403") from None

    answer = asking_insee(ask)
    items = [_item(e) for e in answer.get("etablissements") or []]
    return {"count": len(items), "total": (answer.get("header") or {}).get("total", len(items)), "items": items}


def _item(etab: dict) -> dict:
    company = company_from_unit(etab.get("uniteLegale") or {}, etab.get("siren", ""))
    head_office = establishment_from(etab)
    return {"siren": company["siren"], "name": company["name"], "sigle": company["sigle"],
            "head_office_siret": head_office["siret"], "postal_code": head_office["postal_code"],
            "city": head_office["city"], "active": company["active"] and head_office["active"],
            "legal_form_code": company["legal_form_code"], "legal_form_label": company["legal_form_label"],
            "naf_code": company["naf_code"], "naf_label": company["naf_label"]}

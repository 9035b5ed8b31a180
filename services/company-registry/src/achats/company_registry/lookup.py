"""Lookup of a SIREN or SIRET in INSEE's registry, turned into answers (or problems) for users."""

from __future__ import annotations

from achats.chassis.problems import Problem

from .identifiers import compact, kind_of
from .insee import InseeClient, InseeNotDiffusible, InseeNotFound, InseeUnavailable
from .sirene import from_search_answer, from_siret_answer

# The exact message of the platform's guide, shown when INSEE cannot answer.
UNAVAILABLE = ("Le service est actuellement indisponible. Veuillez vérifier la validité du n° SIRET fourni par "
               "l'entreprise, et renouveler cette opération dans quelques minutes. Si le problème persiste, "
               "veuillez contacter notre service support.")
NOT_FOUND = ("Aucune entreprise ne correspond à ce numéro dans le répertoire de l'INSEE. "
             "Vérifiez le numéro saisi.")
NOT_DIFFUSIBLE = ("L'INSEE ne diffuse pas les informations de cette entreprise. "
                  "Veuillez les saisir telles qu'elles sont déclarées à l'INSEE.")


def unavailable(reason: str) -> Problem:
    return Problem(status=503, code="insee_unavailable", detail=UNAVAILABLE, headers={"Retry-After": "60"},
                   extra={"fallback": "manual", "reason": reason})


def lookup(insee: InseeClient, number: str) -> dict:
    """The company and its establishment(s) for a SIREN (all) or a SIRET (that one)."""
    number = compact(number)
    kind = kind_of(number)
    try:
        if kind == "siret":
            result = from_siret_answer(insee.siret(number))
        else:
            result = from_search_answer(insee.establishments_of(number), number)
    except InseeUnavailable as exc:
        raise unavailable(exc.reason) from None
    except InseeNotFound:
        raise Problem(status=404, code="company_unknown", detail=NOT_FOUND) from None
    except InseeNotDiffusible:
        raise Problem(status=422, code="insee_not_diffusible", detail=NOT_DIFFUSIBLE,
                      extra={"fallback": "manual"}) from None
    if not result["establishments"]:
        raise Problem(status=404, code="company_unknown", detail=NOT_FOUND)
    result["kind"] = kind
    result["count"] = len(result["establishments"])
    return result

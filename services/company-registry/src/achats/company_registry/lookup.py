"""Lookup of a SIREN or SIRET in INSEE's registry, turned into answers (or problems) for users."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from achats.chassis.context import request_started
from achats.chassis.problems import Problem

from .companies import closed_text
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
CEASED = "Cette entreprise est cessée selon l'INSEE : elle ne peut pas être inscrite."
NOT_SELECTABLE = "Il ne peut pas être choisi comme établissement de rattachement."


def unavailable(reason: str) -> Problem:
    return Problem(status=503, code="insee_unavailable", detail=UNAVAILABLE, headers={"Retry-After": "60"},
                   extra={"fallback": "manual", "reason": reason})


def deadline(insee: InseeClient) -> float:
    """When the current user action must have its answer: its budget runs from the request's arrival."""
    return insee.deadline(request_started())


def asking_insee(call: Callable[[], Any]) -> Any:
    """``call``'s answer, INSEE's failures turned into the users' problems."""
    try:
        return call()
    except InseeUnavailable as exc:
        raise unavailable(exc.reason) from None
    except InseeNotFound:
        raise Problem(status=404, code="company_unknown", detail=NOT_FOUND) from None
    except InseeNotDiffusible:
        raise Problem(status=422, code="insee_not_diffusible", detail=NOT_DIFFUSIBLE,
                      extra={"fallback": "manual"}) from None


def lookup(insee: InseeClient, number: str) -> dict:
    """The company and its establishment(s) for a SIREN (all) or a SIRET (that one)."""
    number = compact(number)
    kind = kind_of(number)
    until = deadline(insee)
    if kind == "siret":
        result = asking_insee(lambda: from_siret_answer(insee.siret(number, until)))
    else:
        result = asking_insee(lambda: from_search_answer(insee.establishments_of(number, until), number))
    if not result["establishments"]:
        raise Problem(status=404, code="company_unknown", detail=NOT_FOUND)
    result["kind"] = kind
    result["count"] = len(result["establishments"])
    result["warnings"] = warnings(result)
    return result


def warnings(result: dict) -> list[dict]:
    """What the registration form says before the user picks: a ceased company, closed establishments."""
    found = []
    if not result["company"]["active"]:
        found.append({"code": "company_ceased", "message": CEASED})
    for establishment in result["establishments"]:
        if not establishment["active"]:
            found.append({"code": "establishment_closed", "siret": establishment["siret"],
                          "message": f"{closed_text(establishment['siret'], establishment['closed_since'])} "
                                     f"{NOT_SELECTABLE}"})
    return found

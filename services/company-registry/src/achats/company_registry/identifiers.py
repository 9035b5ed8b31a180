"""SIREN, SIRET and VAT numbers: checked (Luhn, La Poste) before anything is asked of INSEE."""

from __future__ import annotations

from stdnum import vatin
from stdnum.exceptions import ValidationError
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from achats.chassis.problems import FieldError, Problem


def compact(number: str) -> str:
    return "".join(ch for ch in number if not ch.isspace() and ch not in ".-")


def kind_of(number: str, field: str = "number") -> str:
    """``siren`` or ``siret``, or a 422 saying why the number cannot be either, on the caller's ``field``."""
    number = compact(number)
    if not number.isdigit() or len(number) not in (9, 14):
        raise Problem(status=422, code="number_invalid",
                      detail="Le numéro saisi doit comporter 9 chiffres (SIREN) ou 14 chiffres (SIRET).",
                      errors=[FieldError(field, "9 chiffres (SIREN) ou 14 chiffres (SIRET) attendus.")])
    if len(number) == 9:
        if not stdnum_siren.is_valid(number):
            raise Problem(status=422, code="siren_invalid",
                          detail="Ce numéro SIREN n'est pas valide : vérifiez sa saisie.",
                          errors=[FieldError(field, "Numéro SIREN invalide (clé de contrôle).")])
        return "siren"
    if not stdnum_siret.is_valid(number):
        raise Problem(status=422, code="siret_invalid",
                      detail="Ce numéro SIRET n'est pas valide : vérifiez sa saisie.",
                      errors=[FieldError(field, "Numéro SIRET invalide (clé de contrôle).")])
    return "siret"


def require_siret(number: str, field: str = "siret") -> str:
    number = compact(number)
    if kind_of(number, field) != "siret":
        raise Problem(status=422, code="siret_invalid", detail="Un numéro SIRET (14 chiffres) est attendu.",
                      errors=[FieldError(field, "Numéro SIRET attendu.")])
    return number


def french_vat(siren: str) -> str:
    """The intra-community VAT number INSEE derives from a SIREN (FR + 2-digit key + SIREN)."""
    return "FR" + stdnum_siren.to_tva(siren)


def valid_vat(number: str) -> bool:
    try:
        vatin.validate(number)
    except (ValidationError, ValueError):
        return False
    return True

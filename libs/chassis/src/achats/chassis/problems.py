"""RFC 9457 problem details: the one error shape every service answers with, in French."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://achats.example/problems/"

# Stable codes and French titles for the generic HTTP failures. Services add their own
# domain codes (``siret_invalid`` ...) by raising Problem with their own code and detail.
GENERIC: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "Requête invalide", "La requête est invalide."),
    401: ("unauthenticated", "Authentification requise",
          "Vous devez être connecté pour accéder à cette ressource."),
    403: ("forbidden", "Accès refusé", "Vous n'avez pas les droits nécessaires pour cette action."),
    404: ("not_found", "Ressource introuvable", "La ressource demandée n'existe pas."),
    405: ("method_not_allowed", "Méthode non autorisée",
          "Cette méthode n'est pas autorisée sur cette ressource."),
    406: ("not_acceptable", "Format non disponible",
          "Le format de réponse demandé n'est pas disponible."),
    409: ("conflict", "Conflit", "La requête est en conflit avec l'état actuel de la ressource."),
    413: ("payload_too_large", "Contenu trop volumineux",
          "Le contenu envoyé dépasse la taille maximale autorisée."),
    415: ("unsupported_media_type", "Format non pris en charge",
          "Le format du contenu envoyé n'est pas pris en charge."),
    422: ("unprocessable", "Données non traitables", "Les données envoyées ne peuvent être traitées."),
    429: ("too_many_requests", "Trop de requêtes",
          "Trop de requêtes ont été envoyées. Veuillez réessayer plus tard."),
    500: ("internal_error", "Erreur interne",
          "Une erreur inattendue est survenue. Veuillez réessayer plus tard."),
    502: ("bad_gateway", "Service indisponible", "Un service nécessaire n'a pas répondu correctement."),
    503: ("service_unavailable", "Service indisponible",
          "Le service est momentanément indisponible. Veuillez réessayer plus tard."),
    504: ("gateway_timeout", "Service indisponible", "Un service nécessaire n'a pas répondu à temps."),
}


@dataclass
class FieldError:
    field: str
    message: str


@dataclass
class Problem(Exception):
    """Raise from anywhere (service layer included): the app factory turns it into problem+json."""

    status: int
    code: str | None = None
    detail: str | None = None
    title: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        Exception.__init__(self, self.detail or self.code or str(self.status))

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        return problem_body(self.status, code=self.code, detail=self.detail, title=self.title,
                            errors=self.errors, instance=instance, extra=self.extra)


def problem_body(status: int, *, code: str | None = None, detail: str | None = None,
                 title: str | None = None, errors: list[FieldError] | None = None,
                 instance: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    generic_code, generic_title, generic_detail = GENERIC.get(
        status, GENERIC[500] if status >= 500 else GENERIC[400])
    code = code or generic_code
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.replace("_", "-"),
        "title": title or generic_title,
        "status": status,
        "detail": detail or generic_detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return body

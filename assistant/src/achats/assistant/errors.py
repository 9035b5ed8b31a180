"""The assistant's errors: a stable code for programs, a French message for the person at the screen."""

from __future__ import annotations


class AssistantError(Exception):
    """An error the user must read: ``code`` (stable, English) and ``message`` (French)."""

    def __init__(self, code: str, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def as_problem(self) -> dict:
        return {"type": "about:blank", "title": self.code, "status": self.status, "detail": self.message,
                "code": self.code}


PIN_INCORRECT = ("pin_incorrect", "Code PIN incorrect. Attention : après plusieurs essais erronés, votre carte ou clé "
                                  "se bloque.")
PIN_LOCKED = ("pin_locked", "Votre carte ou clé de signature est bloquée (trop de codes PIN erronés). Débloquez-la "
                            "avec son code PUK ou l'outil de son fournisseur, puis recommencez.")
TOKEN_REMOVED = ("token_removed", "La carte ou la clé de signature a été retirée (ou n'est plus reconnue). "
                                  "Rebranchez-la, puis recommencez.")
PIN_LENGTH = ("pin_length", "Ce code PIN n'a pas la bonne longueur.")
PIN_EXPIRED = ("pin_expired", "Le code PIN de votre carte ou clé a expiré : changez-le avec l'outil de son "
                              "fournisseur, puis recommencez.")
CANCELLED = ("cancelled", "Signature annulée : aucun document n'a été signé ni modifié.")
PKCS12_PASSWORD = ("pkcs12_password", "Mot de passe du fichier de certificat incorrect (ou fichier illisible).")
TOKEN_ERROR = ("token_error", "La carte ou la clé de signature a renvoyé une erreur. Débranchez-la et rebranchez-la, "
                              "puis recommencez ; si cela persiste, contactez l'assistance.")
KEY_NOT_FOUND = ("key_not_found", "Aucune clé privée ne correspond à ce certificat sur la carte ou la clé.")
CERTIFICATE_NOT_FOUND = ("certificate_not_found", "Ce certificat n'est plus disponible : actualisez la liste des "
                                                  "certificats.")


def error(pair: tuple[str, str], *, status: int = 422) -> AssistantError:
    return AssistantError(pair[0], pair[1], status=status)

"""Password policy (NIST SP 800-63B rev. 4, CNIL 2022) and argon2id hashing.

Minimum length 15: the password is the only authentication factor here, which is NIST rev. 4's
threshold for single-factor passwords; it also meets CNIL's ~80 bits for a password used alone
(14 characters without special characters). No composition rules, no expiry; at least 64
characters accepted (256 here), never truncated; common and breached passwords refused from an
offline list; a password may not contain the login, the e-mail address or the user's names.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from achats.chassis.problems import FieldError, Problem

COMMON = Path(__file__).parent / "data" / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def problems(password: str, *, min_length: int, max_length: int, login: str = "", email: str = "",
             names: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with ``password``, in French; empty when it is acceptable."""
    found: list[str] = []
    length = len(password)
    if length < min_length:
        found.append(f"Le mot de passe doit contenir au moins {min_length} caractères "
                     f"(une phrase de passe de plusieurs mots est idéale).")
    if length > max_length:
        found.append(f"Le mot de passe ne doit pas dépasser {max_length} caractères.")
    normal = _normal(password)
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", normal)
    if normal in common_passwords() or core in common_passwords() or _repetitive(normal):
        found.append("Ce mot de passe est trop courant ou fait partie de mots de passe divulgués : choisissez-en "
                     "un autre.")
    personal = [_normal(login), _normal(email), _normal(email.split("@")[0]), *(_normal(n) for n in names)]
    if any(len(part) >= 3 and part in normal for part in personal):
        found.append("Le mot de passe ne doit contenir ni votre identifiant, ni votre adresse électronique, "
                     "ni votre nom.")
    return found


def policy(*, min_length: int, max_length: int) -> dict:
    """The policy ``problems`` applies, published for the pages that explain it as the user types."""
    return {"min_length": min_length, "max_length": max_length, "rules": [
        {"code": "length", "message": f"De {min_length} à {max_length} caractères (une phrase de passe de "
                                      f"plusieurs mots est idéale)."},
        {"code": "not_common", "message": "Ni un mot de passe courant, ni un mot de passe divulgué."},
        {"code": "not_personal", "message": "Ni votre identifiant, ni votre adresse électronique, ni votre nom."},
    ]}


def _repetitive(normal: str) -> bool:
    if len(set(normal)) < 5:
        return True
    # A short unit repeated ("azerazerazer...") is no stronger than the unit.
    return any(len(normal) % size == 0 and normal == normal[:size] * (len(normal) // size) for size in range(1, 7))


def check(password: str, *, field: str = "password", **context: object) -> None:
    found = problems(password, **context)  # type: ignore[arg-type]
    if found:
        raise Problem(status=422, code="password_rejected", detail=found[0],
                      errors=[FieldError(field, message) for message in found])


class Hasher:
    """argon2id with the configured parameters; older hashes are upgraded at the next login."""

    def __init__(self, *, memory_kib: int, time_cost: int, parallelism: int):
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
                                      hash_len=32, salt_len=16, type=Type.ID)
        # Compared against when the account does not exist, so both paths cost one hash.
        self._decoy = self._hasher.hash("decoy password that nobody uses")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._decoy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)

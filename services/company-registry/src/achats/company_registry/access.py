"""Who may do what: a supplier acts on its own company only; agents read (but not the vault); identity (service)
creates."""

from __future__ import annotations

import uuid

from achats.chassis.problems import Problem
from achats.chassis.security import Principal

STAFF = ("support_agent", "platform_admin")
NOT_FOUND = Problem(status=404, code="company_not_found", detail="Cette entreprise n'existe pas.")


def principal(token_info: dict) -> Principal:
    return Principal.from_claims(token_info)


def can_read(who: Principal, company_id: uuid.UUID) -> None:
    if who.has_role(*STAFF, "service"):
        return
    if who.company_id != str(company_id):
        # Same answer as for a company that does not exist: ids of other companies are not disclosed.
        raise Problem(status=404, code="company_not_found", detail="Cette entreprise n'existe pas.")


def can_read_vault(who: Principal, company_id: uuid.UUID) -> None:
    """The vault is the company's: its users, the platform's services, and the platform administrators (a manual
    company's decision may rest on a Kbis it holds). A support agent reads a company but never its documents."""
    can_read(who, company_id)
    if who.has_role("support_agent") and not who.has_role("platform_admin", "service") \
            and who.company_id != str(company_id):
        raise Problem(status=403, code="vault_forbidden",
                      detail="Les agents du support n'ont pas accès au coffre-fort des entreprises.")


def can_use(who: Principal, company_id: uuid.UUID) -> None:
    """Users of the company (and the platform's own services) act on its establishments and vault."""
    if who.has_role("service", "platform_admin"):
        return
    can_read(who, company_id)
    if who.has_role("support_agent") and who.company_id != str(company_id):
        raise Problem(status=403, code="forbidden",
                      detail="Les agents du support consultent les entreprises mais ne les modifient pas.")


def can_administer(who: Principal, company_id: uuid.UUID) -> None:
    if who.has_role("platform_admin", "service"):
        return
    can_read(who, company_id)
    if not who.has_role("supplier_admin"):
        raise Problem(status=403, code="company_admin_required",
                      detail="Seul l'administrateur du compte de l'entreprise peut faire cette action.")

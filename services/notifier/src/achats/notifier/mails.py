"""Which mails each consumed event produces, to whom, with what: the catalogue of templates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Template:
    name: str
    # The event types that send it.
    events: tuple[str, ...]
    description: str
    # Payload fields holding single-use links: the API hides them unless REVEAL_LINKS.
    secret_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipient:
    email: str
    first_name: str = ""
    last_name: str = ""

    @property
    def name(self) -> str:
        return " ".join(f"{self.first_name} {self.last_name}".split())


@dataclass(frozen=True)
class Mail:
    """One template to render for one recipient; ``context`` is what the template sees."""

    template: Template
    recipient: Recipient
    context: dict[str, Any] = field(hash=False)

    @property
    def secret_links(self) -> list[str]:
        return [self.context[f] for f in self.template.secret_fields if self.context.get(f)]


TEMPLATES = {t.name: t for t in [
    Template("account_created", ("identity.user.registered",),
             "Account created: confirm the e-mail address (verification link). To the new user.",
             secret_fields=("verification_url",)),
    Template("company_user_joined", ("identity.user.registered",),
             "A new user joined the company account. To each of its administrators."),
    Template("registration_attempt", ("identity.registration.rejected",),
             "Someone tried to create an account with the user's e-mail address or login: you already have an "
             "account (its login), « Mot de passe oublié ». To the existing account's owner."),
    Template("email_verification", ("identity.user.email_change_requested",),
             "Confirm the new e-mail address of the account (verification link). To the new address.",
             secret_fields=("verification_url",)),
    Template("email_changed_notice", ("identity.user.email_change_requested",),
             "The account's e-mail address was changed (new address partly masked, no link). To the previous "
             "address."),
    Template("password_reset", ("identity.password_reset.requested",), "Password reset link. To the user.",
             secret_fields=("reset_url",)),
    Template("password_changed", ("identity.password.changed",), "The password was changed. To the user."),
    Template("account_locked", ("identity.user.locked",), "The account is locked after failed logins. To the user."),
    Template("account_deleted", ("identity.user.deleted",), "The personal account was deleted. To the former user."),
    Template("company_deleted", ("company.deleted",),
             "The company account was deleted. To the user who deleted it."),
    Template("document_expiring", ("company.document.expiring",),
             "A document of the company vault is about to expire (or has). To each recipient."),
    Template("ticket_created", ("helpdesk.ticket.created",),
             "« Assistance - Création d'une demande - Réf. … »: reference, link, support phone. To the requester."),
    Template("ticket_answered", ("helpdesk.ticket.answered",),
             "The support answered a request (excerpt and link). To the requester."),
    Template("ticket_information_requested", ("helpdesk.ticket.information_requested",),
             "The support needs more information (excerpt and link). To the requester."),
    Template("ticket_resolved", ("helpdesk.ticket.resolved",), "The request was resolved (link). To the requester."),
    Template("ticket_closed", ("helpdesk.ticket.closed",),
             "The request was closed (link to its history). To the requester."),
    Template("ticket_follow_link", ("helpdesk.ticket.follow_link_sent",),
             "A new follow link an agent sent (the old ones may have been revoked). To the requester."),
    Template("deposit_received", ("consultations.deposit.received",),
             "« Accusé de réception de votre dépôt »: consultation, lot, RFC 3161 deposit time, each file with its "
             "SHA-256, the receipt's link. To the user who deposited."),
    Template("question_answered", ("consultations.question.answered",),
             "The answer to a question about a consultation, published without the asker's name (the question, the "
             "answer, the consultation's link). To the asker and every user who downloaded the DCE, each once."),
]}


def _recipient(person: dict[str, Any]) -> Recipient:
    return Recipient(email=person["email"].strip(), first_name=person.get("first_name") or "",
                     last_name=person.get("last_name") or "")


def _distinct(people: list[dict[str, Any]], *, besides: str = "") -> list[Recipient]:
    """Each address once (case-insensitively), ``besides`` excluded."""
    seen = {besides.strip().casefold()} if besides else set()
    out = []
    for person in people:
        recipient = _recipient(person)
        if recipient.email.casefold() not in seen:
            seen.add(recipient.email.casefold())
            out.append(recipient)
    return out


def _to_user(template: str) -> Callable[[dict[str, Any]], list[Mail]]:
    def mails(data: dict[str, Any]) -> list[Mail]:
        return [Mail(TEMPLATES[template], _recipient(data), data)]

    return mails


def _to_requester(template: str) -> Callable[[dict[str, Any]], list[Mail]]:
    def mails(data: dict[str, Any]) -> list[Mail]:
        return [Mail(TEMPLATES[template], _recipient(data["requester"]), data)]

    return mails


def _user_registered(data: dict[str, Any]) -> list[Mail]:
    mails = [Mail(TEMPLATES["account_created"], _recipient(data), data)]
    for admin in _distinct(data["company_administrators"], besides=data["email"]):
        mails.append(Mail(TEMPLATES["company_user_joined"], admin, data))
    return mails


def _email_change_requested(data: dict[str, Any]) -> list[Mail]:
    mails = [Mail(TEMPLATES["email_verification"], _recipient(data), data)]
    # The notice goes to the previous address, under the user's name; never twice to the same mailbox.
    previous = {**data, "email": data["previous_email"]}
    for owner in _distinct([previous], besides=data["email"]):
        mails.append(Mail(TEMPLATES["email_changed_notice"], owner, data))
    return mails


def _company_deleted(data: dict[str, Any]) -> list[Mail]:
    return [Mail(TEMPLATES["company_deleted"], _recipient(data["deleted_by"]), data)]


def _document_expiring(data: dict[str, Any]) -> list[Mail]:
    return [Mail(TEMPLATES["document_expiring"], r, data) for r in _distinct(data["recipients"])]


def _deposit_received(data: dict[str, Any]) -> list[Mail]:
    depositor = data["depositor"]
    return [Mail(TEMPLATES["deposit_received"], Recipient(email=depositor["email"].strip(),
                                                          last_name=depositor.get("name") or ""), data)]


def _question_answered(data: dict[str, Any]) -> list[Mail]:
    return [Mail(TEMPLATES["question_answered"], r, data) for r in _distinct(data["recipients"])]


MAILS_BY_EVENT: dict[str, Callable[[dict[str, Any]], list[Mail]]] = {
    "identity.user.registered": _user_registered,
    "identity.registration.rejected": _to_user("registration_attempt"),
    "identity.user.email_change_requested": _email_change_requested,
    "identity.password_reset.requested": _to_user("password_reset"),
    "identity.password.changed": _to_user("password_changed"),
    "identity.user.locked": _to_user("account_locked"),
    "identity.user.deleted": _to_user("account_deleted"),
    "company.deleted": _company_deleted,
    "company.document.expiring": _document_expiring,
    "helpdesk.ticket.created": _to_requester("ticket_created"),
    "helpdesk.ticket.answered": _to_requester("ticket_answered"),
    "helpdesk.ticket.information_requested": _to_requester("ticket_information_requested"),
    "helpdesk.ticket.resolved": _to_requester("ticket_resolved"),
    "helpdesk.ticket.closed": _to_requester("ticket_closed"),
    "helpdesk.ticket.follow_link_sent": _to_requester("ticket_follow_link"),
    "consultations.question.answered": _question_answered,
    "consultations.deposit.received": _deposit_received,
}


def mails_for(event_type: str, data: dict[str, Any]) -> list[Mail]:
    """The mails of an event whose data matches the contract."""
    return MAILS_BY_EVENT[event_type](data)

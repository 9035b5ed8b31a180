"""The events contract (asyncapi.yaml): what producers may send, what the notifier accepts and rejects."""

from __future__ import annotations

import copy

import pytest

from achats.chassis.bus import CloudEvent
from achats.notifier import contract
from achats.notifier.mails import MAILS_BY_EVENT, TEMPLATES, Recipient, mails_for

# What a producer would publish, written here independently of the contract's own examples: the
# notifier must accept them as they are, extra fields included.
PRODUCER_SAMPLES = {
    "identity.user.registered": {
        "user_id": "u-1", "company_id": "c-1", "establishment_id": None, "login": "jdupont",
        "email": "jean.dupont@exemple.fr", "first_name": "Jean", "last_name": "Dupont", "roles": ["supplier_admin"],
        "verification_url": "https://achats.exemple.fr/verification?t=abc", "verification_expires_at":
        "2025-06-01T12:05:00+00:00", "company_name": "Dupont & Fils", "company_administrators": [],
        "locale": "fr-FR"},
    "identity.registration.rejected": {
        "user_id": "u-1", "email": "jean.dupont@exemple.fr", "first_name": "Jean", "last_name": "Dupont",
        "login": "jdupont", "reason": "login_taken"},
    "identity.user.email_change_requested": {
        "user_id": "u-1", "email": "j.dupont@nouvelle-adresse.fr", "first_name": "Jean", "last_name": "Dupont",
        "previous_email": "jean.dupont@exemple.fr", "verification_url": "https://achats.exemple.fr/confirmation?t=abc",
        "verification_expires_at": "2025-06-02T12:00:00.123456+00:00"},
    "identity.password_reset.requested": {
        "user_id": "u-1", "email": "jean.dupont@exemple.fr", "first_name": "Jean", "last_name": "Dupont",
        "reset_url": "https://achats.exemple.fr/reset?t=abc", "expires_at": "2025-06-01T12:05:00Z"},
    "identity.password.changed": {
        "user_id": "u-1", "email": "jean.dupont@exemple.fr", "first_name": "Jean", "last_name": "Dupont",
        "changed_at": "2025-06-01T12:00:00.123456+00:00"},
    "identity.user.locked": {
        "user_id": "u-1", "email": "jean.dupont@exemple.fr", "first_name": "Jean", "last_name": "Dupont",
        "locked_until": None, "failed_attempts": 30},
    "identity.user.deleted": {
        "user_id": "u-1", "email": "jean.dupont@exemple.fr", "first_name": "Jean", "last_name": "Dupont",
        "company_id": "c-1"},
    "company.deleted": {
        "company_id": "c-1", "siren": None, "name": "Dupont & Fils",
        "deleted_by": {"user_id": "u-1", "email": "jean.dupont@exemple.fr", "first_name": "Jean",
                       "last_name": "Dupont"}},
    "company.document.expiring": {
        "company_id": "c-1", "company_name": "Dupont & Fils", "document_id": "d-1", "document_type": "kbis",
        "label": None, "valid_until": "2025-06-30", "days_left": -2, "recipients": [
            {"email": "jean.dupont@exemple.fr", "first_name": "Jean", "last_name": "Dupont", "user_id": "u-1"}]},
    "helpdesk.ticket.created": {
        "ticket_id": "t-1", "reference": "00012345", "subject": "Problème de connexion",
        "requester": {"email": "jean.dupont@exemple.fr", "first_name": "Jean", "last_name": "Dupont"},
        "follow_url": "https://achats.exemple.fr/assistance/demande/xyz", "severity": "Bloquant"},
    "helpdesk.ticket.answered": {
        "ticket_id": "t-1", "reference": "00012345", "subject": "Problème de connexion",
        "requester": {"email": "jean.dupont@exemple.fr", "first_name": "Jean", "last_name": "Dupont"},
        "follow_url": "https://achats.exemple.fr/assistance/demande/xyz", "message_excerpt": "Bonjour, ..."},
    "helpdesk.ticket.information_requested": {
        "ticket_id": "t-1", "reference": "00012345", "subject": "Problème de connexion",
        "requester": {"email": "jean.dupont@exemple.fr", "first_name": "Jean", "last_name": "Dupont"},
        "follow_url": "https://achats.exemple.fr/assistance/demande/xyz", "message_excerpt": ""},
    "helpdesk.ticket.resolved": {
        "ticket_id": "t-1", "reference": "00012345", "subject": "Problème de connexion",
        "requester": {"email": "jean.dupont@exemple.fr", "first_name": "Jean", "last_name": "Dupont"},
        "follow_url": "https://achats.exemple.fr/assistance/demande/xyz"},
    "helpdesk.ticket.closed": {
        "ticket_id": "t-1", "reference": "00012345", "subject": "Problème de connexion",
        "requester": {"email": "jean.dupont@exemple.fr", "first_name": "Jean", "last_name": "Dupont"},
        "follow_url": "https://achats.exemple.fr/assistance/demande/xyz"},
    "helpdesk.ticket.follow_link_sent": {
        "ticket_id": "t-1", "reference": "00012345", "subject": "Problème de connexion",
        "requester": {"email": "jean.dupont@exemple.fr", "first_name": "Jean", "last_name": "Dupont"},
        "follow_url": "https://achats.exemple.fr/assistance/demande/xyz"},
    "consultations.question.answered": {
        "question_id": "q-1", "consultation_id": "c-1", "reference": "TEST-2026-TRX-001",
        "title": "Réhabilitation d'un bâtiment", "question": "Le lot 1 comprend-il le désamiantage ?",
        "answer": "Oui.", "answered_at": "2026-12-07T10:30:00.123456+00:00",
        "consultation_url": "https://achats.exemple.fr/consultations/TEST-2026-TRX-001",
        "recipients": [{"email": "jean.dupont@exemple.fr"}, {"email": "Jean.Dupont@exemple.fr"},
                       {"email": "marie.curie@exemple.fr"}]},
    # What achats.consultations.deposits.event_data publishes.
    "consultations.deposit.received": {
        "deposit_id": "d-1", "consultation_id": "c-1", "reference": "TEST-2026-TRX-001",
        "title": "Réhabilitation d'un bâtiment", "buyer": "Centre technique", "lot_number": 1,
        "lot_title": "Gros œuvre", "company_id": "c-2", "user_id": "u-1",
        "depositor": {"email": "jean.dupont@exemple.fr", "name": "Jean Dupont"},
        "deposited_at": "2026-12-07T10:45:12+00:00", "deadline": "2027-01-06T11:00:00+00:00",
        "files": [{"kind": "offre", "filename": "offre.pdf", "size": 1234, "sha256": "a" * 64}],
        "receipt_url": "https://achats.exemple.fr/api/consultations/deposits/d-1/receipt.pdf",
        "answers_url": "https://achats.exemple.fr/consultations/mes-reponses"},
}

# What each event must carry (the mails need it): without one of these, the event is rejected.
NEEDED = {
    "identity.user.registered": ["email", "first_name", "last_name", "login", "verification_url",
                                 "verification_expires_at", "company_name", "company_administrators"],
    "identity.registration.rejected": ["email", "first_name", "last_name", "reason"],
    "identity.user.email_change_requested": ["email", "first_name", "last_name", "previous_email",
                                             "verification_url", "verification_expires_at"],
    "identity.password_reset.requested": ["email", "first_name", "last_name", "reset_url", "expires_at"],
    "identity.password.changed": ["email", "first_name", "last_name", "changed_at"],
    "identity.user.locked": ["email", "first_name", "last_name", "locked_until"],
    "identity.user.deleted": ["email", "first_name", "last_name"],
    "company.deleted": ["name", "deleted_by"],
    "company.document.expiring": ["company_name", "document_type", "label", "valid_until", "days_left",
                                  "recipients"],
    "helpdesk.ticket.created": ["reference", "subject", "requester", "follow_url"],
    "helpdesk.ticket.answered": ["reference", "subject", "requester", "follow_url", "message_excerpt"],
    "helpdesk.ticket.information_requested": ["reference", "subject", "requester", "follow_url", "message_excerpt"],
    "helpdesk.ticket.resolved": ["reference", "subject", "requester", "follow_url"],
    "helpdesk.ticket.closed": ["reference", "subject", "requester", "follow_url"],
    "helpdesk.ticket.follow_link_sent": ["reference", "subject", "requester", "follow_url"],
    "consultations.question.answered": ["reference", "title", "question", "answer", "consultation_url", "recipients"],
    "consultations.deposit.received": ["reference", "title", "lot_number", "depositor", "deposited_at", "deadline",
                                       "files", "receipt_url"],
}


def envelope(event_type: str, data: dict) -> dict:
    return CloudEvent(type=event_type, source="/producer", data=data).to_dict()


def test_the_contract_lists_exactly_the_events_the_notifier_handles():
    assert sorted(contract.consumed_types()) == sorted(MAILS_BY_EVENT) == sorted(PRODUCER_SAMPLES)
    assert sorted(contract.examples()) == sorted(MAILS_BY_EVENT)


@pytest.mark.parametrize("event_type", sorted(PRODUCER_SAMPLES))
def test_producer_samples_and_contract_examples_are_valid(event_type):
    contract.check_envelope(envelope(event_type, PRODUCER_SAMPLES[event_type]))
    contract.check_envelope(contract.examples()[event_type])


@pytest.mark.parametrize(("event_type", "field"), [(t, f) for t, fields in NEEDED.items() for f in fields])
def test_an_event_missing_what_a_mail_needs_is_rejected(event_type, field):
    data = copy.deepcopy(PRODUCER_SAMPLES[event_type])
    del data[field]
    with pytest.raises(contract.ContractViolation) as error:
        contract.check_envelope(envelope(event_type, data))
    assert field in str(error.value)


@pytest.mark.parametrize("person_field", ["requester", "deleted_by"])
def test_a_person_without_an_address_is_rejected(person_field):
    event_type = "helpdesk.ticket.created" if person_field == "requester" else "company.deleted"
    data = copy.deepcopy(PRODUCER_SAMPLES[event_type])
    del data[person_field]["email"]
    with pytest.raises(contract.ContractViolation, match=f"{person_field}"):
        contract.check_envelope(envelope(event_type, data))


@pytest.mark.parametrize(("event_type", "field", "value"), [
    ("identity.password_reset.requested", "email", "jean@exemple.fr\r\nBcc: tous@exemple.fr"),
    ("identity.password_reset.requested", "email", "Jean <jean@exemple.fr>"),
    ("identity.password_reset.requested", "email", "a@b.fr, c@d.fr"),
    ("identity.password_reset.requested", "reset_url", "javascript:alert(1)"),
    ("identity.password_reset.requested", "expires_at", "demain midi"),
    ("helpdesk.ticket.created", "follow_url", "data:text/html,<script>alert(1)</script>"),
    ("company.document.expiring", "valid_until", "30/06/2025"),
    ("company.document.expiring", "days_left", "15"),
    ("identity.user.registered", "company_administrators", [{"email": "x@y.fr"}]),
    ("identity.registration.rejected", "reason", "password_taken"),
    ("identity.registration.rejected", "login", ""),
    ("identity.user.email_change_requested", "previous_email", "jean@exemple.fr\r\nBcc: tous@exemple.fr"),
    ("identity.user.email_change_requested", "previous_email", "<script>alert(1)</script>@exemple.fr"),
    ("identity.user.email_change_requested", "email", "Jean <j.dupont@nouvelle-adresse.fr>"),
    ("identity.user.email_change_requested", "verification_url", "javascript:alert(1)"),
    ("identity.user.email_change_requested", "verification_expires_at", "demain"),
])
def test_malformed_values_are_rejected(event_type, field, value):
    data = {**copy.deepcopy(PRODUCER_SAMPLES[event_type]), field: value}
    with pytest.raises(contract.ContractViolation):
        contract.check_envelope(envelope(event_type, data))


def test_every_template_is_sent_by_the_events_it_declares():
    produced = {}
    for event_type, example in contract.examples().items():
        for mail in mails_for(event_type, example["data"]):
            produced.setdefault(mail.template.name, set()).add(event_type)
    assert produced == {name: set(t.events) for name, t in TEMPLATES.items()}


def test_registration_mails_the_user_and_each_administrator_once():
    data = copy.deepcopy(PRODUCER_SAMPLES["identity.user.registered"])
    data["company_administrators"] = [
        {"email": "admin@exemple.fr", "first_name": "Anne", "last_name": "Admin"},
        {"email": "ADMIN@exemple.fr", "first_name": "Anne", "last_name": "Admin"},
        {"email": data["email"], "first_name": "Jean", "last_name": "Dupont"},  # the new user is an admin too
    ]
    mails = mails_for("identity.user.registered", data)
    assert [(m.template.name, m.recipient.email) for m in mails] == [
        ("account_created", "jean.dupont@exemple.fr"), ("company_user_joined", "admin@exemple.fr")]
    assert mails[0].secret_links == ["https://achats.exemple.fr/verification?t=abc"]
    assert mails[1].secret_links == []


def test_an_answered_question_mails_each_address_once():
    mails = mails_for("consultations.question.answered", PRODUCER_SAMPLES["consultations.question.answered"])
    assert [(m.template.name, m.recipient.email) for m in mails] == [
        ("question_answered", "jean.dupont@exemple.fr"), ("question_answered", "marie.curie@exemple.fr")]


def test_an_expiring_document_without_recipients_sends_nothing():
    data = {**PRODUCER_SAMPLES["company.document.expiring"], "recipients": []}
    contract.check_envelope(envelope("company.document.expiring", data))
    assert mails_for("company.document.expiring", data) == []


def test_an_email_change_mails_the_link_to_the_new_address_and_a_notice_to_the_previous_one():
    data = copy.deepcopy(PRODUCER_SAMPLES["identity.user.email_change_requested"])
    mails = mails_for("identity.user.email_change_requested", data)
    assert [(m.template.name, m.recipient) for m in mails] == [
        ("email_verification", Recipient("j.dupont@nouvelle-adresse.fr", "Jean", "Dupont")),
        ("email_changed_notice", Recipient("jean.dupont@exemple.fr", "Jean", "Dupont"))]
    # Only the new address gets the single-use link (and the API hides it there).
    assert mails[0].secret_links == ["https://achats.exemple.fr/confirmation?t=abc"]
    assert mails[1].secret_links == []


def test_an_email_change_to_the_same_mailbox_sends_only_the_link():
    data = {**PRODUCER_SAMPLES["identity.user.email_change_requested"],
            "previous_email": "J.Dupont@Nouvelle-Adresse.fr"}
    contract.check_envelope(envelope("identity.user.email_change_requested", data))
    assert [m.template.name for m in mails_for("identity.user.email_change_requested", data)] == [
        "email_verification"]


@pytest.mark.parametrize("reason", ["email_taken", "login_taken"])
def test_a_registration_attempt_mails_the_existing_account_owner(reason):
    data = {**PRODUCER_SAMPLES["identity.registration.rejected"], "reason": reason}
    contract.check_envelope(envelope("identity.registration.rejected", data))
    (mail,) = mails_for("identity.registration.rejected", data)
    assert (mail.template.name, mail.recipient.email, mail.secret_links) == (
        "registration_attempt", "jean.dupont@exemple.fr", [])
    # The login is shown when the producer sends it; older producers did not.
    without_login = {k: v for k, v in data.items() if k != "login"}
    contract.check_envelope(envelope("identity.registration.rejected", without_login))

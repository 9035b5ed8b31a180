"""Templates: French text and autoescaped HTML on one layout, the guide's ticket mail, French dates."""

from __future__ import annotations

import copy

import pytest

from achats.notifier import contract
from achats.notifier.mails import TEMPLATES, mails_for
from achats.notifier.rendering import Renderer, RenderingError, date_fr, mask_email

from notifier_support import PLATFORM


@pytest.fixture(scope="module")
def renderer():
    return Renderer(platform_name=PLATFORM, support_phone="08 20 20 77 43", public_base_url="https://achats.test")


def render_example(renderer, event_type, template=None, **changes):
    data = {**copy.deepcopy(contract.examples()[event_type]["data"]), **changes}
    mails = mails_for(event_type, data)
    mail = next(m for m in mails if template is None or m.template.name == template)
    return renderer.render(mail)


def test_there_is_a_text_and_an_html_template_for_every_mail(renderer):
    assert renderer.template_names() == sorted(TEMPLATES)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_renders_french_text_and_html_on_the_layout(renderer, template):
    mail = render_example(renderer, TEMPLATES[template].events[0], template)
    assert mail.subject and "\n" not in mail.subject
    assert mail.text.startswith("Bonjour,\n\n")
    assert f"Cordialement,\n\n{PLATFORM}\n" in mail.text
    assert "merci de ne pas y répondre" in mail.text
    assert mail.html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in mail.html
    assert f"<title>{mail.subject}</title>".replace("'", "&#39;") in mail.html
    assert "<p>Bonjour,</p>" in mail.html and f"<p>{PLATFORM}</p>" in mail.html
    assert "{{" not in mail.text + mail.html and "{%" not in mail.text + mail.html


def test_ticket_created_is_the_mail_of_the_guide(renderer):
    mail = render_example(renderer, "helpdesk.ticket.created", reference="A1B2C3D4", subject="Dépôt impossible",
                          follow_url="https://achats.test/assistance/demande/xyz")
    assert mail.subject == "Assistance - Création d'une demande - Réf. A1B2C3D4"
    assert mail.text == (
        "Bonjour,\n\n"
        'Votre demande d\'assistance n° A1B2C3D4 - "Dépôt impossible" a bien été enregistrée.\n\n'
        "Pour accéder à cette demande d'assistance, veuillez cliquer sur le lien suivant :\n\n"
        "https://achats.test/assistance/demande/xyz\n\n"
        "Ne perdez pas ce message qui vous permet de suivre ce ticket A1B2C3D4 - En cas de besoin, vous pouvez "
        "contacter notre équipe support au 08 20 20 77 43.\n\n"
        f"Cordialement,\n\n{PLATFORM}\n\n"
        "-- \nCe message vous a été envoyé automatiquement : merci de ne pas y répondre.\nhttps://achats.test\n")
    assert 'href="https://achats.test/assistance/demande/xyz"' in mail.html


@pytest.mark.parametrize("event_type", ["helpdesk.ticket.answered", "helpdesk.ticket.information_requested",
                                        "helpdesk.ticket.resolved", "helpdesk.ticket.closed",
                                        "helpdesk.ticket.follow_link_sent"])
def test_every_ticket_mail_has_the_reference_the_link_and_the_support_phone(renderer, event_type):
    mail = render_example(renderer, event_type)
    data = contract.examples()[event_type]["data"]
    assert mail.subject.startswith("Assistance - ") and mail.subject.endswith(f"Réf. {data['reference']}")
    for part in (mail.text, mail.html):
        assert data["follow_url"] in part and "08 20 20 77 43" in part and data["reference"] in part
    if "message_excerpt" in data:
        assert data["message_excerpt"] in mail.text


def test_user_text_is_escaped_in_html_and_left_alone_in_text(renderer):
    script = '<script>alert("pirate")</script>'
    mail = render_example(renderer, "helpdesk.ticket.answered", subject=script, message_excerpt=f"Voir {script}",
                          reference="<b>42</b>")
    assert "<script>" not in mail.html and "<b>42</b>" not in mail.html
    assert "&lt;script&gt;alert(&#34;pirate&#34;)&lt;/script&gt;" in mail.html
    assert "&lt;b&gt;42&lt;/b&gt;" in mail.html
    assert script in mail.text
    assert mail.subject == "Assistance - Réponse à votre demande - Réf. <b>42</b>"  # a header, not HTML


def test_a_subject_never_spans_lines(renderer):
    mail = render_example(renderer, "company.deleted", name="Dupont\r\nBcc: tous@exemple.fr")
    assert mail.subject == "Suppression du compte de l'entreprise Dupont Bcc: tous@exemple.fr"


def test_the_new_address_is_asked_to_confirm_itself_with_the_link(renderer):
    mail = render_example(renderer, "identity.user.email_change_requested", "email_verification",
                          email="marie.sklodowska@exemple.fr", previous_email="marie.curie@exemple.fr",
                          verification_url="https://achats.test/compte/confirmation?token=Ab-12&x=1",
                          verification_expires_at="2025-10-26T00:30:00Z")
    assert mail.subject == "Confirmez votre nouvelle adresse e-mail"
    for part in (mail.text, mail.html):
        assert "votre nouvelle adresse est" in part and "marie.sklodowska@exemple.fr" in part
        assert "valable jusqu'au 26 octobre 2025 à 2 h 30 et ne peut servir qu'une fois" in part  # still summer time
        assert "marie.curie" not in part  # the new address may be a stranger's (a typo): nothing of the old one
    assert "\nhttps://achats.test/compte/confirmation?token=Ab-12&x=1\n" in mail.text
    assert 'href="https://achats.test/compte/confirmation?token=Ab-12&amp;x=1"' in mail.html


def test_the_account_mail_says_no_login_before_the_confirmation(renderer):
    """Identity refuses a login until the e-mail is confirmed (issue 13): the mail says so."""
    mail = render_example(renderer, "identity.user.registered", "account_created")
    for part in (mail.text, mail.html):
        assert "Vous ne pourrez vous connecter qu'une fois votre adresse confirmée." in part.replace("&#39;", "'")
        assert "demandez un nouveau courriel de confirmation" in part


def test_the_previous_address_is_told_without_a_link(renderer):
    mail = render_example(renderer, "identity.user.email_change_requested", "email_changed_notice",
                          email="marie.sklodowska@exemple.fr", previous_email="marie.curie@exemple.fr")
    assert mail.subject == "L'adresse e-mail de votre compte a été modifiée"
    link = contract.examples()["identity.user.email_change_requested"]["data"]["verification_url"]
    for part in (mail.text, mail.html):
        assert "(marie.curie@exemple.fr) vient d'être remplacée par" in part
        assert "ma***@exemple.fr" in part and "sklodowska" not in part  # the new address, partly masked
        assert "contactez sans attendre notre équipe support au 08 20 20 77 43" in part
        assert link not in part and "token" not in part
    assert mail.html.count("<a ") == 1  # the layout's footer: no link in the notice itself
    assert "https://" not in mail.text.split("Cordialement,")[0]


@pytest.mark.parametrize(("address", "masked"), [
    ("marie.sklodowska@exemple.fr", "ma***@exemple.fr"),
    ("abcd@exemple.fr", "ab***@exemple.fr"),
    ("abc@exemple.fr", "a***@exemple.fr"),
    ("a@exemple.fr", "a***@exemple.fr"),
    ("pas-une-adresse", "***"),
])
def test_masked_addresses_keep_the_domain_and_hide_the_rest(address, masked):
    assert mask_email(address) == masked


@pytest.mark.parametrize(("reason", "subject", "what"), [
    ("email_taken", "Tentative de création d'un compte avec votre adresse e-mail",
     "avec votre adresse e-mail (helene.lefevre@etudes-spatiales.example)"),
    ("login_taken", "Tentative de création d'un compte avec votre identifiant de connexion",
     "avec votre identifiant de connexion."),
])
def test_a_registration_attempt_tells_the_owner_what_to_do(renderer, reason, subject, what):
    mail = render_example(renderer, "identity.registration.rejected", reason=reason, login="h.lefevre")
    assert mail.subject == subject
    for part in (mail.text, mail.html):
        assert what in part
        assert "vous avez déjà un compte personnel, dont l'identifiant de connexion est" in part
        assert "h.lefevre" in part
        assert "Si vous avez oublié votre mot de passe, utilisez « Mot de passe oublié »" in part
        assert "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message" in part
    assert 'href="https://achats.test"' in mail.html


def test_a_registration_attempt_without_login_still_renders(renderer):
    data = {k: v for k, v in contract.examples()["identity.registration.rejected"]["data"].items() if k != "login"}
    (mail,) = mails_for("identity.registration.rejected", data)
    rendered = renderer.render(mail)
    assert "vous avez déjà un compte personnel." in rendered.text
    assert "identifiant de connexion est" not in rendered.text + rendered.html


def test_identity_fields_are_escaped_in_the_new_mails(renderer):
    # The contract refuses such addresses; the templates escape them all the same.
    script = "<script>alert('x')</script>"
    attempt = render_example(renderer, "identity.registration.rejected", login=script)
    notice = render_example(renderer, "identity.user.email_change_requested", "email_changed_notice",
                            previous_email=f"{script}@exemple.fr", email=f"o'{script}@exemple.fr")
    verification = render_example(renderer, "identity.user.email_change_requested", "email_verification",
                                  email=f"{script}@exemple.fr")
    for mail in (attempt, notice, verification):
        assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert script in attempt.text and f"{script}@exemple.fr" in notice.text


def test_times_are_shown_in_french_in_paris_time(renderer):
    mail = render_example(renderer, "identity.password_reset.requested", expires_at="2025-07-01T21:30:00Z")
    assert "valable jusqu'au 1er juillet 2025 à 23 h 30" in mail.text  # UTC+2 in summer
    winter = render_example(renderer, "identity.password.changed", changed_at="2025-12-31T23:05:00+00:00")
    assert "modifié le 1er janvier 2026 à 0 h 05" in winter.text
    assert date_fr("2025-08-15") == "15 août 2025"


@pytest.mark.parametrize(("days_left", "subject", "phrase"), [
    (15, "Un document arrive à expiration", "expire dans 15 jours, le 1er avril 2025"),
    (1, "Un document arrive à expiration", "expire demain, le 1er avril 2025"),
    (0, "Un document arrive à expiration", "expire aujourd'hui, le 1er avril 2025"),
    (-3, "Un document a expiré", "a expiré le 1er avril 2025"),
])
def test_expiring_document_says_when(renderer, days_left, subject, phrase):
    mail = render_example(renderer, "company.document.expiring", days_left=days_left)
    assert mail.subject == f"Coffre-fort - {subject} : Attestation de vigilance URSSAF"
    assert phrase in mail.text and phrase in mail.html


def test_a_document_without_label_is_named_by_its_type(renderer):
    mail = render_example(renderer, "company.document.expiring", label=None, document_type="kbis")
    assert mail.subject.endswith(": kbis")


def test_locked_account_without_end_date_points_to_the_support(renderer):
    timed = render_example(renderer, "identity.user.locked")
    assert "à partir du 14 mars 2025 à 12 h 15" in timed.text
    forever = render_example(renderer, "identity.user.locked", locked_until=None)
    assert "déblocage par un administrateur" in forever.text and "08 20 20 77 43" in forever.text


def test_settings_reach_the_mails():
    custom = Renderer(platform_name="La plateforme des marchés publics du CNES", support_phone="01 02 03 04 05",
                      public_base_url="https://marches.cnes.fr")
    mail = render_example(custom, "helpdesk.ticket.created")
    assert "La plateforme des marchés publics du CNES" in mail.text and "01 02 03 04 05" in mail.text
    assert "https://marches.cnes.fr" in mail.html


def test_missing_data_is_an_error_not_a_blank(renderer):
    data = copy.deepcopy(contract.examples()["helpdesk.ticket.created"]["data"])
    mail = mails_for("helpdesk.ticket.created", data)[0]
    del mail.context["reference"]
    with pytest.raises(RenderingError, match="reference"):
        renderer.render(mail)


def test_an_answered_question_shows_the_question_the_answer_and_the_link_and_nobodys_name(renderer):
    data = contract.examples()["consultations.question.answered"]["data"]
    mail = render_example(renderer, "consultations.question.answered")
    assert mail.subject == f"Consultation {data['reference']} - Réponse à une question"
    for part in (mail.text, mail.html):
        assert data["consultation_url"] in part and data["reference"] in part
    assert data["title"] in mail.text and data["question"] in mail.text and data["answer"] in mail.text
    # One mail per address, and no other recipient's address in it.
    _first, second = (r["email"] for r in data["recipients"])
    assert second not in mail.text and second not in mail.html
    script = '<script>alert("pirate")</script>'
    escaped = render_example(renderer, "consultations.question.answered", answer=script)
    assert "<script>" not in escaped.html and script in escaped.text

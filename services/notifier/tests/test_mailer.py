"""Putting a mail on the wire: MIME structure and headers, SMTP modes, failures sorted, Maildir."""

from __future__ import annotations

import mailbox
import socket
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

import pytest

from achats.notifier.mailer import (
    MaildirTransport,
    MailUrl,
    PermanentFailure,
    SmtpTransport,
    TemporaryFailure,
    Unavailable,
    build_message,
    new_message_id,
    parse_mail_url,
    transport_from_url,
)

from notifier_smtp import MailServer

SENDER = "nepasrepondre@achats.test"


def message(**changes):
    values = dict(sender=SENDER, sender_name="La plateforme des marchés publics", recipient="helene@exemple.fr",
                  recipient_name="Hélène Lefèvre", subject="Création d'une demande - Réf. 42 - « été »",
                  text="Bonjour,\n\nVotre demande a été enregistrée.\n", html="<p>Bonjour,</p><p>Été</p>",
                  message_id=new_message_id("achats.test"), date=datetime(2025, 3, 14, 9, 30, tzinfo=UTC))
    values.update(changes)
    return build_message(**values)


def test_message_is_multipart_alternative_utf8_with_encoded_headers():
    built = message()
    wire = built.as_bytes()
    head = wire.split(b"\n\n", 1)[0]
    assert head.decode("ascii")  # headers are 7-bit: accents are RFC 2047 encoded
    assert b"=?utf-8?" in head
    parsed = BytesParser(policy=policy.default).parsebytes(built.as_bytes())
    assert parsed["Subject"] == "Création d'une demande - Réf. 42 - « été »"
    assert parsed["From"].addresses[0].display_name == "La plateforme des marchés publics"
    assert parsed["From"].addresses[0].addr_spec == SENDER
    assert parsed["To"].addresses[0].display_name == "Hélène Lefèvre"
    assert parsed["Message-ID"] == built["Message-ID"] and parsed["Message-ID"].endswith("@achats.test>")
    assert parsedate_to_datetime(parsed["Date"]) == datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = parsed.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert text.get_content() == "Bonjour,\n\nVotre demande a été enregistrée.\n"
    assert "Été" in html.get_content()


def test_a_name_with_a_line_break_cannot_add_a_header():
    built = message(recipient_name="Eve\r\nBcc: tous@exemple.fr")
    parsed = BytesParser(policy=policy.default).parsebytes(built.as_bytes())
    assert parsed["Bcc"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["helene@exemple.fr"]


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://relay.interne:25", MailUrl("plain", "relay.interne", 25)),
    ("smtp://relay.interne", MailUrl("plain", "relay.interne", 25)),
    ("smtp+starttls://app%40achats:p%3Ass@smtp.example:587", MailUrl("starttls", "smtp.example", 587, "app@achats",
                                                                     "p:ss")),
    ("smtps://u:p@smtp.example", MailUrl("tls", "smtp.example", 465, "u", "p")),
    ("maildir:///var/lib/achats/mail", MailUrl("maildir", path="/var/lib/achats/mail")),
    ("maildir://var/mail", MailUrl("maildir", path="var/mail")),
])
def test_mail_urls(url, expected):
    assert parse_mail_url(url) == expected


@pytest.mark.parametrize("url", ["http://smtp.example", "smtp://", "smtp://host:port", "maildir://", "mailpit"])
def test_bad_mail_urls_are_refused(url):
    with pytest.raises(ValueError):
        parse_mail_url(url)


def test_plain_smtp_delivers(mail_server):
    connection = transport_from_url(mail_server.url()).connect()
    try:
        connection.send(message(), sender=SENDER, recipient="helene@exemple.fr")
    finally:
        connection.close()
    (received,) = mail_server.wait_for(1)
    assert received.mail_from == SENDER and received.rcpt_tos == ["helene@exemple.fr"]
    assert received.message["Subject"] == "Création d'une demande - Réf. 42 - « été »"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # implicit TLS: it is TLS
@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_tls_modes_with_authentication(certificate, mode):
    with MailServer(mode=mode, certificate=certificate, credentials=("achats", "s3cret")) as server:
        transport = transport_from_url(server.url(), ca_file=str(certificate.ca_file))
        connection = transport.connect()
        connection.send(message(), sender=SENDER, recipient="helene@exemple.fr")
        connection.close()
        assert len(server.wait_for(1)) == 1


def test_wrong_password_or_untrusted_certificate_means_unavailable_not_failed(certificate):
    with MailServer(mode="starttls", certificate=certificate, credentials=("achats", "s3cret")) as server:
        wrong = SmtpTransport(MailUrl("starttls", "127.0.0.1", server.port, "achats", "nope"),
                              ca_file=str(certificate.ca_file))
        with pytest.raises(Unavailable, match="authentication"):
            wrong.connect()
        untrusted = SmtpTransport(MailUrl("starttls", "127.0.0.1", server.port, "achats", "s3cret"))
        with pytest.raises(Unavailable, match="SSL"):
            untrusted.connect()
        assert server.received == []


def test_5xx_is_permanent_4xx_temporary(mail_server):
    mail_server.replies["inconnu@exemple.fr"] = "550 5.1.1 Utilisateur inconnu"
    mail_server.defer["plein@exemple.fr"] = 1
    connection = transport_from_url(mail_server.url()).connect()
    with pytest.raises(PermanentFailure, match=r"^550 5\.1\.1"):
        connection.send(message(), sender=SENDER, recipient="inconnu@exemple.fr")
    with pytest.raises(TemporaryFailure, match=r"^451") as deferred:
        connection.send(message(), sender=SENDER, recipient="plein@exemple.fr")
    assert not isinstance(deferred.value, Unavailable)
    connection.send(message(), sender=SENDER, recipient="plein@exemple.fr")  # the same session goes on
    connection.close()
    assert [r.rcpt_tos for r in mail_server.wait_for(1)] == [["plein@exemple.fr"]]


def test_no_server_is_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens there once closed
    with pytest.raises(Unavailable, match="ConnectionRefused"):
        transport_from_url(f"smtp://127.0.0.1:{port}", timeout=2).connect()


def test_maildir_keeps_each_mail_as_a_file(tmp_path):
    transport = transport_from_url(f"maildir://{tmp_path}/mail")
    assert isinstance(transport, MaildirTransport)
    connection = transport.connect()
    connection.send(message(), sender=SENDER, recipient="helene@exemple.fr")
    connection.send(message(subject="Deuxième"), sender=SENDER, recipient="helene@exemple.fr")
    files = sorted((tmp_path / "mail" / "new").iterdir())
    assert len(files) == 2
    subjects = {BytesParser(policy=policy.default).parsebytes(f.read_bytes())["Subject"] for f in files}
    assert subjects == {"Création d'une demande - Réf. 42 - « été »", "Deuxième"}
    assert len(mailbox.Maildir(tmp_path / "mail")) == 2


@pytest.mark.parametrize("subject", [
    "Compte entreprise - Nouvel utilisateur : Hélène Lefèvre",
    "Coffre-fort - Un document arrive à expiration : Attestation de régularité fiscale délivrée à Besançon",
    "Suppression du compte de l'entreprise Société d'Études Spatiales Françaises et Associés de Châteauroux",
])
def test_long_accented_headers_keep_their_spaces(subject):
    # EmailMessage's folding drops the space between two encoded words; the mails must not.
    name = "Hélène-Marie Lefèvre-Châteaubriand de la Tour d'Auvergne"
    wire = message(subject=subject, recipient_name=name).as_bytes()
    parsed = BytesParser(policy=policy.default).parsebytes(wire)
    assert parsed["Subject"] == subject
    assert parsed["To"].addresses[0].display_name == name
    assert wire.isascii()

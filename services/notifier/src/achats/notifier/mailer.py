"""Putting a mail on the wire: MIME message, SMTP (plain, STARTTLS, TLS, auth) or a Maildir, failures sorted.

Failures come in three kinds, because the sender treats them differently:
``Unavailable`` (the server cannot be reached or talked to: every mail waits), ``TemporaryFailure``
(4xx for this mail: it waits) and ``PermanentFailure`` (5xx for this mail: it fails at once).
"""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesParser
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import structlog

log = structlog.get_logger(__name__)

SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}


class DeliveryFailure(Exception):
    """A mail was not accepted."""


class TemporaryFailure(DeliveryFailure):
    """Try this mail again later (SMTP 4xx)."""


class Unavailable(TemporaryFailure):
    """The mail server cannot be reached or refuses the session: no mail can go now."""


class PermanentFailure(DeliveryFailure):
    """The server refused this mail for good (SMTP 5xx): never retried automatically."""


@dataclass(frozen=True)
class MailUrl:
    kind: str  # plain | starttls | tls | maildir
    host: str = ""
    port: int = 0
    username: str = ""
    password: str = ""
    path: str = ""

    def describe(self) -> str:
        """The URL without its password, for logs."""
        return f"maildir://{self.path}" if self.kind == "maildir" else f"{self.kind}://{self.host}:{self.port}"


def parse_mail_url(url: str) -> MailUrl:
    parts = urlsplit(url)
    if parts.scheme == "maildir":
        path = parts.netloc + parts.path
        if not path:
            raise ValueError("maildir:// needs a path (maildir:///var/mail)")
        return MailUrl(kind="maildir", path=unquote(path))
    if parts.scheme not in SCHEMES:
        raise ValueError(f"unsupported scheme {parts.scheme!r}: use smtp://, smtp+starttls://, smtps:// "
                         "or maildir://")
    kind, default_port = SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError("invalid port") from None
    if not parts.hostname:
        raise ValueError("a host is required (smtp://host:25)")
    return MailUrl(kind=kind, host=parts.hostname, port=port, username=unquote(parts.username or ""),
                   password=unquote(parts.password or ""))


def new_message_id(domain: str) -> str:
    return make_msgid(domain=domain)


# Bodies in quoted-printable: 7-bit clean for any relay, readable in the raw.
UTF8 = Charset("utf-8")
UTF8.body_encoding = QP


def build_message(*, sender: str, sender_name: str, recipient: str, recipient_name: str | None, subject: str,
                  text: str, html: str, message_id: str, date: datetime) -> Message:
    """multipart/alternative (text then HTML, UTF-8), headers encoded as RFC 2047 requires.

    Built with ``email.mime`` and ``email.header.Header`` rather than ``EmailMessage``: the latter's
    header folding drops the space between two encoded words ("Hélène Lefèvre" arrives as
    "HélèneLefèvre"; CPython 3.11 to 3.13), which ``Header`` does not.
    """
    message = MIMEMultipart("alternative")
    message.attach(MIMEText(text, "plain", UTF8))
    message.attach(MIMEText(html, "html", UTF8))
    message["From"] = formataddr((_one_line(sender_name), sender), charset="utf-8")
    message["To"] = formataddr((_one_line(recipient_name or ""), recipient), charset="utf-8")
    message["Subject"] = Header(_one_line(subject), "utf-8", header_name="Subject")
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Content-Language"] = "fr"
    # RFC 3834: out-of-office and other robots must not answer an automatic message.
    message["Auto-Submitted"] = "auto-generated"
    return message


def decoded_headers(message: Message, names: tuple[str, ...] = ("From", "To", "Subject", "Date", "Message-ID")
                    ) -> dict[str, str]:
    """The headers as a mail reader shows them (RFC 2047 decoded)."""
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes(), headersonly=True)
    return {name: str(parsed[name]) for name in names}


def _one_line(text: str) -> str:
    return " ".join(text.split())


class Connection(Protocol):
    def send(self, message: Message, *, sender: str, recipient: str) -> None:
        """Hand one mail over or raise a DeliveryFailure."""

    def close(self) -> None: ...


class MailTransport(Protocol):
    def connect(self) -> Connection:
        """A session to hand mails over; raises Unavailable."""

    def describe(self) -> str: ...


def _failure(code: int, text: bytes | str) -> DeliveryFailure:
    reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    message = f"{code} {reply}".strip()
    if code == 421:  # the server is closing the session: nothing more goes through it
        return Unavailable(message)
    if 500 <= code < 600:
        return PermanentFailure(message)
    return TemporaryFailure(message)


class SmtpConnection:
    def __init__(self, client: smtplib.SMTP):
        self.client = client

    def send(self, message: Message, *, sender: str, recipient: str) -> None:
        try:
            self.client.send_message(message, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _failure(code, text) from None
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, 421...
            raise _failure(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPNotSupportedError as exc:  # e.g. an address needs SMTPUTF8 the server lacks
            raise PermanentFailure(str(exc)) from None
        except (smtplib.SMTPException, OSError) as exc:  # disconnected, timeout, reset
            raise Unavailable(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        try:
            self.client.quit()
        except (smtplib.SMTPException, OSError):
            self.client.close()


class SmtpTransport:
    """SMTP with the standard library: plain, STARTTLS or implicit TLS, with optional authentication."""

    def __init__(self, url: MailUrl, *, timeout: float = 10.0, ca_file: str = "", local_hostname: str | None = None):
        self.url = url
        self.timeout = timeout
        self.ca_file = ca_file or None
        self.local_hostname = local_hostname
        if url.username and url.kind == "plain":
            log.warning("mail.smtp_auth_without_tls", server=url.describe())

    def describe(self) -> str:
        return self.url.describe()

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def connect(self) -> SmtpConnection:
        url = self.url
        client: smtplib.SMTP | None = None
        try:
            if url.kind == "tls":
                client = smtplib.SMTP_SSL(url.host, url.port, local_hostname=self.local_hostname,
                                          timeout=self.timeout, context=self._tls_context())
            else:
                client = smtplib.SMTP(url.host, url.port, local_hostname=self.local_hostname, timeout=self.timeout)
            client.ehlo_or_helo_if_needed()
            if url.kind == "starttls":
                client.starttls(context=self._tls_context())
                client.ehlo()
            if url.username:
                client.login(url.username, url.password)
        except smtplib.SMTPAuthenticationError as exc:
            # A configuration problem, not the mail's fault: every mail waits until it is fixed.
            _close_quietly(client)
            log.error("mail.smtp_authentication_failed", server=url.describe(), code=exc.smtp_code)
            raise Unavailable(f"authentication failed: {exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:
            _close_quietly(client)
            raise Unavailable(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None
        return SmtpConnection(client)


def _close_quietly(client: smtplib.SMTP | None) -> None:
    if client is not None:
        try:
            client.close()
        except OSError:
            pass


class MaildirConnection:
    def __init__(self, box: mailbox.Maildir):
        self.box = box

    def send(self, message: Message, *, sender: str, recipient: str) -> None:
        try:
            self.box.add(message)
        except OSError as exc:  # disk full, permissions: may go away
            raise Unavailable(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        pass


class MaildirTransport:
    """Mails written as files (``new/``) of a Maildir: the embedded mode's outbox, readable by any mail tool."""

    def __init__(self, url: MailUrl):
        self.path = Path(url.path)
        self.url = url

    def describe(self) -> str:
        return self.url.describe()

    def connect(self) -> MaildirConnection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return MaildirConnection(mailbox.Maildir(self.path, create=True))
        except OSError as exc:
            raise Unavailable(f"{type(exc).__name__}: {exc}") from None


def transport_from_url(url: str, *, timeout: float = 10.0, ca_file: str = "") -> MailTransport:
    parsed = parse_mail_url(url)
    if parsed.kind == "maildir":
        return MaildirTransport(parsed)
    return SmtpTransport(parsed, timeout=timeout, ca_file=ca_file)

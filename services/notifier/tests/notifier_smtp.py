"""A local SMTP server (aiosmtpd) that can refuse, defer, require STARTTLS or TLS and authentication.

The chassis' ``SmtpSink`` accepts everything; the notifier's tests also need a server that answers
550 or 451 to chosen recipients and that speaks TLS with a login, so it lives here.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections import Counter
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, NamedTuple

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


class Received(NamedTuple):
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    at: float  # time.time() of receipt


class _Controller(Controller):
    """Binds its socket itself, so port 0 gives a free port and a restart can reuse it."""

    def _create_server(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.hostname, self.port))
        self.port = sock.getsockname()[1]
        return self.loop.create_server(self._factory_invoker, sock=sock, ssl=self.ssl_context)


class MailServer:
    """SMTP server on 127.0.0.1 keeping what it accepts.

    ``replies``: recipient -> SMTP reply to RCPT TO (``"550 5.1.1 Unknown user"``); ``defer``:
    recipient -> how many first tries get ``451`` before the mail is accepted.
    ``mode``: ``plain``, ``starttls`` (STARTTLS required) or ``tls`` (implicit TLS).
    """

    def __init__(self, *, mode: str = "plain", certificate: TestCertificate | None = None,
                 credentials: tuple[str, str] | None = None) -> None:
        self.mode = mode
        self.certificate = certificate
        self.credentials = credentials
        self.replies: dict[str, str] = {}
        self.defer: dict[str, int] = {}
        self.rcpt_attempts: Counter[str] = Counter()
        self._received: list[Received] = []
        self._cond = threading.Condition()
        self._controller: _Controller | None = None
        self._port = 0

    @property
    def port(self) -> int:
        return self._port

    def url(self, scheme: str | None = None) -> str:
        scheme = scheme or {"plain": "smtp", "starttls": "smtp+starttls", "tls": "smtps"}[self.mode]
        login = f"{self.credentials[0]}:{self.credentials[1]}@" if self.credentials else ""
        return f"{scheme}://{login}127.0.0.1:{self.port}"

    # --- aiosmtpd hooks ---------------------------------------------------------------------

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options: list[str]) -> str:
        self.rcpt_attempts[address] += 1
        if address in self.replies:
            return self.replies[address]
        if self.defer.get(address, 0) > 0:
            self.defer[address] -= 1
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content or envelope.content
        message = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
        with self._cond:
            self._received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw, message, time.time()))
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    def _authenticate(self, server, session, envelope, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and self.credentials is not None and (
            auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself

    # --- control ------------------------------------------------------------------------------

    def start(self) -> MailServer:
        kwargs: dict[str, Any] = {"server_hostname": "localhost"}
        if self.credentials:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        if self.mode == "starttls":
            kwargs.update(tls_context=self.certificate.server_context(), require_starttls=True)
        elif self.mode == "tls":
            # aiosmtpd only counts STARTTLS as TLS for AUTH; here the whole session is TLS already.
            kwargs.update(ssl_context=self.certificate.server_context(), auth_require_tls=False)
        controller = _Controller(self, hostname="127.0.0.1", port=self._port, **kwargs)
        controller.start()
        self._controller, self._port = controller, controller.port
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def received(self) -> list[Received]:
        with self._cond:
            return list(self._received)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} message(s), got {len(self._received)}")
                self._cond.wait(remaining)
            return list(self._received)

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TestCertificate:
    """A test CA and a server certificate for 127.0.0.1 and localhost, written to ``folder``."""

    __test__ = False

    def __init__(self, folder: Path) -> None:
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Notifier test CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
              .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                           crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256()))
        self.ca_file = folder / "ca.pem"
        self.cert_file = folder / "server.pem"
        self.key_file = folder / "server.key"
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self.cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        self.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

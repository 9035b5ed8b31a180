"""The whole platform as separate processes for end-to-end tests: every service (api and worker) on
its own PostgreSQL database, RabbitMQ, an SMTP sink, the INSEE stand-in, and the gateway in front."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import requests

from achats.chassis.testing.server import free_port

BIN = Path(sys.executable).parent
ISSUER, AUDIENCE = "http://localhost:8080/identity", "achats"
SERVICES = ("identity", "company-registry", "notifier", "helpdesk", "signature", "consultations")


def available(name: str) -> bool:
    return shutil.which(f"achats-{name}", path=str(BIN)) is not None


@dataclass
class Platform:
    gateway: str
    ports: dict[str, int]
    env: dict[str, str]
    smtp: object  # an SmtpSink, or a Maildir folder in the embedded mode
    insee: object
    processes: list[subprocess.Popen] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.gateway}{path}"

    def _messages(self) -> list[EmailMessage]:
        if isinstance(self.smtp, Path):
            parser = BytesParser(policy=default)
            files = sorted((self.smtp / "new").glob("*"), key=lambda p: p.stat().st_mtime_ns)
            return [parser.parsebytes(p.read_bytes()) for p in files]
        return list(self.smtp.messages)

    def mails_to(self, address: str, count: int = 1, timeout: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self._messages() if address in (m["To"] or "")]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def command(self, service: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / f"achats-{service}"), *args], env=self.env, capture_output=True,
                              text=True, timeout=120)


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def link_in(message: EmailMessage, pattern: str = r"https?://\S+") -> str:
    found = re.search(pattern, body_text(message))
    assert found, body_text(message)
    return found.group(0).rstrip(".,;)>")


def confirm_email(platform: Platform, address: str) -> None:
    """Follow the confirmation link of the latest account-creation mail to ``address``, as its reader would:
    identity refuses a login before it."""
    mails = [m for m in platform.mails_to(address) if "/compte/confirmation" in body_text(m)]
    assert mails, f"no confirmation mail to {address}"
    link = link_in(mails[-1], r"https?://\S+/compte/confirmation\S+")
    done = requests.post(platform.url("/api/identity/email-verifications"), timeout=10,
                         json={"token": link.split("token=")[1]})
    assert done.status_code == 204, done.text


def _wait_ready(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready after {timeout} s")


@contextlib.contextmanager
def running_platform(create_database, amqp_url: str, smtp_sink, insee) -> Iterator[Platform]:
    """Start what is installed of the platform; stop it all (SIGTERM, then wait) on exit."""
    present = [name for name in SERVICES if available(name)]
    ports = {name: free_port() for name in present}
    ports["gateway"] = free_port()
    namespace = f"e2e{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.endswith(("DATABASE_URL", "AMQP_URL"))}
    env.update({
        "AMQP_URL": amqp_url, "EVENTS_EXCHANGE": f"{namespace}.events", "QUEUE_PREFIX": f"{namespace}.",
        "JWKS_URL": f"http://127.0.0.1:{ports['identity']}/identity/.well-known/jwks.json",
        "JWT_ISSUER": ISSUER, "JWT_AUDIENCE": AUDIENCE, "LOG_JSON": "true", "LOG_LEVEL": "WARNING",
        "RELAY_POLL_INTERVAL": "0.5", "RETRY_DELAYS": "0.5,1",
        "IDENTITY_REGISTRY_URL": f"http://127.0.0.1:{ports['company-registry']}",
        "HELPDESK_REGISTRY_URL": f"http://127.0.0.1:{ports['company-registry']}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['gateway']}",
        "IDENTITY_TRUST_FORWARDED_FOR": "true",
        "COMPANY_REGISTRY_INSEE_BASE_URL": insee.base_url, "COMPANY_REGISTRY_INSEE_API_KEY": insee.api_key,
        "NOTIFIER_MAIL_URL": f"smtp://127.0.0.1:{smtp_sink.port}", "NOTIFIER_MAIL_DOMAIN": "marches.example.fr",
        "NOTIFIER_REVEAL_LINKS": "true",
        "GATEWAY_UPSTREAMS": ",".join(f"{n}=http://127.0.0.1:{ports[n]}" for n in present),
        "GATEWAY_RATE_SENSITIVE_PER_MINUTE": "200",
    })
    if "signature" in present:
        # The PKI shipped for `make run`, whose certificates point to its stand-ins on 8191-8193.
        from achats.signature.app import SERVICE as SIGNATURE

        for key, value in SIGNATURE.embedded.items():
            env[f"SIGNATURE_{key}"] = value.format(var=env.get("TMPDIR", "/tmp") + f"/{namespace}")
    for name in present:
        env[f"{name.upper().replace('-', '_')}_DATABASE_URL"] = create_database(f"e2e_{name.replace('-', '_')}")
    platform = Platform(gateway=f"http://127.0.0.1:{ports['gateway']}", ports=ports, env=env, smtp=smtp_sink,
                        insee=insee)
    standins = contextlib.ExitStack()
    try:
        if "signature" in present:
            from achats.chassis.testing.server import serving
            from achats.signature.testpki import standins as signature_standins

            for factory, port in ((signature_standins.pki_app, 8191), (signature_standins.tsa_app, 8192),
                                  (signature_standins.trust_lists_app, 8193)):
                standins.enter_context(serving(factory(), port=port))
        for name in present:
            migrated = platform.command(name, "migrate")
            assert migrated.returncode == 0, migrated.stderr[-2000:]
        for name in present:
            for args in (("serve", "--host", "127.0.0.1", "--port", str(ports[name])), ("worker",)):
                platform.processes.append(subprocess.Popen([str(BIN / f"achats-{name}"), *args], env=env,
                                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        gateway = subprocess.Popen([str(BIN / "achats-gateway"), "serve", "--host", "127.0.0.1", "--port",
                                    str(ports["gateway"])], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        platform.processes.append(gateway)
        for name in present:
            _wait_ready(f"http://127.0.0.1:{ports[name]}/readyz", platform.processes[present.index(name) * 2])
        _wait_ready(f"{platform.gateway}/readyz", gateway)
        yield platform
    finally:
        for process in platform.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in platform.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        standins.close()


@contextlib.contextmanager
def embedded_platform(var: Path) -> Iterator[Platform]:
    """`make run`: the all-in-one launcher, mails in its Maildir, the stand-in on its usual port."""
    from achats.company_registry.standin.testing import StandinControl

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.endswith(("DATABASE_URL", "AMQP_URL"))}
    launcher = subprocess.Popen([sys.executable, str(root / "deploy" / "local" / "launcher.py"), "--var", str(var)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    platform = Platform(gateway="http://127.0.0.1:8080", ports={}, env=env, smtp=var / "mail",
                        insee=StandinControl("http://127.0.0.1:8190/api-sirene/3.11"), processes=[launcher])
    try:
        _wait_ready(f"{platform.gateway}/readyz", launcher)
        yield platform
    finally:
        launcher.send_signal(signal.SIGINT)
        try:
            launcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            launcher.kill()

"""Composition root of the notifier: the service definition every entry point builds from."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from achats.chassis.app import Runtime
from achats.chassis.service import ServiceDefinition

from . import events
from .mailer import transport_from_url
from .rendering import Renderer
from .sender import MailSender
from .settings import NotifierSettings

HERE = Path(__file__).parent


def configure(runtime: Runtime) -> None:
    settings: NotifierSettings = runtime.settings  # type: ignore[assignment]
    runtime.extras["renderer"] = Renderer(platform_name=settings.platform_name, support_phone=settings.support_phone,
                                          public_base_url=settings.public_base_url, timezone=settings.mail_timezone)
    runtime.extras["mail_transport"] = transport_from_url(settings.mail_url, timeout=settings.mail_timeout,
                                                          ca_file=settings.mail_tls_ca_file)
    # Set after a commit that queued mail (by the consumer or the API's retry): the senders wake at once.
    runtime.extras["mail_wake"] = threading.Event()


def senders(runtime: Runtime) -> list[Callable[[threading.Event], None]]:
    settings: NotifierSettings = runtime.settings  # type: ignore[assignment]
    return [MailSender(db=runtime.db, transport=runtime.extras["mail_transport"], settings=settings,
                       wake=runtime.extras["mail_wake"], name=f"sender-{n}").run
            for n in range(settings.mail_senders)]


SERVICE = ServiceDefinition(
    name="notifier",
    port=8105,
    spec=HERE / "openapi.yaml",
    settings_class=NotifierSettings,
    migrations=HERE / "migrations",
    configure=configure,
    handlers=events.handlers,
    background=senders,
    embedded={
        "MAIL_URL": "maildir://{var}/mail",
        "MAIL_DOMAIN": "localhost",
        "PUBLIC_BASE_URL": "http://localhost:8080",
        # The API is how someone running `make run` reads the links of the mails it "sent".
        "REVEAL_LINKS": "true",
    },
)

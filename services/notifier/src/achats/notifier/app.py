"""Composition root of the notifier: the service definition every entry point builds from."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from achats.chassis.app import Runtime
from achats.chassis.service import ServiceDefinition

from . import consumers, deps
from .sender import MailSender
from .settings import NotifierSettings

HERE = Path(__file__).parent


def senders(runtime: Runtime) -> list[Callable[[threading.Event], None]]:
    settings: NotifierSettings = runtime.settings  # type: ignore[assignment]
    return [MailSender(db=runtime.db, transport=runtime.deps.mail_transport, settings=settings,
                       wake=runtime.deps.mail_wake, name=f"sender-{n}").run
            for n in range(settings.mail_senders)]


SERVICE = ServiceDefinition(
    name="notifier",
    port=8105,
    spec=HERE / "openapi.yaml",
    settings_class=NotifierSettings,
    migrations=HERE / "migrations",
    dependencies=deps.build,
    handlers=consumers.handlers,
    background=senders,
    embedded={
        "MAIL_URL": "maildir://{var}/mail",
        "MAIL_DOMAIN": "localhost",
        "PUBLIC_BASE_URL": "http://localhost:8080",
        # The API is how someone running `make run` reads the links of the mails it "sent".
        "REVEAL_LINKS": "true",
    },
)

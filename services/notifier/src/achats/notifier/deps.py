"""The notifier's dependencies, built once per process by its ServiceDefinition (``runtime.deps``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from achats.chassis.app import Runtime, current_runtime

from .mailer import MailTransport, transport_from_url
from .rendering import Renderer
from .settings import NotifierSettings


@dataclass(frozen=True)
class Dependencies:
    renderer: Renderer  # the mails' templates, with the platform's name, phone and public address
    mail_transport: MailTransport  # SMTP (or a maildir in `make run`)
    # Set after a commit that queued mail (by the consumer or the API's retry): the senders wake at once.
    mail_wake: threading.Event = field(default_factory=threading.Event)


def build(runtime: Runtime) -> Dependencies:
    settings: NotifierSettings = runtime.settings  # type: ignore[assignment]
    return Dependencies(
        renderer=Renderer(platform_name=settings.platform_name, support_phone=settings.support_phone,
                          public_base_url=settings.public_base_url, timezone=settings.mail_timezone),
        mail_transport=transport_from_url(settings.mail_url, timeout=settings.mail_timeout,
                                          ca_file=settings.mail_tls_ca_file))


def current() -> Dependencies:
    """The dependencies of the app serving the request."""
    return current_runtime().deps

"""Settings of the notifier: where mail goes, who it comes from, and how hard delivery tries."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from achats.chassis.settings import ServiceSettings, SettingsError

from .mailer import parse_mail_url


@dataclass(frozen=True)
class NotifierSettings(ServiceSettings):
    # Required (keyword-only: a dataclass field without default cannot follow the base's defaults).
    # smtp://user:pass@host:25, smtp+starttls://host:587, smtps://host:465 or maildir:///path
    mail_url: str = field(kw_only=True)
    # Domain of the sender address and of the Message-IDs.
    mail_domain: str = field(kw_only=True)
    # Base of the links to the platform in the mails (home page, account pages).
    public_base_url: str = field(kw_only=True)
    mail_from: str = ""  # default: nepasrepondre@<MAIL_DOMAIN>
    platform_name: str = "La plateforme des marchés publics"
    support_phone: str = "08 20 20 77 43"
    # Dates and times in the mails are shown in this zone (payloads carry UTC).
    mail_timezone: str = "Europe/Paris"
    # CA bundle to verify the SMTP server's certificate with (STARTTLS, smtps); empty: the system's.
    mail_tls_ca_file: str = ""
    mail_timeout: float = 10.0
    # Transient failures wait mail_retry_initial seconds, doubling up to mail_retry_max, with jitter;
    # after mail_give_up_after seconds a mail is marked failed.
    mail_retry_initial: float = 30.0
    mail_retry_max: float = 3600.0
    mail_give_up_after: float = 86_400.0
    mail_batch_size: int = 50
    # The sender wakes on every commit that queues mail; it also polls this often.
    mail_poll_interval: float = 1.0
    # Sender threads per worker process (each with its own SMTP connection).
    mail_senders: int = 1
    # Sent and failed mails are deleted after this many days (they hold personal data).
    mail_retention_days: int = 90
    # Whether the API shows the single-use links (e-mail verification, password reset) of the mails it
    # returns. Off in production, so that reading a mail never lets anyone take over an account; the
    # embedded mode turns it on, because there the API is how a developer gets those links.
    reveal_links: bool = False
    max_page_size: int = 100

    def __post_init__(self) -> None:
        problems = []
        try:
            parse_mail_url(self.mail_url)
        except ValueError as exc:
            problems.append(f"MAIL_URL: {exc}")
        if not self.mail_domain.strip():
            problems.append("MAIL_DOMAIN must not be empty")
        if not self.public_base_url.startswith(("http://", "https://")):
            problems.append("PUBLIC_BASE_URL must be an http(s) URL")
        try:
            ZoneInfo(self.mail_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"MAIL_TIMEZONE: unknown time zone {self.mail_timezone!r} (is tzdata installed?)")
        if self.mail_senders < 1 or self.mail_batch_size < 1:
            problems.append("MAIL_SENDERS and MAIL_BATCH_SIZE must be at least 1")
        if problems:
            raise SettingsError(f"Invalid configuration for service {self.service!r}: " + "; ".join(problems))

    @property
    def sender(self) -> str:
        return self.mail_from or f"nepasrepondre@{self.mail_domain}"

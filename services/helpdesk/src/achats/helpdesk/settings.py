"""Settings of the helpdesk: the support's phone, follow links, attachment limits, automatic closing."""

from __future__ import annotations

from dataclasses import dataclass

from achats.chassis.settings import ServiceSettings, SettingsError

MIB = 1024 * 1024


@dataclass(frozen=True)
class HelpdeskSettings(ServiceSettings):
    # Shown once the form is sent and in every mail (the notifier has its own copy for the mails).
    support_phone: str = "08 20 20 77 43"
    support_hours: str = "de 9h à 19h"
    # Applicative context of the requests (« Plate-forme », « Version »).
    platform_name: str = "Plateforme des achats"
    platform_version: str = "2026.1"
    # Where requesters follow their ticket (the web front end through the gateway); the capability
    # travels in the fragment of this page's address, which browsers never send to a server.
    public_base_url: str = "http://localhost:8080"
    follow_path: str = "/assistance/demande"
    # A follow link works this many days after the mail that carried it (each mail carries a new one).
    follow_link_days: int = 90
    # The company registry, asked for the requester's company name when the token has no company_name.
    registry_url: str = "http://127.0.0.1:8102"
    # Attachments: size of one file, files per message, files per ticket (all messages together).
    attachment_max_bytes: int = 5 * MIB
    attachments_per_message: int = 5
    attachments_per_ticket: int = 30
    # Several attachments per request: the body limit follows the attachment limits by default.
    max_body_bytes: int = 26 * MIB
    # Resolved tickets are closed this many days after their resolution; the job runs this often (s).
    auto_close_days: int = 7
    auto_close_interval: float = 3600.0

    def __post_init__(self) -> None:
        problems = []
        if not self.public_base_url.startswith(("http://", "https://")):
            problems.append("PUBLIC_BASE_URL must be an http(s) URL")
        if not self.follow_path.startswith("/"):
            problems.append("FOLLOW_PATH must start with /")
        if any(ch.isspace() or ch == "#" for ch in self.public_base_url + self.follow_path):
            problems.append("PUBLIC_BASE_URL and FOLLOW_PATH must hold no blank and no #")
        for name in ("follow_link_days", "attachment_max_bytes", "attachments_per_message",
                     "attachments_per_ticket", "auto_close_days"):
            if getattr(self, name) < 1:
                problems.append(f"{name.upper()} must be at least 1")
        if self.auto_close_interval <= 0:
            problems.append("AUTO_CLOSE_INTERVAL must be positive")
        if problems:
            raise SettingsError(f"Invalid configuration for service {self.service!r}: " + "; ".join(problems))

    def follow_url(self, reference: str, token: str) -> str:
        return f"{self.public_base_url.rstrip('/')}{self.follow_path.rstrip('/')}/{reference}#{token}"

"""Rendering a mail: Jinja2 templates (text and autoescaped HTML on one layout), French dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape

from .mails import Mail

TEMPLATES_DIR = Path(__file__).parent / "templates"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


class RenderingError(ValueError):
    """A template could not be rendered with the data given."""


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(value)


def date_fr(value: date | str) -> str:
    """``2025-04-01`` -> ``1er avril 2025``."""
    day = _as_date(value)
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def mask_email(address: str) -> str:
    """``helene.lefevre@etudes-spatiales.example`` -> ``he***@etudes-spatiales.example``.

    For mails to a mailbox that may no longer be the user's (the previous address after a change: a
    mailbox handed on to a successor, or taken over, is a common reason to change it): its owner
    recognises the address, and the domain, without the mail disclosing where the account now writes.
    The length of the hidden part is not shown either.
    """
    local, _, domain = address.rpartition("@")
    if not local:
        return "***"
    return f"{local[:2] if len(local) > 3 else local[:1]}***@{domain}"


class Renderer:
    """Renders the templates of ``templates/`` with the platform's settings as globals."""

    def __init__(self, *, platform_name: str, support_phone: str, public_base_url: str,
                 timezone: str = "Europe/Paris") -> None:
        self.timezone = ZoneInfo(timezone)
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
            undefined=StrictUndefined,  # a variable missing from the payload is an error, never a blank
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["date_fr"] = date_fr
        self.env.filters["datetime_fr"] = self.datetime_fr
        self.env.filters["mask_email"] = mask_email
        self.env.globals.update(platform_name=platform_name, support_phone=support_phone,
                                public_base_url=public_base_url)

    def datetime_fr(self, value: datetime | str) -> str:
        """``2025-03-14T09:35:00Z`` -> ``14 mars 2025 à 10 h 35`` (in the mails' time zone)."""
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(self.timezone)
        return f"{date_fr(local.date())} à {local.hour} h {local.minute:02d}"

    def render(self, mail: Mail) -> RenderedMail:
        try:
            return self.render_template(mail.template.name, mail.context)
        except (TemplateError, ValueError, TypeError) as exc:
            raise RenderingError(f"template {mail.template.name}: {type(exc).__name__}: {exc}") from exc

    def render_template(self, name: str, context: dict[str, Any]) -> RenderedMail:
        text_template = self.env.get_template(f"{name}.txt")
        subject_parts = text_template.blocks["subject"](text_template.new_context(dict(context)))
        # One line, whatever the payload holds: a header never carries a line break.
        subject = " ".join("".join(subject_parts).split())
        text = _tidy(text_template.render(context))
        html = self.env.get_template(f"{name}.html").render({**context, "mail_subject": subject}).rstrip("\n") + "\n"
        return RenderedMail(subject=subject, text=text, html=html)

    def template_names(self) -> list[str]:
        return sorted(name[:-4] for name in self.env.list_templates(extensions=["txt"])
                      if not name.startswith(("_", "layout")))


def _tidy(text: str) -> str:
    """At most one blank line in a row, no trailing spaces except the signature separator."""
    lines = [line if line == "-- " else line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"

"""/templates: the mail templates, and a preview of each with the contract's sample payload."""

from __future__ import annotations

from .. import deps, service
from ..mails import TEMPLATES
from . import authorize


def search(token_info):
    authorize(token_info)
    return {"items": [{"name": t.name, "description": t.description, "events": list(t.events)}
                      for t in TEMPLATES.values()]}, 200


def preview(token_info, template):
    authorize(token_info)
    mail, data = service.preview(renderer=deps.current().renderer, template=template)
    return {"template": template, "subject": mail.subject, "text": mail.text, "html": mail.html, "data": data}, 200

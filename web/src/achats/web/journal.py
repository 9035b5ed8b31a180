"""« Journal » of the back office: the staff's actions audited by identity (« Comptes »), the company registry
(« Entreprises ») and the helpdesk (« Assistance »), merged into one list, newest first.

Each service pages its own audit with a cursor of its own (offset or keyset: the web app does not read them).
The page's ``suite`` holds, per service, the cursor of the page last fetched, how many of its entries were already
shown (``skip``) and whether it has no more (``done``). A page shows only entries no unseen entry can precede:
those at least as recent as the oldest fetched entry of every service that still has more."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import gettext as _

START = {"cursor": None, "skip": 0, "done": False}


@dataclass
class Fetched:
    items: list[dict]  # normalised, the entries already shown left out
    following: str | None  # the service's cursor after the page fetched
    position: dict  # the state this page was fetched from


def decode_state(raw: str | None) -> dict:
    """The ``suite`` parameter; anything else than one of ours starts again from the most recent."""
    if not raw:
        return {}
    try:
        state = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        return {key: {"cursor": value["cursor"] if isinstance(value["cursor"], str) else None,
                      "skip": max(0, int(value["skip"])), "done": bool(value["done"])}
                for key, value in state.items() if isinstance(value, dict)}
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}


def encode_state(state: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def merge_page(pages: dict[str, Fetched], size: int) -> tuple[list[dict], dict]:
    """The entries to show and the state of the next page ({} when every service is at its end)."""
    unsafe_before = max((page.items[-1]["moment"] for page in pages.values() if page.following and page.items),
                        default=None)
    merged = sorted((item for page in pages.values() for item in page.items),
                    key=lambda item: item["moment"], reverse=True)
    shown = [item for item in merged if unsafe_before is None or item["moment"] >= unsafe_before][:size]
    state, more = {}, False
    for key, page in pages.items():
        used = sum(1 for item in shown if item["service"] == key)
        position = page.position
        if position["done"]:
            state[key] = position
            continue
        if used == len(page.items):
            position = ({"cursor": page.following, "skip": 0, "done": False} if page.following
                        else {"cursor": None, "skip": 0, "done": True})
        else:
            position = {**position, "skip": position["skip"] + used}
        state[key] = position
        more = more or not position["done"]
    return shown, state if more else {}


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def normalise(service: str, item: dict) -> dict:
    """One service's entry as the page shows it: when, who, what, on what."""
    moment = _moment(item["at"])
    found = {"service": service, "moment": moment, "at": moment.isoformat(),
             "shown_at": moment.strftime("%Y-%m-%d %H:%M:%S") + " UTC"}
    detail = item.get("detail") or {}
    if service == "comptes":
        actions = {"account.created": _("Compte créé"), "account.unlocked": _("Compte déverrouillé"),
                   "account.disabled": _("Compte désactivé"), "account.enabled": _("Compte réactivé")}
        action = actions.get(item["action"], item["action"])
        if detail.get("role"):
            action += f" ({detail['role']})"
        actor = _("ligne de commande") if item.get("actor_login") == "cli" else item.get("actor_login")
        return {**found, "actor": actor or "—", "action": action, "target": item.get("target_login") or "—"}
    actor = item.get("actor") or {}
    who = actor.get("name") or actor.get("email") or actor.get("id") or "—"
    if service == "entreprises":
        actions = {"company.accepted": _("Entreprise validée"), "company.rejected": _("Entreprise refusée")}
        target = item.get("company_name") or "—"
        if item.get("siren"):
            target += " " + _("(SIREN %(siren)s)", siren=item["siren"])
        return {**found, "actor": who, "action": actions.get(item["action"], item["action"]), "target": target}
    actions = {"ticket.assigned": _("Demande attribuée"), "ticket.replied": _("Réponse au demandeur"),
               "ticket.information_requested": _("Complément d'information demandé"),
               "ticket.note_added": _("Note interne ajoutée"), "ticket.status_changed": _("Changement d'état"),
               "ticket.merged": _("Doublon fusionné"), "ticket.links_revoked": _("Liens de suivi révoqués"),
               "ticket.link_sent": _("Nouveau lien de suivi envoyé"), "faq.created": _("Question de FAQ créée"),
               "faq.edited": _("Question de FAQ modifiée"), "faq.published": _("Question de FAQ publiée"),
               "faq.unpublished": _("Question de FAQ dépubliée"), "faq.moved": _("Question de FAQ déplacée"),
               "faq.deleted": _("Question de FAQ supprimée"),
               "faq_category.created": _("Catégorie de FAQ créée"),
               "faq_category.edited": _("Catégorie de FAQ modifiée"),
               "faq_category.moved": _("Catégorie de FAQ déplacée"),
               "faq_category.deleted": _("Catégorie de FAQ supprimée")}
    target = item.get("target") or {}
    if target.get("kind") == "ticket":
        shown_target = _("Demande n° %(reference)s", reference=target.get("reference") or "—")
    elif target.get("kind") == "faq_category":
        shown_target = _("Catégorie de FAQ %(id)s", id=(target.get("id") or "—")[:8])
    else:
        shown_target = _("Question de FAQ %(id)s", id=(target.get("id") or "—")[:8])
    return {**found, "actor": who, "action": actions.get(item["action"], item["action"]), "target": shown_target}

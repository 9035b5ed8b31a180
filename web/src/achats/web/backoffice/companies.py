"""« Entreprises » (platform administrators): the companies typed by hand while INSEE was down, the result of the
registry's automatic re-verification, « Valider » / « Refuser » with a reason, and the registry's journal of these
decisions. Everything is the registry's (``/registry/admin/...`` with the user's token): it checks the role
``platform_admin`` and its 403 is the 403 page; its French messages are shown as they are."""

from __future__ import annotations

import flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import forms
from . import blueprint, call

# The registry's review statuses, as the page's filter names them.
STATUSES = {"pending": _l("À décider"), "insee": _l("Confirmées par l’INSEE"), "accepted": _l("Validées"),
            "rejected": _l("Refusées")}
# INSEE's answer at the last automatic re-verification: label and DSFR badge kind.
OUTCOMES = {"matches": (_l("Conforme à l’INSEE"), "success"), "disagrees": (_l("En désaccord avec l’INSEE"), "error"),
            "unavailable": (_l("INSEE toujours indisponible"), "warning")}
ACTIONS = {"company.accepted": _l("Entreprise validée"), "company.rejected": _l("Entreprise refusée")}
DONE = {"accept": lambda name: _("L’entreprise %(name)s est validée : elle est désormais vérifiée.", name=name),
        "reject": lambda name: _("L’entreprise %(name)s est refusée.", name=name)}
PAGE_SIZE = 25


def _registry(method: str, path: str, **kwargs):
    return call("registry", method, f"/registry/admin{path}", **kwargs)


def _page(status: str, *, cursor: str | None = None, errors: dict | None = None, values: dict | None = None,
          error: str | None = None, done: str | None = None, code: int = 200):
    params = {"status": status, "limit": PAGE_SIZE}
    if cursor:
        params["cursor"] = cursor
    listed = _registry("GET", "/manual-companies", params=params)
    if listed.status_code == 200:
        found = listed.json()
    else:
        found, error = {"items": [], "counts": {}, "next_cursor": None}, forms.problem_of(listed).detail
        code = listed.status_code
    journal = _registry("GET", "/audit", params={"limit": 20})
    entries = journal.json()["items"] if journal.status_code == 200 else []
    return flask.render_template(
        "backoffice/companies.html", status=status, companies=found["items"], counts=found["counts"],
        next_url=flask.url_for("backoffice.companies", statut=status, suite=found["next_cursor"])
        if found.get("next_cursor") else None,
        entries=entries, statuses=STATUSES, outcomes=OUTCOMES, actions=ACTIONS, errors=errors or {},
        values=values or {}, error=error, done=done, bo_page="backoffice.companies"), code


@blueprint.get("/entreprises")
def companies():
    args = flask.request.args
    status = args.get("statut") if args.get("statut") in STATUSES else "pending"
    done = args.get("fait")
    name = args.get("entreprise", "")[:200]
    return _page(status, cursor=(args.get("suite") or "")[:300] or None,
                 done=DONE[done](name) if done in DONE and name else None)


@blueprint.post("/entreprises/<uuid:company_id>/decision")
def company_decision(company_id):
    form = flask.request.form
    decision = form.get("decision")
    reason = form.get("motif", "")
    body = {"decision": decision if decision in DONE else "", "reason": reason.strip()[:500]}
    if not body["reason"]:
        body.pop("reason")
    response = _registry("POST", f"/manual-companies/{company_id}/decision", json=body)
    if response.status_code == 200:
        return flask.redirect(flask.url_for("backoffice.companies", fait=decision,
                                            entreprise=response.json()["name"]), code=303)
    # The registry's refusal (no reason for a refusal, already decided...): its message beside the reason of that
    # company, or above the list; what was typed is kept.
    problem = forms.problem_of(response)
    field = problem.field_errors({"reason": "motif"}).get("motif")
    errors = {str(company_id): field} if field else {}
    return _page("pending", errors=errors, values={str(company_id): reason},
                 error=None if field else problem.detail, code=response.status_code)

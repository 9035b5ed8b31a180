"""« FAQ » (issue 17 item 3): the helpdesk's categories of « Ma demande » and their questions, published or
not, in their order, with the deflection of each question (``GET /helpdesk/faq/stats``: times shown, times
« La FAQ m'a permis de résoudre mon problème » was chosen after it, the rate); categories created and edited.

Every read and change is the helpdesk's (``/helpdesk/categories…``, ``/helpdesk/faq…``) with the user's token:
it is the helpdesk that lets only support agents and administrators manage the FAQ (its 403 is the 403 page).
"""

from __future__ import annotations

import flask
from flask_babel import format_percent
from flask_babel import lazy_gettext as _l

from .. import forms
from . import blueprint, call

# What the list page says after an action (``fait=``), by the action.
DONE = {"categorie-creee": _l("La catégorie a été créée."), "categorie-modifiee": _l("La catégorie a été modifiée."),
        "categorie-deplacee": _l("L’ordre des catégories a été modifié.")}
CATEGORY_FIELDS = {"label": "label", "slug": "label", "description": "description", "active": "active"}


def _categories() -> list[dict]:
    response = call("helpdesk", "GET", "/helpdesk/categories", params={"include_inactive": "true"})
    if response.status_code != 200:
        flask.abort(503)
    return response.json()["items"]


def _entries() -> list[dict]:
    """Every question, published or not, in display order (page after page of the helpdesk's list)."""
    entries, cursor = [], None
    while True:
        params = {"include_inactive": "true", "limit": 100, **({"cursor": cursor} if cursor else {})}
        response = call("helpdesk", "GET", "/helpdesk/faq", params=params)
        if response.status_code != 200:
            flask.abort(503)
        page = response.json()
        entries += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return entries


def _rate(value) -> str:
    return "–" if value is None else format_percent(value, "#,##0 %")


@blueprint.get("/faq")
def faq():
    categories, entries = _categories(), _entries()
    stats = call("helpdesk", "GET", "/helpdesk/faq/stats")
    rows = stats.json()["categories"] if stats.status_code == 200 else []
    by_category = {row["category"]["id"]: row for row in rows}
    by_entry = {e["entry_id"]: e for row in rows for e in row.get("entries", [])}
    for category in categories:
        category["entries"] = [{**e, "stats": by_entry.get(e["id"])} for e in entries
                               if e["category_id"] == category["id"]]
        category["stats"] = by_category.get(category["id"])
    done = flask.request.args.get("fait")
    return flask.render_template("backoffice/faq.html", categories=categories, done=DONE.get(done), rate=_rate,
                                 bo_page="backoffice.faq")


def _category_form(values: dict, *, category: dict | None, errors: dict | None = None, error: str | None = None,
                   status: int = 200):
    return flask.render_template("backoffice/faq_category.html", values=values, category=category,
                                 errors=errors or {}, error=error, bo_page="backoffice.faq"), status


def _category_values(form) -> dict:
    return {"label": form.get("label", "").strip(), "description": form.get("description", "").strip(),
            "active": form.get("active") == "1"}


def _refused(response, values: dict, category: dict | None):
    problem = forms.problem_of(response)
    errors = problem.field_errors(CATEGORY_FIELDS)
    return _category_form(values, category=category, errors=errors, error=problem.detail,
                          status=response.status_code)


@blueprint.get("/faq/categories/nouvelle")
def new_category():
    call("helpdesk", "GET", "/helpdesk/faq/stats")  # the form too is for those the helpdesk lets manage the FAQ
    return _category_form({"label": "", "description": "", "active": False}, category=None)


@blueprint.post("/faq/categories/nouvelle")
def create_category():
    values = _category_values(flask.request.form)
    body = {"label": values["label"], "active": values["active"]}
    if values["description"]:
        body["description"] = values["description"]
    response = call("helpdesk", "POST", "/helpdesk/categories", json=body)
    if response.status_code != 201:
        return _refused(response, values, None)
    return flask.redirect(flask.url_for("backoffice.faq", fait="categorie-creee") + "#categorie-"
                          + response.json()["id"], code=303)


def _category(category_id) -> dict:
    response = call("helpdesk", "GET", f"/helpdesk/categories/{category_id}")
    if response.status_code == 404:
        flask.abort(404)
    return response.json()


@blueprint.get("/faq/categories/<uuid:category_id>")
def edit_category(category_id):
    category = _category(category_id)
    return _category_form({"label": category["label"], "description": category["description"] or "",
                           "active": category["active"]}, category=category)


@blueprint.post("/faq/categories/<uuid:category_id>")
def update_category(category_id):
    category = _category(category_id)
    values = _category_values(flask.request.form)
    response = call("helpdesk", "PATCH", f"/helpdesk/categories/{category_id}", json={
        "label": values["label"], "description": values["description"] or None, "active": values["active"]})
    if response.status_code != 200:
        return _refused(response, values, category)
    return flask.redirect(flask.url_for("backoffice.faq", fait="categorie-modifiee") + f"#categorie-{category_id}",
                          code=303)


@blueprint.post("/faq/categories/<uuid:category_id>/<any(monter, descendre):direction>")
def move_category(category_id, direction: str):
    response = call("helpdesk", "POST", f"/helpdesk/categories/{category_id}/move",
                    json={"direction": "up" if direction == "monter" else "down"})
    if response.status_code == 404:
        flask.abort(404)
    return flask.redirect(flask.url_for("backoffice.faq", fait="categorie-deplacee") + f"#categorie-{category_id}",
                          code=303)


# Questions: created unpublished (« Publier » makes them the suppliers'), edited with « Prévisualiser », moved.
ENTRY_FIELDS = {"question": "question", "answer": "answer", "keywords": "keywords", "category_id": "category_id"}
DONE.update({"question-creee": _l("La question a été créée (non publiée)."),
             "question-modifiee": _l("La question a été modifiée."),
             "question-publiee": _l("La question a été publiée."),
             "question-retiree": _l("La question a été retirée : les fournisseurs ne la voient plus."),
             "question-deplacee": _l("L’ordre des questions a été modifié.")})


def _entry(entry_id) -> dict:
    response = call("helpdesk", "GET", f"/helpdesk/faq/{entry_id}")
    if response.status_code == 404:
        flask.abort(404)
    return response.json()


def _entry_values(form) -> dict:
    return {"category_id": form.get("category_id", "").strip(), "question": form.get("question", "").strip(),
            "answer": form.get("answer", "").strip(), "keywords": form.get("keywords", "").strip()}


def _entry_form(values: dict, *, entry: dict | None, preview: bool = False, errors: dict | None = None,
                error: str | None = None, status: int = 200):
    options = [(c["id"], c["label"]) for c in _categories()]
    return flask.render_template("backoffice/faq_entry.html", values=values, entry=entry, preview=preview,
                                 cat_options=options, errors=errors or {}, error=error,
                                 bo_page="backoffice.faq"), status


def _entry_refused(response, values: dict, entry: dict | None):
    problem = forms.problem_of(response)
    errors = problem.field_errors(ENTRY_FIELDS)
    if problem.code == "category_not_found":
        errors["category_id"] = problem.detail
    return _entry_form(values, entry=entry, errors=errors, error=problem.detail, status=response.status_code)


def _body(values: dict) -> dict:
    """What the helpdesk is sent: no category when none was chosen (its own « obligatoire » then)."""
    return {k: v for k, v in values.items() if v or k != "category_id"}


def _previewing() -> bool:
    """« Prévisualiser » sent the form (without JavaScript): the answer shown as the suppliers will see it,
    nothing saved."""
    return flask.request.form.get("action") == "apercu"


@blueprint.get("/faq/questions/nouvelle")
def new_entry():
    call("helpdesk", "GET", "/helpdesk/faq/stats")  # the helpdesk's role check, before any form
    return _entry_form({"category_id": flask.request.args.get("categorie", ""), "question": "", "answer": "",
                        "keywords": ""}, entry=None)


@blueprint.post("/faq/questions/nouvelle")
def create_entry():
    values = _entry_values(flask.request.form)
    if _previewing():
        call("helpdesk", "GET", "/helpdesk/faq/stats")
        return _entry_form(values, entry=None, preview=True)
    response = call("helpdesk", "POST", "/helpdesk/faq", json={**_body(values), "active": False})
    if response.status_code != 201:
        return _entry_refused(response, values, None)
    return flask.redirect(flask.url_for("backoffice.faq", fait="question-creee") + "#question-"
                          + response.json()["id"], code=303)


@blueprint.get("/faq/questions/<uuid:entry_id>")
def edit_entry(entry_id):
    entry = _entry(entry_id)
    return _entry_form({k: entry[k] for k in ENTRY_FIELDS}, entry=entry, preview=True)


@blueprint.post("/faq/questions/<uuid:entry_id>")
def update_entry(entry_id):
    entry = _entry(entry_id)
    values = _entry_values(flask.request.form)
    if _previewing():
        return _entry_form(values, entry=entry, preview=True)
    response = call("helpdesk", "PATCH", f"/helpdesk/faq/{entry_id}", json=_body(values))
    if response.status_code != 200:
        return _entry_refused(response, values, entry)
    return flask.redirect(flask.url_for("backoffice.faq", fait="question-modifiee") + f"#question-{entry_id}",
                          code=303)


@blueprint.post("/faq/questions/<uuid:entry_id>/<any(publier, retirer):action>")
def publish_entry(entry_id, action: str):
    response = call("helpdesk", "PATCH", f"/helpdesk/faq/{entry_id}", json={"active": action == "publier"})
    if response.status_code == 404:
        flask.abort(404)
    done = "question-publiee" if action == "publier" else "question-retiree"
    return flask.redirect(flask.url_for("backoffice.faq", fait=done) + f"#question-{entry_id}", code=303)


@blueprint.post("/faq/questions/<uuid:entry_id>/<any(monter, descendre):direction>")
def move_entry(entry_id, direction: str):
    response = call("helpdesk", "POST", f"/helpdesk/faq/{entry_id}/move",
                    json={"direction": "up" if direction == "monter" else "down"})
    if response.status_code == 404:
        flask.abort(404)
    return flask.redirect(flask.url_for("backoffice.faq", fait="question-deplacee") + f"#question-{entry_id}",
                          code=303)

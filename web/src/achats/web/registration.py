"""« M'inscrire »: the registration paths of the guide, through the registry's and identity's APIs.

1. « SIREN/SIRET » + OK (``GET /inscription?siret=``): the registry's lookup. Found: the INSEE data, the
   establishments to choose from, and « MON COMPTE PERSONNEL » on one form. INSEE down (503 with
   ``fallback: manual``): the registry's message — the guide's, word for word — and the manual
   « Entreprise » form, legal form and APE/NAF code chosen from the registry's INSEE nomenclatures.
2. A foreign company (``/inscription/etrangere``) and the search by name (``/inscription/recherche``).
3. The form is posted to ``POST /inscription``; identity's ``POST /identity/registrations`` decides
   (SIRET checks, password policy, the registry's own refusals) and its French messages are shown
   beside the matching field, with what was typed kept (the password excepted).

State between the steps (no JavaScript needed): what the registry answered (company, establishments,
the mode) travels in one hidden field, ``etat``, signed with the app's secret key (the one the CSRF
tokens are made with) by itsdangerous, so it cannot be altered; the password never goes into it, and
nothing is kept server side before the account exists.
"""

from __future__ import annotations

import time
from typing import Any

import flask
from babel import Locale
from itsdangerous import BadSignature, URLSafeSerializer

from achats.chassis.app import current_runtime

from . import deps, forms

blueprint = flask.Blueprint("registration", __name__)

MANUAL, INSEE, FOREIGN = "manual", "insee", "foreign"

# Service field pointer -> form field, for every service message shown beside its field.
FIELDS = {
    "user.last_name": "last_name", "user.first_name": "first_name", "user.email": "email",
    "user.phone": "phone", "user.fax": "fax", "credentials.login": "login", "credentials.password": "password",
    "company.name": "company_name", "company.naf_code": "naf_code", "company.siren": "siren",
    "company.legal_form_code": "legal_form_code", "company.is_pme": "is_pme",
    "company.country_code": "country_code", "company.national_id": "national_id",
    "company.vat_number": "vat_number", "establishment.siret": "establishment_siret",
    "establishment.street": "street", "establishment.postal_code": "postal_code",
    "establishment.city": "city", "establishment.complement": "complement", "number": "siret",
    "siret": "siret", "siren": "siret", "q": "q", "postal_code": "postal_code", "city": "city",
}
# What is typed on the form and given back when the page is shown again (never the password).
KEPT = ("last_name", "first_name", "email", "phone", "fax", "login", "company_name", "naf_code", "siren",
        "legal_form_code", "is_pme", "country_code", "national_id", "vat_number", "establishment",
        "establishment_siret", "street", "complement", "postal_code", "city", "naf_q", "legal_q")
REFERENCE_TTL = 3600.0
_reference_cache: dict[str, tuple[float, list[dict]]] = {}


def _registry():
    return deps.current().registry


def _identity():
    return deps.current().identity


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_runtime().settings.secret_key, salt="inscription")


def _sign(state: dict) -> str:
    return _serializer().dumps(state)


def _unsign(raw: str) -> dict | None:
    try:
        state = _serializer().loads(raw)
    except BadSignature:
        return None
    return state if isinstance(state, dict) and state.get("mode") in (MANUAL, INSEE, FOREIGN) else None


# --- step 1: SIREN/SIRET ----------------------------------------------------------------------------

@blueprint.get("/inscription")
def start():
    number = flask.request.args.get("siret", "").strip()
    if not number:
        return flask.render_template("registration/start.html", siret="")
    response = _registry().get(f"/registry/lookup/{number}", retry=False)
    if response.status_code == 200:
        found = response.json()
        state = {"mode": INSEE, "company": found["company"], "establishments": found["establishments"],
                 "count": found["count"], "warnings": found.get("warnings") or []}
        values = {"establishment": _default_establishment(state, number)}
        return _form(state, values)
    problem = forms.problem_of(response)
    if response.status_code == 503 and _fallback(response) == "manual":
        state = {"mode": MANUAL, "unavailable": problem.detail}
        digits = number.replace(" ", "")
        values = {"siren": digits[:9] if digits.isdigit() else "",
                  "establishment_siret": digits if digits.isdigit() and len(digits) == 14 else ""}
        if values["establishment_siret"]:
            values["establishment"] = "new"
        return _form(state, values, status=503)
    return flask.render_template("registration/start.html", siret=number, error=problem.detail,
                                 errors={"siret": problem.field_errors(FIELDS).get("siret") or problem.detail}
                                 ), response.status_code


def _fallback(response) -> str | None:
    try:
        return response.json().get("fallback")
    except ValueError:
        return None


def _default_establishment(state: dict, number: str) -> str:
    """The establishment whose SIRET was typed, or the only open one."""
    open_ones = [e["siret"] for e in state["establishments"] if e.get("active") and e.get("siret")]
    if number in open_ones:
        return number
    return open_ones[0] if len(open_ones) == 1 else ""


# --- other ways in: by name, foreign company, typed by hand -----------------------------------------

@blueprint.get("/inscription/recherche")
def search():
    args = flask.request.args
    values = {k: args.get(k, "").strip() for k in ("q", "postal_code", "city")}
    if not values["q"]:
        return flask.render_template("registration/search.html", values=values, results=None, errors={})
    params = {k: v for k, v in values.items() if v}
    response = _registry().get("/registry/search", params=params, retry=False)
    if response.status_code == 200:
        return flask.render_template("registration/search.html", values=values, results=response.json(),
                                     errors={})
    problem = forms.problem_of(response)
    return flask.render_template("registration/search.html", values=values, results=None,
                                 errors=problem.field_errors(FIELDS), error=problem.detail,
                                 unavailable=response.status_code == 503 and _fallback(response) == "manual"
                                 ), response.status_code


@blueprint.get("/inscription/saisie")
def manual():
    """The manual « Entreprise » form, when INSEE cannot answer (the lookup or the search said so)."""
    return _form({"mode": MANUAL}, {})


@blueprint.get("/inscription/etrangere")
def foreign():
    return _form({"mode": FOREIGN}, {})


# --- the form: Entreprise, Établissement, MON COMPTE PERSONNEL --------------------------------------

@blueprint.post("/inscription")
def submit():
    form = flask.request.form
    state = _unsign(form.get("etat", ""))
    if state is None:
        return flask.redirect(flask.url_for("registration.start"), code=303)
    values = {k: form.get(k, "").strip() for k in KEPT}
    action = form.get("action", "register")
    if action == "add_establishment":
        values["establishment"] = "new"
        return _form(state, values, focus="establishment_siret" if state["mode"] != FOREIGN else "street")
    if action in ("search_naf", "search_legal"):
        return _form(state, values)
    body = _registration(state, values, form.get("password", ""))
    response = _identity().post("/identity/registrations", json=body, retry=False)
    if response.status_code == 202:
        return flask.render_template("registration/sent.html", message=response.json().get("message"),
                                     email=values["email"])
    problem = forms.problem_of(response)
    errors = problem.field_errors(FIELDS)
    if "establishment_siret" in errors and values.get("establishment") not in ("new", ""):
        errors["establishment"] = errors.pop("establishment_siret")
    if response.status_code == 503 and _fallback(response) == "manual" and state["mode"] == INSEE:
        # INSEE went down between the lookup and the registration: type the company by hand.
        company = state["company"]
        state = {"mode": MANUAL, "unavailable": problem.detail}
        values.update(siren=company.get("siren") or "", company_name=company.get("name") or "")
        return _form(state, values, status=503)
    password_errors = [e.get("message", "") for e in problem.errors
                       if str(e.get("field", "")).strip("/").replace("/", ".") == "credentials.password"]
    return _form(state, values, errors=errors, error=problem.detail, status=response.status_code,
                 password_errors=password_errors)


def _registration(state: dict, values: dict, password: str) -> dict:
    """identity's ``Registration`` body from the form, as typed (the services check everything)."""
    mode = state["mode"]
    user = {k: values[k] for k in ("last_name", "first_name", "email", "phone")}
    if values["fax"]:
        user["fax"] = values["fax"]
    body: dict[str, Any] = {"user": user, "credentials": {"login": values["login"], "password": password}}
    pme = {"oui": True, "non": False}.get(values["is_pme"])
    chosen = values["establishment"]
    if mode == INSEE:
        company: dict[str, Any] = {"source": INSEE, "siren": state["company"]["siren"]}
        if pme is not None:
            company["is_pme"] = pme
        if not state["company"].get("name"):
            company["name"] = values["company_name"]
        body["company"] = company
        if chosen == "new":
            body["establishment"] = {"siret": values["establishment_siret"]}
        elif chosen:
            body["establishment"] = {"siret": chosen}
    elif mode == MANUAL:
        company = {"source": MANUAL, "siren": values["siren"], "name": values["company_name"],
                   "naf_code": values["naf_code"], "legal_form_code": values["legal_form_code"]}
        if pme is not None:
            company["is_pme"] = pme
        body["company"] = company
        if chosen == "new":
            body["establishment"] = {"source": MANUAL, "siret": values["establishment_siret"],
                                     **_address(values)}
    else:
        company = {"source": FOREIGN, "country_code": values["country_code"], "national_id": values["national_id"],
                   "name": values["company_name"]}
        for key in ("vat_number", "naf_code"):
            if values[key]:
                company[key] = values[key]
        if pme is not None:
            company["is_pme"] = pme
        body["company"] = company
        if chosen == "new":
            body["establishment"] = {**_address(values), "country_code": values["country_code"]}
    return body


def _address(values: dict) -> dict:
    out = {k: values[k] for k in ("street", "postal_code", "city")}
    if values["complement"]:
        out["complement"] = values["complement"]
    return out


def _form(state: dict, values: dict, *, errors: dict | None = None, error: str | None = None,
          status: int = 200, focus: str | None = None, password_errors: list[str] | None = None):
    values = {k: values.get(k, "") for k in KEPT}
    context: dict[str, Any] = {"state": state, "etat": _sign(state), "values": values, "errors": errors or {},
                               "error": error, "focus": focus, "password_errors": password_errors or []}
    if state["mode"] in (MANUAL, FOREIGN):
        context["naf_codes"] = _reference("naf-codes", values["naf_q"], values["naf_code"])
    if state["mode"] == MANUAL:
        context["legal_forms"] = _reference("legal-forms", values["legal_q"], values["legal_form_code"])
    if state["mode"] == FOREIGN:
        context["countries"] = _countries()
    return flask.render_template("registration/form.html", **context), status


# --- the INSEE nomenclatures the registry ships -----------------------------------------------------

def _reference(kind: str, query: str, selected: str) -> dict:
    """The entries of one nomenclature for a ``<select>``: all of them, or the registry's matches for the
    words typed in the search field (with the chosen entry kept in the list)."""
    everything = _whole_list(kind)
    if not query:
        return {"items": everything, "count": len(everything), "query": ""}
    response = _registry().get(f"/registry/reference/{kind}", params={"q": query, "limit": 50}, retry=False)
    if response.status_code != 200:
        problem = forms.problem_of(response)
        return {"items": everything, "count": len(everything), "query": query, "error": problem.detail}
    found = response.json()
    items = found["items"]
    if selected and all(item["code"] != selected for item in items):
        items = [*[item for item in everything if item["code"] == selected], *items]
    return {"items": items, "count": found["count"], "query": query}


def _whole_list(kind: str) -> list[dict]:
    cached = _reference_cache.get(kind)
    if cached and time.monotonic() - cached[0] < REFERENCE_TTL:
        return cached[1]
    response = _registry().get(f"/registry/reference/{kind}")
    if response.status_code != 200:
        flask.abort(503)
    items = response.json()["items"]
    _reference_cache[kind] = (time.monotonic(), items)
    return items


@blueprint.get("/inscription/nomenclatures/<any('naf-codes', 'legal-forms'):kind>")
def reference(kind: str):
    """The registry's search of a nomenclature, for the page's script (same answer as the registry's)."""
    query = flask.request.args.get("q", "").strip()
    response = _registry().get(f"/registry/reference/{kind}", params={"q": query, "limit": 50} if query else {},
                               retry=False)
    answer = flask.jsonify(response.json())
    answer.status_code = response.status_code
    answer.headers["Cache-Control"] = "public, max-age=3600"
    return answer


@blueprint.get("/inscription/regle-mot-de-passe")
def password_policy():
    """identity's published password policy, for the page's script (404 when identity publishes none)."""
    response = _identity().get("/identity/password-policy")
    if response.status_code != 200:
        flask.abort(404)
    answer = flask.jsonify(response.json())
    answer.headers["Cache-Control"] = "public, max-age=300"
    return answer


def _countries() -> list[tuple[str, str]]:
    """Country names in the page's language (CLDR, through Babel): ISO 3166 alpha-2 codes only."""
    from .i18n import current_locale

    territories = Locale.parse(current_locale()).territories
    return sorted(((code, name) for code, name in territories.items() if len(code) == 2 and code.isalpha()
                   and code not in ("ZZ", "EU", "EZ", "UN", "QO", "XA", "XB", "XK")),
                  key=lambda pair: pair[1].casefold())


def labelled(entry: dict) -> str:
    extra = ", ".join(entry.get("abbreviations") or ())
    return f"{entry['code']} — {entry['label']}" + (f" ({extra})" if extra else "")


blueprint.add_app_template_filter(labelled, "nomenclature")

"""Helpers of the web tests: serving the web app, and the accessibility check of a page."""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Iterator
from html import escape as html_escape
from pathlib import Path

from achats.chassis.testing.server import serving
from achats.web.app import SERVICE as WEB

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
SECRET = "web-tests-secret-key-0123456789abcdef"


def shared_assets() -> str:
    """One built-assets folder for every web app a test process starts: the build (DSFR copied, 1,000 files
    compressed with brotli 11, 4 s) is the same for all, and ``assets.ensure_built`` rebuilds it when one of our
    static files changed. Removed when the process ends."""
    global _ASSETS
    if _ASSETS is None:
        import atexit
        import shutil
        import tempfile

        _ASSETS = tempfile.mkdtemp(prefix="achats-web-assets-")
        atexit.register(shutil.rmtree, _ASSETS, True)
    return str(Path(_ASSETS) / "assets")


_ASSETS: str | None = None


@contextlib.contextmanager
def running_web(database_url: str, tmp_path: Path, **settings) -> Iterator[str]:
    config = WEB.load_settings({}, **{
        "database_url": database_url, "amqp_url": "memory://web-tests", "secret_key": SECRET,
        "cookie_secure": False, "assets_dir": shared_assets(), "log_json": True, **settings})
    WEB.migrate(config)
    runtime = WEB.runtime(config)
    with serving(WEB.create_app(config, runtime)) as url:
        yield url
    runtime.db.dispose()


_CHECKERS: dict[int, object] = {}


def _checker(browser):
    """The page, JavaScript on, that checks the HTML a JavaScript-off page was served: one per browser for the
    whole run, so that its profile keeps the stylesheets and fonts in its HTTP cache (a fresh profile for each
    check fetched them again: two thirds of a check's time)."""
    checker = _CHECKERS.get(id(browser))
    if checker is None or checker.is_closed():
        checker = _CHECKERS[id(browser)] = browser.new_page()
    return checker


def assert_accessible(page, javascript: bool = True) -> None:
    """axe-core on the page as it is now: no violation at all (every rule axe runs by default).

    With JavaScript off nothing can run in the page (axe either): its HTML as served is checked in a second
    page, JavaScript on, with its addresses resolved against the page's own (so with the same stylesheets)."""
    if not AXE.is_file():
        raise AssertionError(f"{AXE} is missing: run scripts/ensure-web-assets.sh")
    checked = page
    if not javascript:
        page.wait_for_load_state()  # a navigation a click started has its document, not an empty one
        # A <base> first in <head> rather than a route at the page's address: routing turns the HTTP cache off.
        base = f'<base href="{html_escape(page.url)}">'
        checked = _checker(page.context.browser)
        checked.set_content(re.sub(r"(<head[^>]*>)", lambda head: head.group(1) + base, page.content(), count=1))
    # Through the DevTools protocol, not a <script> tag: the page's CSP (no inline script) stays as it is.
    if checked.evaluate("() => typeof axe") != "object":
        checked.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = checked.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    violations = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                   "nodes": [n["html"][:160] for n in v["nodes"][:3]]} for v in result["violations"]]
    assert violations == [], f"{page.url}: " + json.dumps(violations, ensure_ascii=False, indent=1)


def dsfr_live(element, component: str = "collapse-button") -> None:
    """Wait until DSFR's script has taken ``element`` in hand, as a person waits for a page to be ready.

    DSFR starts after the first paint (web.js): an accordion clicked before its instance exists does
    nothing. DSFR marks each element it binds with ``data-fr-js-<component>="true"``."""
    from playwright.sync_api import expect

    expect(element).to_have_attribute(f"data-fr-js-{component}", "true")


def screenshot(page, name: str, full_page: bool = True) -> None:
    """With WEB_SCREENSHOTS=<dir> set, the page as the test sees it, for the README (docs/screenshots/)."""
    import os

    folder = os.environ.get("WEB_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.jpeg"), full_page=full_page, type="jpeg", quality=45)


PASSWORD = "un cheval blanc galope dans la plaine"
CCAS_SIRET = "26570134200148"


@contextlib.contextmanager
def running_platform(database_url: str, tmp_path: Path, standin, helpdesk: bool = False, signature: bool = False,
                     web_settings: dict | None = None, consultations: str | None = None, notifier: bool = False,
                     **identity_settings) -> Iterator[dict]:
    """identity (on ``database_url``) and the registry (SQLite, INSEE stand-in) over real HTTP, and the web
    front end calling them; the web app checks identity's tokens with identity's own public keys.
    ``helpdesk``: the helpdesk too (SQLite), for the pages its mails link to. ``signature``: the signature
    service too (SQLite), with a test PKI of its own and its OCSP/CRL, TSA and trusted-list stand-ins (as
    services/signature's tests run it); ``urls["pki"]`` is that PKI (``RunningPki``). ``web_settings``: the web
    app's own settings (e.g. ``staff_session_idle_seconds``; a callable is given the services' addresses).
    ``consultations``: a database URL on which the
consultations service runs too (its migration creates the practice consultations). ``notifier``: the notifier's
    API too (SQLite, mails to a Maildir), fed by ``deliver_mails(urls)`` with the helpdesk's events (what the relay
    and the consumer do); without it the web app's notifier address is a closed port."""
    import uuid

    from achats.chassis import security
    from achats.company_registry.app import SERVICE as REGISTRY
    from achats.identity.app import SERVICE as IDENTITY

    namespace = uuid.uuid4().hex[:8]
    identity_config = IDENTITY.load_settings({}, **{
        "database_url": database_url, "amqp_url": f"memory://identity-{namespace}", "log_json": True,
        "public_base_url": "http://localhost:8080", "registry_url": "http://127.0.0.1:1", **identity_settings})
    IDENTITY.migrate(identity_config)
    identity_runtime = IDENTITY.runtime(identity_config)
    keys = identity_runtime.deps.identity.keys
    registry_config = REGISTRY.load_settings({}, database_url=f"sqlite:///{tmp_path}/registry.db",
                                             amqp_url=f"memory://registry-{namespace}",
                                             insee_base_url=standin.base_url, insee_api_key=standin.api_key)
    REGISTRY.migrate(registry_config)
    registry_runtime = REGISTRY.runtime(registry_config)

    def verifier():
        return security.TokenVerifier(security.JWKSCache("identity", fetch=lambda _url: keys.jwks()),
                                      issuer=identity_config.issuer, audience=identity_config.audience)

    registry_runtime.verifier = verifier()
    with serving(REGISTRY.create_app(registry_config, registry_runtime)) as registry_url:
        identity_runtime.deps.registry.http.base_url = registry_url
        with serving(IDENTITY.create_app(identity_config, identity_runtime)) as identity_url, \
                _maybe_helpdesk(helpdesk, tmp_path, namespace, verifier) as helpdesk_url, \
                _maybe_signature(signature, tmp_path, namespace, verifier) as (signature_url, pki), \
                _maybe_consultations(consultations, namespace, verifier, tmp_path,
                                     signature_url) as consultations_url, \
                _maybe_notifier(notifier, tmp_path, namespace, verifier) as notifier_url:
            config = WEB.load_settings({}, **{
                "database_url": f"sqlite:///{tmp_path}/web.db", "amqp_url": f"memory://web-{namespace}",
                "secret_key": SECRET, "cookie_secure": False, "assets_dir": shared_assets(),
                "log_json": True, "identity_url": identity_url, "registry_url": registry_url,
                **({"helpdesk_url": helpdesk_url} if helpdesk_url else {}),
                **({"signature_url": signature_url} if signature_url else {}),
                **({"consultations_url": consultations_url} if consultations_url else {}),
                "notifier_url": notifier_url or "http://127.0.0.1:1",
                # A callable setting is given the services' addresses, known only now (« Santé »'s list, say).
                **{key: value({"identity": identity_url, "registry": registry_url, "helpdesk": helpdesk_url,
                               "signature": signature_url, "consultations": consultations_url,
                               "notifier": notifier_url}) if callable(value) else value
                   for key, value in (web_settings or {}).items()}})
            WEB.migrate(config)
            web_runtime = WEB.runtime(config)
            web_runtime.verifier = verifier()
            _IDENTITY_DATABASES[identity_url] = database_url
            _IDENTITY_RUNTIMES[identity_url] = identity_runtime
            REGISTRY_RUNTIMES[registry_url] = registry_runtime
            try:
                with serving(WEB.create_app(config, web_runtime)) as web_url:
                    yield {"web": web_url, "identity": identity_url, "registry": registry_url,
                           "helpdesk": helpdesk_url, "signature": signature_url, "pki": pki,
                           "consultations": consultations_url, "consultations_database": consultations,
                           "notifier": notifier_url, "notifier_database": f"sqlite:///{tmp_path}/notifier.db",
                           "identity_database": database_url,
                           "helpdesk_database": f"sqlite:///{tmp_path}/helpdesk.db",
                           "signature_database": f"sqlite:///{tmp_path}/signature.db"}
            finally:
                _IDENTITY_DATABASES.pop(identity_url, None)
                _IDENTITY_RUNTIMES.pop(identity_url, None)
                REGISTRY_RUNTIMES.pop(registry_url, None)
            web_runtime.db.dispose()
    identity_runtime.db.dispose()
    registry_runtime.db.dispose()


@contextlib.contextmanager
def _maybe_helpdesk(wanted: bool, tmp_path: Path, namespace: str, verifier) -> Iterator[str | None]:
    if not wanted:
        yield None
        return
    from achats.helpdesk.app import SERVICE as HELPDESK

    config = HELPDESK.load_settings({}, database_url=f"sqlite:///{tmp_path}/helpdesk.db",
                                    amqp_url=f"memory://helpdesk-{namespace}", log_json=True,
                                    public_base_url="http://localhost:8080")
    HELPDESK.migrate(config)
    runtime = HELPDESK.runtime(config)
    runtime.verifier = verifier()
    with serving(HELPDESK.create_app(config, runtime)) as url:
        yield url
    runtime.db.dispose()


@contextlib.contextmanager
def _maybe_consultations(database_url: str | None, namespace: str, verifier, tmp_path: Path,
                         signature_url: str | None = None) -> Iterator[str | None]:
    """The consultations service, able to take deposits: a master key of the tests, sealed files under
    ``tmp_path``, and the test TSA (the signature service's stand-in, its shipped test PKI) dating them; with the
    signature service when the platform runs it (each file's signature verified), else files are « not
    verified » and accepted."""
    if not database_url:
        yield None
        return
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from achats.consultations.app import SERVICE as CONSULTATIONS
    from achats.signature.testpki.pki import TestPki
    from achats.signature.testpki.standins import LOCAL_PKI

    pki = TestPki(LOCAL_PKI)

    async def stamp(request: Request) -> Response:
        return Response(pki.timestamp(await request.body()), media_type="application/timestamp-reply")

    with serving(Starlette(routes=[Route("/tsa", stamp, methods=["POST"])])) as tsa_url:
        config = CONSULTATIONS.load_settings({}, database_url=database_url,
                                             amqp_url=f"memory://consultations-{namespace}", log_json=True,
                                             master_keys="web-tests:" + base64.b64encode(bytes(range(32))).decode(),
                                             deposit_storage=str(tmp_path / "deposits"), tsa_url=f"{tsa_url}/tsa",
                                             tsa_certificate=str(pki.cert_path("tsa")),
                                             signature_url=signature_url or "")
        CONSULTATIONS.migrate(config)
        runtime = CONSULTATIONS.runtime(config)
        runtime.verifier = verifier()
        with serving(CONSULTATIONS.create_app(config, runtime)) as url:
            yield url
        runtime.db.dispose()


@contextlib.contextmanager
def _maybe_notifier(wanted: bool, tmp_path: Path, namespace: str, verifier) -> Iterator[str | None]:
    if not wanted:
        yield None
        return
    from achats.notifier.app import SERVICE as NOTIFIER

    config = NOTIFIER.load_settings({}, database_url=f"sqlite:///{tmp_path}/notifier.db",
                                    amqp_url=f"memory://notifier-{namespace}", log_json=True,
                                    mail_url=f"maildir://{tmp_path}/mail", mail_domain="achats.test",
                                    public_base_url=PUBLIC, reveal_links=True)
    NOTIFIER.migrate(config)
    runtime = NOTIFIER.runtime(config)
    runtime.verifier = verifier()
    with serving(NOTIFIER.create_app(config, runtime)) as url:
        _NOTIFIER_RUNTIMES[url] = runtime
        try:
            yield url
        finally:
            _NOTIFIER_RUNTIMES.pop(url, None)
    runtime.db.dispose()


# The runtime of each running notifier, for deliver_mails.
_NOTIFIER_RUNTIMES: dict[str, object] = {}


def deliver_mails(platform: dict, *, send: bool = True) -> None:
    """What the helpdesk's relay and the notifier's consumer do: each mail event of the helpdesk's outbox applied
    by the notifier's own handler (again changes nothing: one mail per event, template and recipient); then, with
    ``send``, one round of the notifier's own sender (to the Maildir)."""
    import sqlalchemy

    from achats.chassis.bus import CloudEvent, outbox
    from achats.notifier import consumers as notifier_consumers
    from achats.notifier.sender import MailSender

    runtime = _NOTIFIER_RUNTIMES[platform["notifier"]]
    handlers = notifier_consumers.handlers(runtime)
    engine = sqlalchemy.create_engine(platform["helpdesk_database"])
    try:
        with engine.connect() as connection:
            bodies = connection.execute(sqlalchemy.select(outbox.c.body).order_by(outbox.c.seq)).scalars().all()
    finally:
        engine.dispose()
    for body in bodies:
        event = CloudEvent.from_json(body)
        if event.type in handlers:
            with runtime.db.unit_of_work() as uow:
                handlers[event.type](uow.session, event)
                uow.commit()
    if send:
        needs = runtime.deps
        MailSender(db=runtime.db, transport=needs.mail_transport, settings=runtime.settings,
                   wake=needs.mail_wake, name="web-tests").run_once()


@contextlib.contextmanager
def _maybe_signature(wanted: bool, tmp_path: Path, namespace: str, verifier) -> Iterator[tuple]:
    if not wanted:
        yield None, None
        return
    from achats.signature.app import SERVICE as SIGNATURE
    from achats.signature.testpki.testing import running_pki

    with running_pki(tmp_path / "pki") as pki:
        config = SIGNATURE.load_settings({}, **{
            "database_url": f"sqlite:///{tmp_path}/signature.db", "amqp_url": f"memory://signature-{namespace}",
            "log_json": True, "lotl_url": pki.lotl_url, "lotl_signer_certs": (str(pki.pki.cert_path("lotl-signer")),),
            "tsa_url": pki.tsa_url, "trust_lists_cache_dir": str(tmp_path / "trust-lists"),
            "validation_workers": 2, "revocation_cache_seconds": 0})
        SIGNATURE.migrate(config)
        runtime = SIGNATURE.runtime(config)
        runtime.verifier = verifier()
        try:
            with serving(SIGNATURE.create_app(config, runtime)) as url:
                yield url, pki
        finally:
            runtime.deps.trust_lists.close()
            runtime.db.dispose()


# The address the services put in their mails (the gateway's, in front of the web app).
PUBLIC = "http://localhost:8080"


def events(database_url: str, event_type: str) -> list[dict]:
    """The data of the events of that type a service published (its outbox), oldest first."""
    import sqlalchemy

    from achats.chassis.bus import outbox

    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            bodies = connection.execute(sqlalchemy.select(outbox.c.body).where(outbox.c.type == event_type)
                                        .order_by(outbox.c.seq)).scalars().all()
    finally:
        engine.dispose()
    return [json.loads(body)["data"] for body in bodies]


def mail_of(event_type: str, data: dict, template: str | None = None, public_base_url: str = PUBLIC):
    """The mail the notifier renders for that event (its own templates and rendering): subject, text, HTML."""
    from achats.notifier.mails import mails_for
    from achats.notifier.rendering import Renderer

    renderer = Renderer(platform_name="Plateforme des achats", support_phone="08 20 20 77 43",
                        public_base_url=public_base_url)
    mail = next(m for m in mails_for(event_type, data) if template is None or m.template.name == template)
    return renderer.render(mail)


def on_web(url: str, web_url: str) -> str:
    """A mailed address (the gateway's origin) opened on the web app the test serves."""
    assert url.startswith(PUBLIC + "/") or url == PUBLIC, url
    return web_url + url[len(PUBLIC):]


# identity's database behind each running identity, where register() reads the confirmation link from the
# outbox's event, as the notifier would mail it.
_IDENTITY_DATABASES: dict[str, str] = {}
# The runtime of each running identity, for staff accounts (create_staff) made as the CLI makes them.
_IDENTITY_RUNTIMES: dict[str, object] = {}
# The runtime of each running registry, for running its worker's jobs (jobs.reverify) as its worker would.
REGISTRY_RUNTIMES: dict[str, object] = {}


def create_staff(identity_url: str, login: str = "agent.dupont", email: str = "agent.dupont@example.fr", *,
                 role: str = "support_agent", first_name: str = "Camille", last_name: str = "Dupont") -> None:
    """A support agent (``role="platform_admin"``: an administrator) of the running identity, by identity's own
    ``create_staff`` (what ``achats-identity create-agent`` and the administrators' page use): its e-mail is taken
    as confirmed, it logs in at once with ``PASSWORD``."""
    from achats.identity.administration import create_staff as identity_create_staff

    runtime = _IDENTITY_RUNTIMES[identity_url]
    identity_create_staff(runtime.db.unit_of_work(), runtime.deps.identity, None, {
        "role": role, "login": login, "password": PASSWORD, "email": email, "first_name": first_name,
        "last_name": last_name})


def register(identity_url: str, login: str = "mcurie", email: str = "marie.curie@example.fr", *,
             confirmed: bool = True) -> None:
    """An account, through identity's API; then, unless ``confirmed=False``, its e-mail confirmed by the
    mail's link (no login before that)."""
    import requests

    answer = requests.post(f"{identity_url}/identity/registrations", json={
        "company": {"source": "insee"}, "establishment": {"siret": CCAS_SIRET},
        "user": {"last_name": "Curie", "first_name": "Marie", "email": email, "phone": "+33 3 87 00 00 00"},
        "credentials": {"login": login, "password": PASSWORD}}, timeout=30)
    assert answer.status_code == 202, answer.text
    if confirmed:
        confirm_email(identity_url, email)


def confirm_email(identity_url: str, email: str) -> None:
    """Follow the latest confirmation link identity sent to ``email`` (read from its outbox)."""
    from urllib.parse import parse_qs, urlparse

    import requests

    urls = [data["verification_url"] for data in events(_IDENTITY_DATABASES[identity_url], "identity.user.registered")
            if data["email"] == email.lower()]
    assert urls, f"no confirmation mail to {email}"
    token = parse_qs(urlparse(urls[-1]).query)["token"][0]
    done = requests.post(f"{identity_url}/identity/email-verifications", json={"token": token}, timeout=30)
    assert done.status_code == 204, done.text


def fill_login(page, login: str = "mcurie", password: str | None = None) -> None:
    """On the « Connexion » page (or the login box): Identifiant, Mot de passe, « Se connecter », as a person does."""
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(PASSWORD if password is None else password)
    page.get_by_role("button", name="Se connecter").click()


def log_in(page, web_url: str, login: str = "mcurie", password: str | None = None) -> None:
    """Log in from the « Connexion » page, until « Vous êtes connecté »."""
    from playwright.sync_api import expect

    page.goto(web_url + "/connexion")
    fill_login(page, login, password)
    expect(page.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()


def log_in_with_the_keyboard(page, web_url: str, login: str = "mcurie") -> None:
    """Log in from the « Connexion » page with the keyboard alone: Tab to Identifiant, type, Tab, type the
    password, Enter; until « Vous êtes connecté »."""
    from playwright.sync_api import expect

    page.goto(web_url + "/connexion")
    tab_to(page, "identifiant")
    page.keyboard.type(login)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Vous êtes connecté")).to_be_visible()


def logged_in_page(browser, platform, javascript: bool, login: str, password: str | None = None):
    """A page of a new browser profile (JavaScript on or off) where ``login`` is logged in."""
    page = browser.new_context(locale="fr-FR", java_script_enabled=javascript).new_page()
    log_in(page, platform["web"], login, password)
    return page


def tab_to(page, element_id: str, limit: int = 80) -> None:
    """Tab (the keyboard alone) until the element has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} is never reached with Tab")


# The vault through the registry's API (test_vault.py, test_backoffice_roles.py).
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def api_session(platform, login: str = "mcurie") -> tuple[str, str]:
    """identity's access token for ``login`` and the company id it carries."""
    import requests

    tokens = requests.post(f"{platform['identity']}/identity/sessions", json={"login": login, "password": PASSWORD},
                           timeout=30)
    assert tokens.status_code == 200, tokens.text
    token = tokens.json()["access_token"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    return token, claims["company_id"]


def stored(platform, login: str = "mcurie") -> list[dict]:
    import requests

    token, company = api_session(platform, login)
    answer = requests.get(f"{platform['registry']}/registry/companies/{company}/documents", timeout=30,
                          headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def put_document(platform, login: str, kind: str, valid_until: str | None, name: str = "kbis.pdf") -> dict:
    """A document put in the vault through the registry's API (as another page or tool would)."""
    import requests

    token, company = api_session(platform, login)
    data = {"type": kind, **({"valid_until": valid_until} if valid_until else {})}
    answer = requests.post(f"{platform['registry']}/registry/companies/{company}/documents", data=data,
                           files={"file": (name, PDF, "application/pdf")}, timeout=30,
                           headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201, answer.text
    return answer.json()

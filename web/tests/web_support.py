"""Helpers of the web tests: serving the web app, and the accessibility check of a page."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

from achats.chassis.testing.server import serving
from achats.web.app import SERVICE as WEB

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
SECRET = "web-tests-secret-key-0123456789abcdef"


@contextlib.contextmanager
def running_web(database_url: str, tmp_path: Path, **settings) -> Iterator[str]:
    config = WEB.load_settings({}, **{
        "database_url": database_url, "amqp_url": "memory://web-tests", "secret_key": SECRET,
        "cookie_secure": False, "assets_dir": str(tmp_path / "assets"), "log_json": True, **settings})
    WEB.migrate(config)
    runtime = WEB.runtime(config)
    with serving(WEB.create_app(config, runtime)) as url:
        yield url
    runtime.db.dispose()


def assert_accessible(page, javascript: bool = True) -> None:
    """axe-core on the page as it is now: no violation at all (every rule axe runs by default).

    With JavaScript off nothing can run in the page (axe either): its HTML as served is checked in a
    second page, JavaScript on, at the same address (so with the same stylesheets)."""
    if not AXE.is_file():
        raise AssertionError(f"{AXE} is missing: run scripts/ensure-web-assets.sh")
    if not javascript:
        html, url = page.content(), page.url
        checker = page.context.browser.new_page()
        try:
            checker.goto(url)
            checker.set_content(html)
            assert_accessible(checker)
        finally:
            checker.close()
        return
    # Through the DevTools protocol, not a <script> tag: the page's CSP (no inline script) stays as it is.
    if page.evaluate("() => typeof axe") != "object":
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    violations = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                   "nodes": [n["html"][:160] for n in v["nodes"][:3]]} for v in result["violations"]]
    assert violations == [], f"{page.url}: " + json.dumps(violations, ensure_ascii=False, indent=1)


PASSWORD = "un cheval blanc galope dans la plaine"
CCAS_SIRET = "26570134200148"


@contextlib.contextmanager
def running_platform(database_url: str, tmp_path: Path, standin, **identity_settings) -> Iterator[dict]:
    """identity (on ``database_url``) and the registry (SQLite, INSEE stand-in) over real HTTP, and the web
    front end calling them; the web app checks identity's tokens with identity's own public keys."""
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
    keys = identity_runtime.extras["identity"].keys
    registry_config = REGISTRY.load_settings({}, database_url=f"sqlite:///{tmp_path}/registry.db",
                                             amqp_url=f"memory://registry-{namespace}",
                                             insee_base_url=standin.base_url, insee_api_key=standin.api_key)
    REGISTRY.migrate(registry_config)
    registry_runtime = REGISTRY.runtime(registry_config)

    def verifier():
        return security.TokenVerifier(security.JWKSCache("identity", fetch=lambda _url: keys.jwks()),
                                      issuer=identity_config.issuer, audience=identity_config.audience)

    registry_runtime.extras["verifier"] = verifier()
    with serving(REGISTRY.create_app(registry_config, registry_runtime)) as registry_url:
        identity_runtime.extras["registry"].http.base_url = registry_url
        with serving(IDENTITY.create_app(identity_config, identity_runtime)) as identity_url:
            config = WEB.load_settings({}, **{
                "database_url": f"sqlite:///{tmp_path}/web.db", "amqp_url": f"memory://web-{namespace}",
                "secret_key": SECRET, "cookie_secure": False, "assets_dir": str(tmp_path / "assets"),
                "log_json": True, "identity_url": identity_url, "registry_url": registry_url})
            WEB.migrate(config)
            web_runtime = WEB.runtime(config)
            web_runtime.extras["verifier"] = verifier()
            _IDENTITY_DATABASES[identity_url] = identity_runtime.db
            try:
                with serving(WEB.create_app(config, web_runtime)) as web_url:
                    yield {"web": web_url, "identity": identity_url, "registry": registry_url}
            finally:
                _IDENTITY_DATABASES.pop(identity_url, None)
            web_runtime.db.dispose()
    identity_runtime.db.dispose()
    registry_runtime.db.dispose()


# identity's database behind each running identity, where register() reads the confirmation link from the
# outbox's event, as the notifier would mail it.
_IDENTITY_DATABASES: dict = {}


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
    from sqlalchemy import select

    from achats.chassis.bus import outbox

    with _IDENTITY_DATABASES[identity_url].session() as session:
        bodies = session.execute(select(outbox.c.body).where(outbox.c.type == "identity.user.registered")
                                 .order_by(outbox.c.seq)).scalars().all()
    urls = [json.loads(body)["data"]["verification_url"] for body in bodies
            if json.loads(body)["data"]["email"] == email.lower()]
    assert urls, f"no confirmation mail to {email}"
    token = parse_qs(urlparse(urls[-1]).query)["token"][0]
    done = requests.post(f"{identity_url}/identity/email-verifications", json={"token": token}, timeout=30)
    assert done.status_code == 204, done.text

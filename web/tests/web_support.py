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

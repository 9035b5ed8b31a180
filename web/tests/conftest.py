"""Fixtures of the web tests: one Chromium for the session (Debian's /usr/bin/chromium driven by Playwright),
the web front end served over real HTTP on PostgreSQL, and axe-core to check every page a test reaches."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from web_support import CHROMIUM, running_web


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: scripts/ensure-browser.sh installs Debian's chromium", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def context(browser):
    """A fresh browser profile per test (cookies, storage), JavaScript on."""
    made = browser.new_context(locale="fr-FR")
    yield made
    made.close()


@pytest.fixture
def no_js_context(browser):
    made = browser.new_context(locale="fr-FR", java_script_enabled=False)
    yield made
    made.close()


@pytest.fixture(scope="session")
def web_alone(create_postgres_database, tmp_path_factory):
    """The web front end on PostgreSQL with no service behind it (pages that call none)."""
    with running_web(create_postgres_database("achats_web"), tmp_path_factory.mktemp("web")) as url:
        yield url


@pytest.fixture(scope="session")
def standin():
    from achats.company_registry.standin.testing import running_standin

    with running_standin() as server:
        yield server


@pytest.fixture
def platform(fresh_postgres_url, tmp_path, standin):
    from web_support import running_platform

    standin.reset()
    with running_platform(fresh_postgres_url, tmp_path, standin, login_delay_after=3, login_lock_after=4) as urls:
        yield urls


@pytest.fixture
def platform_with_helpdesk(fresh_postgres_url, tmp_path, standin):
    """The platform and the helpdesk: the pages its mails link to."""
    from web_support import running_platform

    standin.reset()
    with running_platform(fresh_postgres_url, tmp_path, standin, helpdesk=True) as urls:
        yield urls


@pytest.fixture
def platform_with_notifier(fresh_postgres_url, tmp_path, standin):
    """The platform, the helpdesk and the notifier's API (its mails fed by web_support.deliver_mails, into a
    Maildir under tmp_path/mail): the back office's « Envois de courriels »."""
    from web_support import running_platform

    standin.reset()
    with running_platform(fresh_postgres_url, tmp_path, standin, helpdesk=True, notifier=True) as urls:
        yield urls

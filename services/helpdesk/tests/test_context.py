"""The automatic context: operating system and browser from the User-Agent, « Non connu » when unknown."""

from __future__ import annotations

import pytest

from achats.helpdesk.context import Requester, build, describe_user_agent

from helpdesk_support import FIREFOX


@pytest.mark.parametrize(("user_agent", "system", "browser"), [
    (FIREFOX, "Windows 10", "Mozilla Firefox 83.0"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
     "Safari/605.1.15", "macOS 10.15.7", "Safari 17.1"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 "
     "Edg/120.0.2210.91", "Linux", "Microsoft Edge 120.0"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.60 "
     "Safari/537.36", "Windows 10", "Google Chrome 124.0"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.1 Mobile/15E148 Safari/604.1", "iOS 17.1", "Safari Mobile 17.1"),
    ("", "Non connu", "Non connu"),
    ("n'importe quoi", "Non connu", "Non connu"),
])
def test_user_agents(user_agent, system, browser):
    assert describe_user_agent(user_agent) == (system, browser)


def test_anonymous_context_names_nobody():
    anonymous = Requester(email="a@example.fr", first_name="Anne", last_name="Onyme", company="ACME")
    context = build(platform="CNES", version="2018-00.02.01.05", requester=anonymous, page=None, resource=None,
                    user_agent=None, assistant_version=None)
    assert context == {
        "applicative": {"platform": "CNES", "version": "2018-00.02.01.05", "user_name": "Non connu",
                        "user_email": "Non connu", "company": "Non connu"},
        "business": {"page": None, "resource": None, "summary": "Aucune information de contexte n'est disponible."},
        "technical": {"operating_system": "Non connu", "browser": "Non connu", "assistant_version": "Non connu",
                      "user_agent": None},
    }


def test_logged_in_context_names_the_account():
    user = Requester(email="marie.curie@example.fr", first_name="Marie", last_name="Curie", user_id="u1",
                     company_id="c1", company="CCAS DE METZ")
    context = build(platform="P", version="V", requester=user, page="/vault", resource="kbis", user_agent=FIREFOX,
                    assistant_version="3.2")
    assert context["applicative"] | {"platform": "P", "version": "V"} == {
        "platform": "P", "version": "V", "user_name": "Marie Curie", "user_email": "marie.curie@example.fr",
        "company": "CCAS DE METZ"}
    # A company whose name is not known is « Non connu », never its UUID.
    unnamed = Requester(email="m@example.fr", user_id="u1", company_id="0e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b")
    assert build(platform="P", version="V", requester=unnamed, page=None, resource=None, user_agent=None,
                 assistant_version=None)["applicative"]["company"] == "Non connu"
    assert context["business"] == {"page": "/vault", "resource": "kbis", "summary": None}
    assert context["technical"]["assistant_version"] == "3.2"


def test_what_the_pages_script_told_is_kept_in_the_technical_context():
    anonymous = Requester(email="a@example.fr")
    context = build(platform="P", version="V", requester=anonymous, page=None, resource=None, user_agent=FIREFOX,
                    assistant_version=None, browser_facts={"screen": "1920 × 1080", "language": "fr-FR, fr",
                                                           "cookies": "enabled"})
    assert context["technical"] | {"user_agent": None} == {
        "operating_system": "Windows 10", "browser": "Mozilla Firefox 83.0", "assistant_version": "Non connu",
        "user_agent": None, "screen": "1920 × 1080", "language": "fr-FR, fr", "cookies": "enabled"}


def test_settings_are_checked_at_start_up():
    from achats.chassis.settings import SettingsError
    from achats.helpdesk.app import SERVICE

    base = {"DATABASE_URL": "sqlite://", "AMQP_URL": "memory://x"}
    settings = SERVICE.load_settings(base)
    assert (SERVICE.port, settings.support_phone, settings.auto_close_days) == (8103, "08 20 20 77 43", 7)
    assert SERVICE.load_settings({**base, "HELPDESK_SUPPORT_PHONE": "01 23 45 67 89"}).support_phone == "01 23 45 67 89"
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
        SERVICE.load_settings({**base, "PUBLIC_BASE_URL": "ftp://x"})
    with pytest.raises(SettingsError, match="AUTO_CLOSE_DAYS"):
        SERVICE.load_settings({**base, "HELPDESK_AUTO_CLOSE_DAYS": "0"})

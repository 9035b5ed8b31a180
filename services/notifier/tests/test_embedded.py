"""The embedded mode (`make run`): mails land in var/mail, and the API shows them, links included."""

from __future__ import annotations

import mailbox

from achats.chassis.testing import wait_until
from achats.notifier.app import SERVICE

from notifier_support import Notifier, event


def test_a_developer_gets_the_reset_link_from_the_api(tmp_path, memory_transport, keys):
    var = tmp_path / "var"
    environ = {key: value.format(var=var) for key, value in SERVICE.embedded.items()}
    environ.update(DATABASE_URL=f"sqlite:///{tmp_path}/notifier.db", AMQP_URL="memory://embedded-test",
                   LOG_JSON="false", JWKS_URL=keys.jwks_url)
    settings = SERVICE.load_settings(environ)
    assert settings.mail_url == f"maildir://{var}/mail" and settings.sender == "nepasrepondre@localhost"
    with Notifier(settings) as notifier:
        reset_url = "http://localhost:8080/compte/mot-de-passe?jeton=pour-le-developpeur"
        notifier.publish(event("identity.password_reset.requested", email="dev@exemple.fr", reset_url=reset_url))
        assert wait_until(lambda: (var / "mail" / "new").is_dir() and len(mailbox.Maildir(var / "mail")) == 1)
        (file_message,) = mailbox.Maildir(var / "mail").values()
        assert file_message["To"].endswith("<dev@exemple.fr>")

        client = SERVICE.create_app(settings, notifier.runtime, configure_logs=False).test_client()
        headers = {"Authorization": f"Bearer {keys.token(roles=['platform_admin'])}"}
        (found,) = client.get("/notifier/deliveries", params={"recipient": "dev@exemple.fr"},
                              headers=headers).json()["items"]
        assert found["status"] == "sent"
        mail = client.get(f"/notifier/deliveries/{found['id']}", headers=headers).json()
        assert reset_url in mail["text"]
        assert file_message["Message-ID"] == mail["message_id"]

"""The guide's scenarios end to end, through the gateway: every service a separate process on
PostgreSQL and RabbitMQ with mails received by an SMTP server, and the same scenarios against
`make run` (the embedded mode: one process, SQLite, in-memory bus, mails in a Maildir)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from platform_support import confirm_email, embedded_platform, link_in, running_platform

PASSWORD = "un cheval blanc galope dans la plaine"


@pytest.fixture(scope="module")
def insee():
    from achats.company_registry.standin.testing import running_standin

    with running_standin() as server:
        yield server


@pytest.fixture(scope="module")
def smtp():
    from achats.chassis.testing.smtp import SmtpSink

    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="module", params=["processes", "embedded"])
def platform(request, tmp_path_factory):
    if request.param == "embedded":
        with embedded_platform(tmp_path_factory.mktemp("var")) as running:
            yield running
        return
    create, amqp_url = request.getfixturevalue("create_postgres_database"), request.getfixturevalue("amqp_url")
    smtp, insee = request.getfixturevalue("smtp"), request.getfixturevalue("insee")
    with running_platform(create, amqp_url, smtp, insee) as running:
        yield running


def registration(login, email, siret="26570134200148", first_name="Marie"):
    return {"company": {"source": "insee"}, "establishment": {"siret": siret},
            "user": {"last_name": "Curie", "first_name": first_name, "email": email, "phone": "+33 3 87 00 00 00"},
            "credentials": {"login": login, "password": PASSWORD}}


def test_registration_by_siret_then_a_colleague_joins(platform):
    lookup = requests.get(platform.url("/api/companies/lookup/26570134200148"), timeout=10)
    assert lookup.json()["company"]["name"] == "CENTRE COMMUNAL D'ACTION SOCIALE"
    created = requests.post(platform.url("/api/identity/registrations"), json=registration("mcurie", "marie@e2e.fr"),
                            timeout=30)
    assert created.status_code == 202, created.text
    # No login before the e-mail is confirmed: identity says so, and the mail's link opens the account.
    early = requests.post(platform.url("/api/identity/sessions"), json={"login": "mcurie", "password": PASSWORD},
                          timeout=10)
    assert (early.status_code, early.json()["code"]) == (403, "email_not_verified")
    confirm_email(platform, "marie@e2e.fr")
    assert requests.post(platform.url("/api/identity/sessions"), json={"login": "mcurie", "password": PASSWORD},
                         timeout=10).status_code == 200
    joined = requests.post(platform.url("/api/identity/registrations"),
                           json=registration("pcurie", "pierre@e2e.fr", first_name="Pierre"), timeout=30)
    assert joined.status_code == 202
    assert platform.mails_to("pierre@e2e.fr")
    # The administrator hears of the new colleague.
    told = platform.mails_to("marie@e2e.fr", count=2)
    assert len(told) == 2
    assert "Pierre" in str(told[1]["Subject"]) + told[1].get_body(preferencelist=("plain",)).get_content()


def test_registration_while_insee_is_down_falls_back_to_the_manual_form(platform):
    platform.insee.set_mode("503")
    try:
        down = requests.post(platform.url("/api/identity/registrations"),
                             json=registration("jdupont", "jean@e2e.fr", siret="39070200900015"), timeout=30)
        assert down.status_code == 503
        assert down.json()["fallback"] == "manual"
        assert down.json()["detail"].startswith("Le service est actuellement indisponible. Veuillez vérifier")
        manual = registration("jdupont", "jean@e2e.fr", siret="39070200900015")
        manual["company"] = {"source": "manual", "siren": "390702009", "name": "TEST", "naf_code": "82.99Z",
                             "legal_form_code": "5499", "is_pme": True}
        manual["establishment"] = {"source": "manual", "siret": "39070200900015", "street": "8 RUE DE LA PAIX",
                                   "postal_code": "75002", "city": "PARIS"}
        assert requests.post(platform.url("/api/identity/registrations"), json=manual, timeout=30).status_code == 202
    finally:
        platform.insee.set_mode("normal")
    assert platform.mails_to("jean@e2e.fr")


def test_login_and_forgotten_password_until_the_new_one_works(platform):
    requests.post(platform.url("/api/identity/registrations"), json=registration("lmeitner", "lise@e2e.fr"),
                  timeout=30)
    confirm_email(platform, "lise@e2e.fr")
    login = requests.post(platform.url("/api/identity/sessions"), json={"login": "lmeitner", "password": PASSWORD},
                          timeout=10)
    assert login.status_code == 200
    me = requests.get(platform.url("/api/identity/me"), timeout=10,
                      headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.json()["email"] == "lise@e2e.fr"
    # Browser sessions are the web front end's since issue 15 (web/tests/test_login.py), not the gateway's.
    # « Mot de passe oublié »
    asked = requests.post(platform.url("/api/identity/password-resets"), json={"login_or_email": "lise@e2e.fr"},
                          timeout=10)
    assert asked.status_code == 202
    mails = platform.mails_to("lise@e2e.fr", count=2)
    reset_link = link_in(mails[-1], r"https?://\S+mot-de-passe\S+")
    new_password = "la fission nucléaire expliquée simplement"
    done = requests.post(platform.url("/api/identity/password-resets/confirm"), timeout=10,
                         json={"token": reset_link.split("token=")[1], "password": new_password})
    assert done.status_code == 204
    assert requests.post(platform.url("/api/identity/sessions"), json={"login": "lmeitner", "password": PASSWORD},
                         timeout=10).status_code == 401
    assert requests.post(platform.url("/api/identity/sessions"), timeout=10,
                         json={"login": "lmeitner", "password": new_password}).status_code == 200
    assert platform.mails_to("lise@e2e.fr", count=3)  # « votre mot de passe a été modifié »


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def agent_token(platform) -> str:
    """A support agent, created with identity's CLI as the operators do, logged in through the gateway."""
    password = "le support répond toujours vite"
    if platform.ports:
        created = platform.command("identity", "create-agent", "--login", "agent.smith", "--email",
                                   "agent@e2e.fr", "--first-name", "Agent", "--last-name", "Smith", "--password",
                                   password)
        assert created.returncode in (0, 1), created.stderr  # 1: made by the other run of this module
    else:
        # `make agent`'s command: the launcher's embedded defaults find the running platform's var/.
        launcher = Path(__file__).resolve().parents[1] / "deploy" / "local" / "launcher.py"
        created = subprocess.run([sys.executable, str(launcher), "command", "--var", str(platform.smtp.parent),
                                  "identity", "create-agent", "--login", "agent.smith", "--email", "agent@e2e.fr",
                                  "--first-name", "Agent", "--last-name", "Smith", "--password", password],
                                 env=platform.env, capture_output=True, text=True, timeout=120)
        assert created.returncode in (0, 1), created.stderr
    login = requests.post(platform.url("/api/identity/sessions"), timeout=10,
                          json={"login": "agent.smith", "password": password})
    assert login.status_code == 200, login.text
    return login.json()["access_token"]


def test_support_request_followed_by_mail_and_link(platform):
    categories = requests.get(platform.url("/api/helpdesk/categories"), timeout=10).json()
    category = categories["items"][0]["id"] if isinstance(categories, dict) else categories[0]["id"]
    suggestions = requests.get(platform.url("/api/helpdesk/faq/search"), params={"q": "mot de passe oublié"},
                               timeout=10)
    assert suggestions.status_code == 200
    created = requests.post(platform.url("/api/helpdesk/tickets"), timeout=30, data={
        "category_id": category, "severity": "major", "frequency": "systematic",
        "message": "Je ne parviens pas à déposer ma réponse.", "email": "anne@e2e.fr", "first_name": "Anne",
        "last_name": "Martin"}, files={"attachments": ("capture.png", PNG, "image/png")},
        headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:83.0) Gecko/20100101 Firefox/83.0"})
    assert created.status_code == 201, created.text
    ticket = created.json()
    reference = ticket["reference"]
    assert len(reference) == 8
    assert ticket["support_phone"]
    (confirmation,) = platform.mails_to("anne@e2e.fr")
    assert f"Réf. {reference}" in str(confirmation["Subject"])
    assert "Ne perdez pas ce message" in confirmation.get_body(preferencelist=("plain",)).get_content()
    follow = link_in(confirmation, r"https?://\S+/assistance/demande/\S+")
    token = follow.split("#", 1)[1]
    # The agent answers.
    agent = {"Authorization": f"Bearer {agent_token(platform)}"}
    queue = requests.get(platform.url("/api/helpdesk/agent/tickets"), params={"reference": reference},
                         headers=agent, timeout=10).json()
    ticket_id = queue["items"][0]["id"]
    replied = requests.post(platform.url(f"/api/helpdesk/agent/tickets/{ticket_id}/replies"), headers=agent,
                            timeout=10, files={"message": (None, "Pouvez-vous réessayer avec Firefox à jour ?")})
    assert replied.status_code in (200, 201), replied.text
    answered = platform.mails_to("anne@e2e.fr", count=2)
    assert f"{reference}" in str(answered[-1]["Subject"])
    # The requester answers through the link, without an account.
    via_link = requests.post(platform.url(f"/api/helpdesk/follow/{reference}/messages"), timeout=10,
                             headers={"X-Follow-Token": token}, files={"message": (None, "C'est réglé, merci.")})
    assert via_link.status_code in (200, 201), via_link.text
    history = requests.get(platform.url(f"/api/helpdesk/follow/{reference}"), headers={"X-Follow-Token": token},
                           timeout=10).json()
    assert "C'est réglé, merci." in str(history)
    assert requests.get(platform.url(f"/api/helpdesk/follow/{reference}"), headers={"X-Follow-Token": "faux"},
                        timeout=10).status_code == 404


def _pdf() -> bytes:
    from achats.signature.report_pdf import __name__ as _  # noqa: F401 (the service is installed)

    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_sign_a_pdf_in_two_steps_then_verify_it(platform):
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding

    import achats.signature

    pki = Path(achats.signature.__file__).parent / "testpki" / "local"
    requests.post(platform.url("/api/identity/registrations"), json=registration("ejoliot", "eve@e2e.fr"),
                  timeout=30)
    confirm_email(platform, "eve@e2e.fr")
    token = requests.post(platform.url("/api/identity/sessions"), timeout=10,
                          json={"login": "ejoliot", "password": PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    certificate = (pki / "qesig.cert.pem").read_bytes()
    session = requests.post(platform.url("/api/signature/signing-sessions"), headers=auth, timeout=60,
                            files={"file": ("offre.pdf", _pdf(), "application/pdf"),
                                   "certificate": ("qesig.pem", certificate, "application/x-pem-file"),
                                   "format": (None, "pades"), "level": (None, "B-T")})
    assert session.status_code == 201, session.text
    to_sign = base64.b64decode(session.json()["data_to_be_signed"])
    # On the user's device: the private key never leaves it.
    key = serialization.load_pem_private_key((pki / "qesig.key.pem").read_bytes(), password=None)
    value = (key.sign(to_sign, ec.ECDSA(hashes.SHA256())) if isinstance(key, ec.EllipticCurvePrivateKey)
             else key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256()))
    signed = requests.post(platform.url(f"/api/signature/signing-sessions/{session.json()['id']}/signature"),
                           headers=auth, json={"signature_value": base64.b64encode(value).decode()}, timeout=60)
    assert signed.status_code == 200, signed.text
    assert signed.content.startswith(b"%PDF")
    # « Vérifier la signature électronique d'un document »: no login needed.
    report = requests.post(platform.url("/api/signature/verifications"), timeout=120,
                           files={"file": ("offre-signee.pdf", signed.content, "application/pdf")})
    assert report.status_code == 201, report.text
    body = report.json()
    assert body["signature_count"] == 1
    (signature,) = body["signatures"]
    assert signature["format"] == "PAdES"
    assert signature["indication"] == "TOTAL_PASSED", (signature.get("sub_indication"), signature.get("errors"),
                                                      signature.get("warnings"))
    assert signature["integrity"]["intact"] is True
    assert body["verdict"]["code"] in ("compliant", "to_verify")
    assert body["verdict"]["human_checks"]  # the signer's identity is for a person to check
    pdf_report = requests.get(platform.url(f"/api/signature/verifications/{body['id']}/report.pdf"), timeout=30)
    assert pdf_report.content.startswith(b"%PDF")
    # One byte changed after signing: the integrity check fails.
    tampered = bytearray(signed.content)
    tampered[len(tampered) // 3] ^= 0x01
    broken = requests.post(platform.url("/api/signature/verifications"), timeout=120,
                           files={"file": ("offre-modifiee.pdf", bytes(tampered), "application/pdf")})
    assert broken.status_code in (201, 422)
    if broken.status_code == 201:
        assert broken.json()["verdict"]["code"] == "non_compliant"


def test_every_contract_on_the_docs_page_opens(platform):
    """Issue 13 item 15: the list /api/docs shows, read as the page reads it, and each entry opened."""
    import re

    page = requests.get(platform.url("/api/docs"), timeout=10)
    script = re.search(r'<script src="(/api/docs/achats-docs\.js)"', page.text).group(1)
    config = re.search(r"configUrl: '([^']+)'", requests.get(platform.url(script), timeout=10).text).group(1)
    entries = requests.get(platform.url(config), timeout=30).json()["urls"]
    assert {e["name"] for e in entries} == {"identity", "companies", "helpdesk", "signature", "notifier",
                                                "consultations"}
    for entry in entries:
        spec = requests.get(platform.url(entry["url"]), timeout=30)
        assert spec.status_code == 200, (entry, spec.text)
        assert spec.json()["paths"] and all(p.startswith("/api/") for p in spec.json()["paths"]), entry


def test_problems_name_the_public_path(platform):
    """Issue 13 item 16: through the gateway, a problem's ``instance`` is the path the client asked for."""
    invalid = requests.get(platform.url("/api/companies/lookup/12345678901234"), timeout=10)
    assert invalid.headers["content-type"] == "application/problem+json", invalid.text
    assert invalid.json()["instance"] == "/api/companies/lookup/12345678901234"
    refused = requests.post(platform.url("/api/identity/sessions"), json={"login": "personne", "password": "x"},
                            timeout=10)
    assert (refused.status_code, refused.json()["instance"]) == (401, "/api/identity/sessions")
    missing = requests.get(platform.url("/api/helpdesk/follow/HD-0000-0000"), timeout=10)
    assert missing.headers["content-type"] == "application/problem+json", missing.text
    assert missing.json()["instance"] == "/api/helpdesk/follow/HD-0000-0000"


def test_the_helpdesk_names_the_requesters_company(platform):
    """Issue 13 item 14: identity's token names the company, the helpdesk shows that name, not the UUID."""
    created = requests.post(platform.url("/api/identity/registrations"),
                            json=registration("hlefevre", "helene@e2e.fr", first_name="Hélène"), timeout=30)
    assert created.status_code == 202, created.text
    (welcome,) = platform.mails_to("helene@e2e.fr")
    token = link_in(welcome).split("token=")[1]
    assert requests.post(platform.url("/api/identity/email-verifications"), json={"token": token},
                         timeout=10).status_code == 204
    session = requests.post(platform.url("/api/identity/sessions"), timeout=10,
                            json={"login": "hlefevre", "password": PASSWORD})
    assert session.status_code == 200, session.text
    auth = {"Authorization": f"Bearer {session.json()['access_token']}"}
    context = requests.get(platform.url("/api/helpdesk/context"), headers=auth, timeout=10).json()
    assert context["contact"]["company"] == "CENTRE COMMUNAL D'ACTION SOCIALE"
    assert context["context"]["applicative"]["company"] == "CENTRE COMMUNAL D'ACTION SOCIALE"

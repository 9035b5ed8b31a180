"""`make run`'s launcher: starts every present service with embedded defaults, stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from platform_support import Platform, confirm_email

ROOT = Path(__file__).resolve().parents[1]


def wait_for(url: str, timeout: float = 60.0) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_launcher_serves_the_platform_and_stops_on_ctrl_c(tmp_path):
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.endswith(("DATABASE_URL", "AMQP_URL"))}
    launcher = subprocess.Popen([sys.executable, str(ROOT / "deploy" / "local" / "launcher.py"), "--var", str(var)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for("http://127.0.0.1:8080/healthz").json() == {"status": "ok", "service": "gateway"}
        platform = requests.get("http://127.0.0.1:8080/api/platform", timeout=5)
        assert platform.status_code == 200
        assert platform.json()["name"] == "Plateforme des achats"
        missing = requests.get("http://127.0.0.1:8080/api/nothing-here", timeout=5)
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert var.is_dir()
        services = {s["name"]: s["status"] for s in platform.json()["services"]}
        assert {"identity", "company-registry", "notifier"} <= set(services)
        assert set(services.values()) == {"ok"}
        # The whole registration flow in the embedded mode: identity, the registry and its INSEE
        # stand-in, the in-memory bus, and the notifier's mail in var/mail.
        lookup = requests.get("http://127.0.0.1:8080/api/companies/lookup/26570134200148", timeout=30)
        assert lookup.json()["company"]["name"] == "CENTRE COMMUNAL D'ACTION SOCIALE"
        registration = requests.post("http://127.0.0.1:8080/api/identity/registrations", timeout=30, json={
            "company": {"source": "insee"}, "establishment": {"siret": "26570134200148"},
            "user": {"last_name": "Curie", "first_name": "Marie", "email": "marie@example.fr", "phone": "0102"},
            "credentials": {"login": "mcurie", "password": "un cheval blanc galope dans la plaine"}})
        assert registration.status_code == 202, registration.text
        # The mail in var/mail carries the confirmation link; no login before it is followed.
        confirm_email(Platform(gateway="http://127.0.0.1:8080", ports={}, env=env, smtp=var / "mail", insee=None),
                      "marie@example.fr")
        login = requests.post("http://127.0.0.1:8080/api/identity/sessions", timeout=30, json={
            "login": "mcurie", "password": "un cheval blanc galope dans la plaine"})
        assert login.status_code == 200
        token = login.json()["access_token"]
        me = requests.get("http://127.0.0.1:8080/api/identity/me", headers={"Authorization": f"Bearer {token}"},
                          timeout=30).json()
        company = requests.get(f"http://127.0.0.1:8080/api/companies/{me['company_id']}", timeout=30,
                               headers={"Authorization": f"Bearer {token}"})
        assert company.json()["name"] == "CENTRE COMMUNAL D'ACTION SOCIALE"
        deadline = time.monotonic() + 30
        while not list((var / "mail" / "new").glob("*")) and time.monotonic() < deadline:
            time.sleep(0.2)
        mails = [p.read_bytes() for p in (var / "mail" / "new").glob("*")]
        assert any(b"marie@example.fr" in mail for mail in mails)
        launcher.send_signal(signal.SIGINT)
        output, _ = launcher.communicate(timeout=30)
        assert launcher.returncode == 0, output
        assert "stopped" in output
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()


def _launcher():
    import importlib.util

    spec = importlib.util.spec_from_file_location("achats_local_launcher", ROOT / "deploy" / "local" / "launcher.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_agent_and_make_admin_create_staff_on_the_embedded_state(tmp_path, monkeypatch):
    """`make agent` / `make admin`, with nothing set by hand: the launcher's embedded defaults find var/."""
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.endswith(("DATABASE_URL", "AMQP_URL"))}
    password = "le support répond toujours vite"
    people = {"agent": ("a.smith", "anne.smith@example.fr", "Anne", "d'Alembert"),
              "admin": ("p.admin", "paul.admin@example.fr", "Paul", "Admin")}
    for target, (login, email, first, last) in people.items():
        # -o: the venv is what it is (a stale stamp must not reinstall it in the middle of the tests).
        made = subprocess.run(["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed", target, f"LOGIN={login}",
                               f"EMAIL={email}", f"FIRST_NAME={first}", f"LAST_NAME={last}", f"PASSWORD={password}"],
                              env={**env, "ACHATS_VAR": str(var)}, capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stderr
        assert "Traceback" not in made.stderr
    incomplete = subprocess.run(["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed", "agent", "LOGIN=x"],
                                env={**env, "ACHATS_VAR": str(var)}, capture_output=True, text=True, timeout=120)
    assert incomplete.returncode != 0 and "Traceback" not in incomplete.stderr
    assert "the following arguments are required: --email" in incomplete.stderr
    # `make run` would serve this very database: log in there with the identity the launcher builds.
    for key in [k for k in os.environ if k.endswith(("DATABASE_URL", "AMQP_URL"))]:
        monkeypatch.delenv(key)
    launcher = _launcher()
    present = launcher.load_present()
    (identity,) = [d for d in present if d.name == "identity"]
    settings = identity.load_settings({**os.environ, **launcher.embedded_defaults(identity, var, present)})
    runtime = identity.runtime(settings)
    try:
        client = identity.create_app(settings, runtime).test_client()
        for (login, email, _first, last), role in zip(people.values(), ("support_agent", "platform_admin"),
                                                      strict=True):
            session = client.post("/identity/sessions", json={"login": login, "password": password})
            assert session.status_code == 200, session.text
            me = client.get("/identity/me", headers={"Authorization": f"Bearer {session.json()['access_token']}"})
            assert (me.json()["roles"], me.json()["email"], me.json()["last_name"]) == ([role], email, last)
    finally:
        runtime.db.dispose()

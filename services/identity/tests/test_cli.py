"""`achats-identity` at a terminal: a missing setting is one French line and exit status 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMAND = Path(sys.executable).parent / "achats-identity"


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.endswith(("DATABASE_URL", "AMQP_URL"))}
    return subprocess.run([str(COMMAND), *args], env={**clean, **env}, capture_output=True, text=True, timeout=60)


AGENT = ("create-agent", "--login", "agent.smith", "--email", "agent@achats.example", "--first-name", "Agent",
         "--last-name", "Smith", "--password", "le support répond toujours")


@pytest.mark.parametrize("args", [AGENT, ("create-admin", *AGENT[1:]), ("rotate-keys",), ("migrate",)],
                         ids=["create-agent", "create-admin", "rotate-keys", "migrate"])
def test_a_missing_setting_is_one_line_naming_it_and_exit_status_2(args):
    done = run(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("achats-identity : variables d'environnement manquantes : "
                           "IDENTITY_DATABASE_URL (ou DATABASE_URL), IDENTITY_AMQP_URL (ou AMQP_URL)")
    assert "make agent" in line
    assert done.stdout == ""


def test_one_missing_setting_is_named_alone(tmp_path):
    done = run(*AGENT, IDENTITY_DATABASE_URL=f"sqlite:///{tmp_path}/identity.db")
    assert (done.returncode, done.stderr.splitlines()) == (2, [
        "achats-identity : variable d'environnement manquante : IDENTITY_AMQP_URL (ou AMQP_URL) ; avec `make run`, "
        "créez les comptes par `make agent` ou `make admin` (deploy/local/README.md)."])


def test_a_database_without_its_schema_is_one_line_too(tmp_path):
    done = run(*AGENT, IDENTITY_DATABASE_URL=f"sqlite:///{tmp_path}/identity.db", IDENTITY_AMQP_URL="memory://cli")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("achats-identity : base de données inaccessible ou pas à jour (`achats-identity migrate`)")

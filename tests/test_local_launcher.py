"""`make run`'s launcher: starts every present service with embedded defaults, stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

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
        launcher.send_signal(signal.SIGINT)
        output, _ = launcher.communicate(timeout=30)
        assert launcher.returncode == 0, output
        assert "stopped" in output
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()

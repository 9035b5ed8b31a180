"""/metrics under several gunicorn workers counts every request once, whichever worker answered."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_requests_are_summed_across_workers(tmp_path):
    port = free_port()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(HERE),
           "SAMPLE_DATABASE_URL": "", "SAMPLE_AMQP_URL": ""}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "uvicorn_worker.UvicornWorker", "-w", "2", "-b", f"127.0.0.1:{port}",
         "-c", "python:achats.chassis.gunicorn_conf", "sample_app:app()"],
        env=env, cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or a worker still booting
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        pids: set[int] = set()
        sent = 0
        deadline = time.monotonic() + 60
        # Which worker accepts a connection is the kernel's choice: ask until both have answered.
        while len(pids) < 2 or sent < 60:
            assert time.monotonic() < deadline, f"only workers {pids} answered"
            response = requests.get(f"http://127.0.0.1:{port}/sample/items", headers={"Connection": "close"},
                                    timeout=5)
            assert response.status_code == 200
            pids.add(response.json()["pid"])
            sent += 1

        def counted() -> float:
            metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            match = re.search(r'http_requests_total\{method="GET",route="sample_service\.api\.list_items",'
                              r'service="sample",status="200"\} (\d+\.\d+)', metrics)
            assert match is not None, metrics[:2000]
            return float(match.group(1))

        # A worker counts a request once its answer has gone out: the client may read the last answer
        # a moment before the count moves. Wait for it, then it must be exact (every worker, no double).
        deadline = time.monotonic() + 10
        while (total := counted()) < sent and time.monotonic() < deadline:
            time.sleep(0.05)
        assert total == sent
        time.sleep(0.2)
        assert counted() == sent
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

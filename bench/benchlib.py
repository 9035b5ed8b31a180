"""What the benchmarks share: a throw-away PostgreSQL database, a service under gunicorn, percentiles."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import psycopg
import requests
from sqlalchemy.engine import make_url

from achats.chassis.testing.server import free_port

SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextlib.contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards."""
    name = f"achats_bench_{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(SERVER_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_for(url: str, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still starting
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server behind {url} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer in {timeout} s")
        time.sleep(0.2)


@contextlib.contextmanager
def gunicorn(definition: str, env: dict[str, str], *, workers: int = 2,
             ready_path: str = "/healthz", port: int | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """A service as production runs it (gunicorn, uvicorn workers): its base URL and its process. ``port``:
    one chosen beforehand (a service started earlier must know this one's address)."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "uvicorn_worker.UvicornWorker", "-w", str(workers),
         "-b", f"127.0.0.1:{port}", "-c", "python:achats.chassis.gunicorn_conf",
         f'achats.chassis.service:asgi_app("{definition}")'],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + ready_path, process=process)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)

"""Benchmark of identity: password logins and refresh grants through the service (gunicorn, 2 workers,
PostgreSQL, argon2id at the service's parameters).

Prints one JSON line: logins/s and p99, refresh grants/s and p99, total and per vCPU of the machine
(whose two cores also run PostgreSQL and this load generator: conservative), and per CPU-second the
service itself used (measured from /proc: what Keycloak's sizing guide counts, one vCPU per N/s).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

import requests

from achats.chassis.db import Database
from achats.identity.app import SERVICE
from achats.identity.models import User
from achats.identity.passwords import Hasher

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import fresh_database, gunicorn, percentile

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = 8
PASSWORD = "une phrase de passe de banc d'essai"


def service_cpu_seconds(root_pid: int) -> float:
    """CPU time used so far by the service: the gunicorn master and its workers (not the database,
    not this load generator), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        if pid == root_pid or ppid == root_pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def run(clients: int, work) -> tuple[float, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + SECONDS

    def client(index: int) -> None:
        session = requests.Session()
        state = {}
        mine = []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            work(session, index, state)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / SECONDS, percentile(latencies, 0.99) * 1000


def main() -> None:
    with fresh_database("identity") as url:
        settings = SERVICE.load_settings({}, database_url=url, amqp_url="memory://bench")
        SERVICE.migrate(settings)
        hasher = Hasher(memory_kib=settings.argon2_memory_kib, time_cost=settings.argon2_time_cost,
                        parallelism=settings.argon2_parallelism)
        db = Database(url)
        with db.unit_of_work() as uow:
            hashed = hasher.hash(PASSWORD)
            for n in range(CLIENTS):
                uow.session.add(User(login=f"bench{n}", email=f"bench{n}@example.fr", first_name="Banc",
                                     last_name="Essai", phone="0", password_hash=hashed, roles=["supplier"]))
            uow.commit()
        db.dispose()
        env = {"IDENTITY_DATABASE_URL": url, "IDENTITY_AMQP_URL": "memory://bench", "LOG_LEVEL": "WARNING"}
        with gunicorn("achats.identity.app:SERVICE", env, ready_path="/identity/.well-known/jwks.json") as (
                server_url, server):
            base = f"{server_url}/identity"

            def login(session, index, _state) -> None:
                response = session.post(f"{base}/sessions", json={"login": f"bench{index}", "password": PASSWORD},
                                        timeout=10)
                assert response.status_code == 200, response.text

            def refresh(session, index, state) -> None:
                if "token" not in state:
                    state["token"] = session.post(f"{base}/sessions", json={
                        "login": f"bench{index}", "password": PASSWORD}).json()["refresh_token"]
                response = session.post(f"{base}/sessions/refresh", json={"refresh_token": state["token"]},
                                        timeout=10)
                assert response.status_code == 200, response.text
                state["token"] = response.json()["refresh_token"]

            cpu = service_cpu_seconds(server.pid)
            logins, login_p99 = run(CLIENTS, login)
            login_cpu = service_cpu_seconds(server.pid) - cpu
            cpu = service_cpu_seconds(server.pid)
            refreshes, refresh_p99 = run(CLIENTS, refresh)
            refresh_cpu = service_cpu_seconds(server.pid) - cpu
    vcpus = os.cpu_count() or 1
    print(json.dumps({
        "bench": "identity_login",
        "argon2": f"argon2id m={settings.argon2_memory_kib}KiB t={settings.argon2_time_cost} "
                  f"p={settings.argon2_parallelism}",
        "vcpus": vcpus,
        "logins_per_s": round(logins, 1),
        "logins_per_s_per_vcpu": round(logins / vcpus, 1),
        "login_p99_ms": round(login_p99, 1),
        "logins_per_service_cpu_second": round(logins * SECONDS / login_cpu, 1),
        "refreshes_per_s": round(refreshes, 1),
        "refreshes_per_s_per_vcpu": round(refreshes / vcpus, 1),
        "refresh_p99_ms": round(refresh_p99, 1),
        "refreshes_per_service_cpu_second": round(refreshes * SECONDS / refresh_cpu, 1),
    }))


if __name__ == "__main__":
    main()

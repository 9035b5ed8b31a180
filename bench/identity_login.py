"""Benchmark of identity: password logins and refresh grants through the service (gunicorn, 2 workers,
PostgreSQL, argon2id at the service's parameters).

Prints one JSON line: logins/s and p99, refresh grants/s and p99, total and per vCPU of the machine
(whose two cores also run PostgreSQL and this load generator: conservative), and per CPU-second the
service itself used (measured from /proc: what Keycloak's sizing guide counts, one vCPU per N/s).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime

import requests

from achats.chassis.db import Database
from achats.identity.app import SERVICE
from achats.identity.models import User
from achats.identity.passwords import Hasher

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import fresh_database, gunicorn

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))  # whole seconds: what wrk takes
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


# wrk (C, a few % of one core) drives the load, so the machine's two cores go to the service and
# PostgreSQL rather than to a Python load generator. One connection per wrk thread: each keeps its
# own refresh token, replaced by the one every answer carries (a refresh token is single use).
WRK_SCRIPT = """
local bodies = {%(bodies)s}
local chain = %(chain)s
local next_body = 1
function setup(thread)
  thread:set("body", bodies[next_body])
  next_body = next_body + 1
end
function request()
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
function response(status, headers, answer)
  if chain and status == 200 then
    body = '{"refresh_token": "' .. answer:match('"refresh_token"%%s*:%%s*"([^"]+)"') .. '"}'
  end
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%.3f\\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(99) / 1000))
end
"""


def run(url: str, bodies: list[dict], *, chain: bool) -> tuple[float, float]:
    """Requests/s and p99 (ms) of POSTs of ``bodies`` (one connection each) for SECONDS."""
    script = WRK_SCRIPT % {"bodies": ", ".join(_lua_string(json.dumps(b)) for b in bodies),
                           "chain": "true" if chain else "false"}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as handle:
        handle.write(script)
        handle.flush()
        output = subprocess.run(["wrk", f"-t{len(bodies)}", f"-c{len(bodies)}", f"-d{SECONDS}s", "--timeout", "10s",
                                 "-s", handle.name, url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"^RESULT (\d+) (\d+) (\d+) ([\d.]+)$", output, re.MULTILINE)
    requests_, bad_status, socket_errors, p99 = int(match[1]), int(match[2]), int(match[3]), float(match[4])
    if bad_status or socket_errors:
        raise RuntimeError(f"{url}: {bad_status} answers other than 2xx/3xx, {socket_errors} socket errors")
    return requests_ / SECONDS, p99


def _lua_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


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
                                     last_name="Essai", phone="0", password_hash=hashed, roles=["supplier"],
                                     activated_at=datetime.now(UTC)))
            uow.commit()
        db.dispose()
        env = {"IDENTITY_DATABASE_URL": url, "IDENTITY_AMQP_URL": "memory://bench", "LOG_LEVEL": "WARNING"}
        with gunicorn("achats.identity.app:SERVICE", env, ready_path="/identity/.well-known/jwks.json") as (
                server_url, server):
            base = f"{server_url}/identity"

            credentials = [{"login": f"bench{n}", "password": PASSWORD} for n in range(CLIENTS)]
            first_tokens = [{"refresh_token": requests.post(f"{base}/sessions", json=c, timeout=30)
                             .json()["refresh_token"]} for c in credentials]

            cpu = service_cpu_seconds(server.pid)
            logins, login_p99 = run(f"{base}/sessions", credentials, chain=False)
            login_cpu = service_cpu_seconds(server.pid) - cpu
            cpu = service_cpu_seconds(server.pid)
            refreshes, refresh_p99 = run(f"{base}/sessions/refresh", first_tokens, chain=True)
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

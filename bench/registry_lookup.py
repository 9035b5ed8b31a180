"""Benchmark of the company registry's lookup, through the service (gunicorn, 2 workers, PostgreSQL).

Prints one JSON line: cached lookups/s (closed loop), latency p50/p99 of cached lookups at a steady
500 requests/s, and the coalescing ratio when 50 concurrent clients ask for the same uncached numbers
(requests per call to INSEE, counted by the stand-in).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from stdnum.fr import siret as stdnum_siret

from achats.chassis.migrations import migrate
from achats.company_registry.app import HERE
from achats.company_registry.standin.testing import running_standin

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import fresh_database, gunicorn, percentile

RATE = 500
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CCAS = "26570134200148"


def fresh_sirets(count: int) -> list[str]:
    found, base = [], 40_000_000
    while len(found) < count:
        base += 1
        for nic in range(10):
            candidate = f"{base:09d}0001{nic}"
            if stdnum_siret.is_valid(candidate) and candidate[-2] != "9" and candidate[7] != "9":
                found.append(candidate)
                break
    return found


def steady(url: str) -> tuple[float, float, float]:
    local = threading.local()
    latencies: list[float] = []
    lock = threading.Lock()

    def one(_: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        response = session.get(url, timeout=10)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
        with lock:
            latencies.append(elapsed)

    total = RATE * SECONDS
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for n in range(total):
            delay = began + n / RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, n)
    achieved = total / (time.perf_counter() - began)
    return achieved, percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000


def closed_loop(url: str, clients: int = 16, seconds: float = 5.0) -> float:
    count = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        session = requests.Session()
        done = 0
        while time.perf_counter() < deadline:
            assert session.get(url, timeout=10).status_code == 200
            done += 1
        with lock:
            count[0] += done

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count[0] / seconds


def coalescing(base: str, standin) -> tuple[int, int]:
    numbers = fresh_sirets(20)
    standin.reset()
    standin.set_mode("slow", delay=0.3)

    def client(_: int) -> int:
        session = requests.Session()
        for number in numbers:
            assert session.get(f"{base}/registry/lookup/{number}", timeout=10).status_code == 200
        return len(numbers)

    with ThreadPoolExecutor(max_workers=50) as pool:
        total = sum(pool.map(client, range(50)))
    calls = standin.calls()["total"]
    standin.reset()
    return total, calls


def main() -> None:
    with fresh_database("registry") as url, running_standin() as standin:
        migrate(url, HERE / "migrations")
        env = {"COMPANY_REGISTRY_DATABASE_URL": url, "COMPANY_REGISTRY_AMQP_URL": "memory://bench",
               "COMPANY_REGISTRY_INSEE_BASE_URL": standin.base_url, "LOG_LEVEL": "WARNING",
               "COMPANY_REGISTRY_INSEE_API_KEY": standin.api_key}
        with gunicorn("achats.company_registry.app:SERVICE", env) as (base, _process):
            lookup = f"{base}/registry/lookup/{CCAS}"
            for _ in range(20):  # warm both workers and the cache
                requests.get(lookup, timeout=10)
            throughput = closed_loop(lookup)
            achieved, p50, p99 = steady(lookup)
            total, calls = coalescing(base, standin)
    print(json.dumps({
        "bench": "registry_lookup",
        "cached_lookups_per_s": round(throughput, 1),
        "steady_rate_target": RATE,
        "steady_rate_achieved": round(achieved, 1),
        "cached_p50_ms": round(p50, 2),
        "cached_p99_ms": round(p99, 2),
        "coalescing_requests": total,
        "coalescing_upstream_calls": calls,
        "coalescing_ratio": round(total / max(calls, 1), 1),
    }))


if __name__ == "__main__":
    main()

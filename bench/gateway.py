"""Benchmark of the gateway: throughput and added latency versus calling the service directly, and
versus nginx as a plain reverse proxy to the same service, in the same run.

Two upstreams: the company registry itself answering a cached SIRET lookup (one gunicorn worker,
the chassis' full stack: validation, logs, metrics), and a bare ASGI function returning the same
bytes (to show the proxy's own ceiling). The gateway runs one worker (gunicorn + uvicorn worker, INFO
access logs), nginx one worker process; load from wrk (throughput at saturation, 16 connections) and
from a paced client (latency at 200/s). Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from achats.chassis.migrations import migrate
from achats.chassis.testing.server import free_port
from achats.company_registry.app import HERE
from achats.company_registry.standin.testing import running_standin

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import wait_for

SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
PATH = "/api/companies/lookup/26570134200148"
BODY = json.dumps({"company": {"siren": "265701342", "name": "CENTRE COMMUNAL D'ACTION SOCIALE", "sigle": "CCAS",
                               "naf_code": "88.99B", "legal_form_code": "7361", "is_pme": True},
                   "establishments": [{"siret": "26570134200148", "street": "22 RUE DU WAD BILLY",
                                       "postal_code": "57000", "city": "METZ", "active": True}] * 3,
                   "kind": "siret", "count": 1}).encode()


async def upstream_app(scope, receive, send) -> None:
    if scope["type"] != "http":
        await _lifespan(receive, send)
        return
    await receive()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def wrk(url: str) -> float:
    output = subprocess.run(["wrk", "-t1", "-c16", f"-d{SECONDS}s", url], capture_output=True, text=True,
                            check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def paced_latency(url: str, rate: int = 200, count: int = 1000) -> tuple[float, float]:
    session = requests.Session()
    latencies = []
    started = time.perf_counter()
    for n in range(count):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        begin = time.perf_counter()
        assert session.get(url, timeout=5).status_code == 200
        latencies.append(time.perf_counter() - begin)
    latencies.sort()
    return latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99)] * 1000


def nginx_config(folder: Path, port: int, upstream_port: int) -> Path:
    config = folder / "nginx.conf"
    config.write_text(f"""
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log {folder}/access.log;
  client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi; uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
  upstream service {{ server 127.0.0.1:{upstream_port}; keepalive 32; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://service/registry/lookup/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
    }}
  }}
}}
""")
    return config


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "upstream":
        import uvicorn

        uvicorn.run(upstream_app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
        return
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: run scripts/ensure-bench-tools.sh")
    processes = []
    folder = Path(tempfile.mkdtemp())
    results = {}
    try:
        with running_standin() as standin:
            registry_port, bare_port = free_port(), free_port()
            database = f"sqlite:///{folder}/registry.db"
            migrate(database, HERE / "migrations")
            registry_env = {**os.environ, "COMPANY_REGISTRY_DATABASE_URL": database,
                            "COMPANY_REGISTRY_AMQP_URL": "memory://bench", "LOG_LEVEL": "INFO",
                            "COMPANY_REGISTRY_INSEE_BASE_URL": standin.base_url}
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-k", "uvicorn_worker.UvicornWorker", "-w", "1",
                 "-b", f"127.0.0.1:{registry_port}", "-c", "python:achats.chassis.gunicorn_conf",
                 'achats.chassis.service:asgi_app("achats.company_registry.app:SERVICE")'],
                env=registry_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            processes.append(subprocess.Popen([sys.executable, __file__, "upstream", str(bare_port)]))
            for name, upstream_port in (("registry", registry_port), ("bare", bare_port)):
                results[name] = compare(folder, upstream_port, processes)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    line = {"bench": "gateway"}
    for name, (rates, latency) in results.items():
        line.update({
            f"{name}_direct_rps": round(rates["direct"], 1),
            f"{name}_gateway_rps": round(rates["gateway"], 1),
            f"{name}_nginx_rps": round(rates["nginx"], 1),
            f"{name}_gateway_share_of_direct": round(rates["gateway"] / rates["direct"], 3),
            f"{name}_nginx_share_of_direct": round(rates["nginx"] / rates["direct"], 3),
            f"{name}_direct_p50_ms": round(latency["direct"][0], 2),
            f"{name}_gateway_p50_ms": round(latency["gateway"][0], 2),
            f"{name}_gateway_p99_ms": round(latency["gateway"][1], 2),
            f"{name}_nginx_p50_ms": round(latency["nginx"][0], 2),
            f"{name}_gateway_p50_overhead_ms": round(latency["gateway"][0] - latency["direct"][0], 2),
            f"{name}_nginx_p50_overhead_ms": round(latency["nginx"][0] - latency["direct"][0], 2),
        })
    print(json.dumps(line))


def compare(folder: Path, upstream_port: int, processes: list) -> tuple[dict, dict]:
    gateway_port, nginx_port = free_port(), free_port()
    env = {**os.environ, "GATEWAY_UPSTREAMS": f"company-registry=http://127.0.0.1:{upstream_port}",
           "LOG_LEVEL": "INFO", "LOG_JSON": "true",
           # Limits are checked as usual, set high enough never to refuse the load generator.
           "GATEWAY_RATE_IP_PER_MINUTE": "1000000000"}
    gateway_process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "uvicorn_worker.UvicornWorker", "-w", "1",
         "-b", f"127.0.0.1:{gateway_port}", "-c", "python:achats.chassis.gunicorn_conf",
         'achats.chassis.service:asgi_app("achats.gateway.app:SERVICE")'],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    nginx_folder = folder / f"nginx-{upstream_port}"
    nginx_folder.mkdir()
    nginx_process = subprocess.Popen(["nginx", "-c", str(nginx_config(nginx_folder, nginx_port, upstream_port)),
                                      "-p", str(nginx_folder), "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    processes += [gateway_process, nginx_process]
    try:
        direct = f"http://127.0.0.1:{upstream_port}/registry/lookup/26570134200148"
        gateway = f"http://127.0.0.1:{gateway_port}{PATH}"
        nginx = f"http://127.0.0.1:{nginx_port}/26570134200148"
        urls = (("direct", direct), ("gateway", gateway), ("nginx", nginx))
        for _name, url in urls:
            wait_for(url)
        rates = {name: wrk(url) for name, url in urls}
        latency = {name: paced_latency(url) for name, url in urls}
        return rates, latency
    finally:
        for process in (gateway_process, nginx_process):
            process.terminate()
            process.wait(timeout=30)





if __name__ == "__main__":
    main()

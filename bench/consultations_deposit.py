"""Benchmark of the deposits of the consultations service, through the service (gunicorn, 2 workers, PostgreSQL).

Prints one JSON line: deposits per second of a 10 MB answer (one PDF-typed file, multipart, checked by content,
SHA-256, a RFC 3161 timestamp from the signature service's test TSA over HTTP — checked against its certificate
—, AES-GCM encryption under the consultation's data key, written, fsynced and renamed into place, the rows and
the outbox event committed), each followed by the download of its PDF receipt; closed loop with CLIENTS clients;
latency p50/p99. No signature verification (SIGNATURE_URL empty: that cost is the signature bench's).
Peer figures of the same run, on the same 10 MB: raw AES-GCM + SHA-256 per second in one thread, and a plain
file write + fsync per second — what the deposit cannot go faster than.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from achats.chassis.testing.keys import TestKeys
from achats.chassis.testing.server import serving
from achats.consultations.app import SERVICE
from achats.signature.testpki import standins
from achats.signature.testpki.pki import TestPki

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import fresh_database, gunicorn, percentile

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = 4
SIZE = 10 * 1024 * 1024
WORKS = "b39fa012-4be4-5a3f-89e1-2476c1b67500"  # TEST-2026-TRX-001, stable id of the seed migration


def answer() -> bytes:
    head = b"%PDF-1.7\n"
    return head + os.urandom(SIZE - len(head) - 6) + b"\n%%EOF"


def peer_crypto(content: bytes, seconds: float) -> float:
    key, count, start = AESGCM.generate_key(bit_length=256), 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        hashlib.sha256(content).hexdigest()
        AESGCM(key).encrypt(os.urandom(12), content, b"file")
        count += 1
    return count / (time.perf_counter() - start)


def peer_write(content: bytes, folder: Path, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        path = folder / f"peer-{count}"
        with open(path, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        path.unlink()
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    keys = TestKeys()
    pki = TestPki(standins.LOCAL_PKI)
    jwks_app = Starlette(routes=[Route("/jwks", lambda _request: JSONResponse(keys.jwks()))])
    content = answer()
    with tempfile.TemporaryDirectory(prefix="bench-consultations-") as tmp, serving(jwks_app) as jwks_base, \
            serving(standins.tsa_app()) as tsa_base, fresh_database("consultations") as database_url:
        folder = Path(tmp)
        env = {"CONSULTATIONS_DATABASE_URL": database_url, "CONSULTATIONS_AMQP_URL": "memory://bench",
               "CONSULTATIONS_JWKS_URL": f"{jwks_base}/jwks", "CONSULTATIONS_TSA_URL": f"{tsa_base}/tsa",
               "CONSULTATIONS_TSA_CERTIFICATE": str(pki.cert_path("tsa")),
               "CONSULTATIONS_MASTER_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
               "CONSULTATIONS_DEPOSIT_STORAGE": str(folder / "deposits"), "CONSULTATIONS_SIGNATURE_URL": "",
               "CONSULTATIONS_LOG_LEVEL": "WARNING", "CONSULTATIONS_EXPOSE_DOCS": "false"}
        SERVICE.migrate(SERVICE.load_settings({}, database_url=database_url, amqp_url="memory://bench"))
        with gunicorn("achats.consultations.app:SERVICE", env) as (base, _process):
            url = f"{base}/consultations/consultations/{WORKS}/lots/1/deposits"
            latencies: list[float] = []
            lock = threading.Lock()

            def client(index: int, until: float) -> None:
                session = requests.Session()
                token = keys.token({"sub": f"bench-{index}", "roles": ["supplier"], "email": f"b{index}@bench.example",
                                    "company_id": f"company-{index}"}, exp_in=3600)
                headers = {"Authorization": f"Bearer {token}"}
                while time.perf_counter() < until:
                    start = time.perf_counter()
                    response = session.post(url, headers=headers, files={"offre": ("offre.pdf", content)}, timeout=120)
                    assert response.status_code == 201, response.text
                    receipt = session.get(f"{base}{response.json()['receipt']}", headers=headers, timeout=60)
                    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF-"), receipt.text
                    with lock:
                        latencies.append(time.perf_counter() - start)

            client(99, time.perf_counter() + 0.1)  # warm both workers' imports and the data key
            latencies.clear()
            until = time.perf_counter() + SECONDS
            start = time.perf_counter()
            threads = [threading.Thread(target=client, args=(i, until)) for i in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - start
        crypto = peer_crypto(content, min(SECONDS, 5))
        write = peer_write(content, folder, min(SECONDS, 5))
    rate = len(latencies) / elapsed
    print(json.dumps({
        "bench": "consultations_deposit", "answer_mb": SIZE / 1024 / 1024, "clients": CLIENTS, "seconds": SECONDS,
        "deposits": len(latencies), "deposits_with_receipt_per_s": round(rate, 2),
        "mb_per_s": round(rate * SIZE / 1024 / 1024, 1),
        "latency_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "peer_aesgcm_sha256_per_s": round(crypto, 2), "peer_file_write_fsync_per_s": round(write, 2),
        "ratio_to_aesgcm_sha256": round(rate / crypto, 3)}))


if __name__ == "__main__":
    main()

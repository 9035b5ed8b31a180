"""Benchmark of the signature service: PAdES verifications/s of a 1 MB and a 20 MB signed PDF through the
service, beside `pdfsig` (poppler-utils) on the same files in the same run; signings/s one shot and two steps.

Everything speaks HTTP as in production: the service (gunicorn, 2 uvicorn workers, one sandbox worker
process each, PostgreSQL, /tmp on tmpfs), the test PKI's stand-ins (OCSP/CRL, TSA, trusted lists) and
pdfsig's NSS database trusting the same roots, so that both sides check the chain and the revocation
(OCSP) of every signature. Load comes from threads of this process on the same 2-core machine.

Prints one JSON line.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from benchlib import fresh_database, gunicorn
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from achats.chassis.migrations import migrate
from achats.chassis.testing.keys import TestKeys
from achats.chassis.testing.server import serving
from achats.signature.app import HERE
from achats.signature.testpki.samples import device_sign, key_and_pem, make_pdf, sign
from achats.signature.testpki.testing import running_pki

SECONDS = float(os.environ.get("BENCH_SECONDS", "12"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
API_PROCESSES = int(os.environ.get("BENCH_API_PROCESSES", "2"))
# Uploads spill from multipart parsing to temporary files: on a memory file system, as the README
# recommends for deployments (Kubernetes: an emptyDir with medium Memory on /tmp).
TMPDIR = os.environ.get("BENCH_TMPDIR", "/dev/shm")


def sized_pdf(size: int) -> bytes:
    """A one-page PDF carrying ``size`` bytes of incompressible data (a stream referenced by the catalog)."""
    base = make_pdf("Dossier de candidature — pièce volumineuse")
    writer = IncrementalPdfFileWriter(io.BytesIO(base))
    blob = writer.add_object(generic.StreamObject(stream_data=os.urandom(size)))
    writer.root["/AchatsPayload"] = blob
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def multipart(fields: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart body built once, so that the load generator does not re-encode 20 MB per request."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, (filename, content) in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def closed_loop(call, seconds: float, clients: int) -> tuple[float, int]:
    """Calls/s with ``clients`` threads calling back to back for ``seconds``."""
    done = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    local = threading.local()

    def worker() -> None:
        local.session = requests.Session()
        while time.monotonic() < stop_at:
            call(local.session)
            with lock:
                done[0] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(worker) for _ in range(clients)]:
            future.result()
    return done[0] / (time.monotonic() - started), done[0]


def pdfsig_rate(pdfsig: str, nss: Path, path: Path, seconds: float) -> tuple[float, int]:
    """pdfsig's per-file process rate: one process per verification, back to back."""
    count = 0
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        result = subprocess.run([pdfsig, "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True)
        assert "Signature is Valid." in result.stdout, result.stdout
        count += 1
    return count / (time.monotonic() - started), count


def nss_database(folder: Path, pki) -> Path:
    certutil = shutil.which("certutil")
    if certutil is None:
        raise SystemExit("certutil is required: apt-get install -y libnss3-tools")
    nss = folder / "nss"
    nss.mkdir()
    subprocess.run([certutil, "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    for slug in ("qualified-root", "qualified-ca"):
        subprocess.run([certutil, "-A", "-d", f"sql:{nss}", "-n", slug, "-t", "C,C,C", "-i",
                        str(pki.pki.cert_path(slug))], check=True, capture_output=True)
    return nss


def service_env(folder: Path, pki, jwks_url: str, database_url: str) -> dict[str, str]:
    return {"SIGNATURE_DATABASE_URL": database_url, "SIGNATURE_AMQP_URL": "memory://bench",
            "SIGNATURE_LOTL_URL": pki.lotl_url, "SIGNATURE_LOTL_SIGNER_CERTS": str(pki.pki.cert_path("lotl-signer")),
            "SIGNATURE_TSA_URL": pki.tsa_url, "SIGNATURE_TRUST_LISTS_CACHE_DIR": str(folder / "tl-cache"),
            "SIGNATURE_JWKS_URL": jwks_url, "SIGNATURE_VALIDATION_WORKERS": str(WORKERS),
            "SIGNATURE_LOG_LEVEL": "WARNING", "SIGNATURE_EXPOSE_DOCS": "false", "TMPDIR": TMPDIR}


def main() -> None:
    pdfsig = shutil.which("pdfsig")
    if pdfsig is None:
        raise SystemExit("pdfsig is required: apt-get install -y poppler-utils")
    keys = TestKeys()
    jwks_app = Starlette(routes=[Route("/jwks", lambda _request: JSONResponse(keys.jwks()))])
    with tempfile.TemporaryDirectory(prefix="bench-signature-") as tmp, running_pki(Path(tmp) / "pki") as pki, \
            serving(jwks_app) as jwks_base, fresh_database("signature") as database_url:
        folder = Path(tmp)
        files = {}
        for label, size in (("1mb", 1_000_000), ("20mb", 20_000_000)):
            path = folder / f"signed-{label}.pdf"
            path.write_bytes(sign(pki, "qesig", sized_pdf(size), level="B-T"))
            files[label] = path
        nss = nss_database(folder, pki)
        migrate(database_url, HERE / "migrations")
        results: dict[str, object] = {}
        with gunicorn("achats.signature.app:SERVICE", service_env(folder, pki, f"{jwks_base}/jwks", database_url),
                      workers=API_PROCESSES) as (service_url, _process):
            base = f"{service_url}/signature"
            for label, path in files.items():
                body, content_type = multipart({"file": (path.name, path.read_bytes())})

                def verify(session, body=body, content_type=content_type) -> None:
                    response = session.post(f"{base}/verifications", data=body,
                                            headers={"Content-Type": content_type}, timeout=120)
                    assert response.status_code == 201, response.text
                    signature = response.json()["signatures"][0]
                    assert signature["revocation"]["status"] == "good", signature["revocation"]
                    assert signature["verdict"]["code"] == "compliant", signature["verdict"]

                session = requests.Session()
                for _ in range(2 * WORKERS):  # warm every sandbox worker and the trusted lists
                    verify(session)
                rate, count = closed_loop(verify, SECONDS, CLIENTS)
                pdfsig_per_s, pdfsig_count = pdfsig_rate(pdfsig, nss, path, SECONDS)
                results[f"verify_{label}_per_s"] = round(rate, 2)
                results[f"pdfsig_{label}_per_s"] = round(pdfsig_per_s, 2)
                results[f"ratio_{label}"] = round(rate / pdfsig_per_s, 2)
                results[f"verifications_{label}"] = count
                results[f"pdfsig_runs_{label}"] = pdfsig_count

            document = make_pdf()
            p12 = pki.pki.p12("qesig")
            token = {"Authorization": "Bearer " + keys.token({"sub": "bench", "roles": ["supplier"]})}
            one_shot_body, one_shot_type = multipart({"file": ("offre.pdf", document), "pkcs12": ("c.p12", p12)})
            # Text fields of the form, appended to the prebuilt body.
            boundary = one_shot_type.split("boundary=")[1]
            extra = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                            for k, v in {"format": "pades", "level": "B-B", "password": pki.pki.password}.items())
            one_shot_body = extra.encode() + one_shot_body

            def one_shot(session) -> None:
                response = session.post(f"{base}/signatures", data=one_shot_body,
                                        headers={"Content-Type": one_shot_type, **token}, timeout=60)
                assert response.status_code == 200, response.text

            key, pem = key_and_pem(pki, "qesig")

            def two_steps(session) -> None:
                opened = session.post(f"{base}/signing-sessions", headers=token, data={"format": "pades"},
                                      files={"file": ("offre.pdf", document), "certificate": ("c.pem", pem)},
                                      timeout=60)
                assert opened.status_code == 201, opened.text
                session_id, dtbs = opened.json()["id"], base64.b64decode(opened.json()["data_to_be_signed"])
                value = base64.b64encode(device_sign(key, dtbs)).decode()
                finished = session.post(f"{base}/signing-sessions/{session_id}/signature", headers=token,
                                        json={"signature_value": value}, timeout=60)
                assert finished.status_code == 200, finished.text

            one_shot(requests.Session())
            two_steps(requests.Session())
            results["sign_one_shot_per_s"] = round(closed_loop(one_shot, SECONDS, CLIENTS)[0], 2)
            results["sign_two_steps_per_s"] = round(closed_loop(two_steps, SECONDS, CLIENTS)[0], 2)
    print(json.dumps({"bench": "signature", "service_processes": API_PROCESSES, "sandbox_workers": WORKERS,
                      "clients": CLIENTS, "level": "PAdES-BASELINE-T", "revocation": "OCSP, hard", **results}))


if __name__ == "__main__":
    main()

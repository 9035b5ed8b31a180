"""Benchmark of « Mon Assistant Marchés Publics »: PAdES signatures/s of a 1 MB PDF from a SoftHSM2 token
through the signature service's two-step protocol, and the assistant's start time; in the same run, the peers:
the same two steps with the key in software, and the same signature made by pyHanko directly (no service).

The service runs in this process over real HTTP (uvicorn, SQLite, 2 sandbox workers), as in the assistant's
tests; one client signs one document after the other, as a person does. Level B-B (a timestamp would measure the
TSA stand-in). Start time: a cold `python -m achats.assistant ouvrir` until its local server answers
`/v1/status` (median of 5), `--version` (median of 5), and the zipapp's `--version` when `make assistant-zipapp`
has built it. The three ways alternate in ROUNDS rounds, so that a machine whose load changes (other jobs) weighs
on each alike.

Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter

from achats.assistant.service import SignatureService
from achats.assistant.signing import sign_documents
from achats.assistant.tokens import Keystore
from achats.chassis import security
from achats.chassis.testing.keys import TestKeys
from achats.chassis.testing.server import serving
from achats.signature.app import SERVICE
from achats.signature.testpki.samples import device_sign, key_and_pem, make_pdf
from achats.signature.testpki.testing import running_pki

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "assistant" / "tests"))
from assistant_support import PIN, SOFTHSM_MODULE, SoftHsm

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))  # per way, split over the rounds
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "4"))
ORIGIN = "https://marches.example"


def sized_pdf(size: int) -> bytes:
    base = make_pdf("Dossier de candidature — pièce volumineuse")
    writer = IncrementalPdfFileWriter(io.BytesIO(base))
    writer.root["/AchatsPayload"] = writer.add_object(generic.StreamObject(stream_data=os.urandom(size)))
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def interleaved(calls: dict, seconds: float = SECONDS, rounds: int = ROUNDS) -> dict[str, tuple[float, int]]:
    """Each call's rate (per second) and count, the calls taking turns for ``seconds / rounds`` each."""
    for call in calls.values():
        call()  # warm-up
    spent = dict.fromkeys(calls, 0.0)
    done = dict.fromkeys(calls, 0)
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.perf_counter()
            while time.perf_counter() - started < seconds / rounds:
                call()
                done[name] += 1
            spent[name] += time.perf_counter() - started
    return {name: (done[name] / spent[name], done[name]) for name in calls}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_time(env: dict) -> float:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "achats.assistant", "ouvrir", "--port", str(port),
                                "--plateforme", ORIGIN], env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/v1/status", headers={"Origin": ORIGIN},
                                timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except requests.ConnectionError:
                time.sleep(0.005)
            if process.poll() is not None:
                raise RuntimeError("the assistant exited")
    finally:
        process.terminate()
        process.wait(10)


def version_time(env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "achats.assistant", "--version"], env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def zipapp_version_time(zipapp: Path, env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, str(zipapp), "--version"], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    keys = TestKeys()
    with tempfile.TemporaryDirectory(prefix="bench-assistant-") as tmp, running_pki(Path(tmp) / "pki") as pki:
        folder = Path(tmp)
        hsm = SoftHsm(folder / "softhsm")
        os.environ["SOFTHSM2_CONF"] = str(hsm.conf)
        hsm.import_key(pki.pki.folder / "qesig.key.pem", pki.pki.cert("qesig"), cka_id="01", label="qesig",
                       chain=pki.pki.chain("qesig"))
        config = SERVICE.load_settings({}, database_url=f"sqlite:///{folder / 'signature.db'}",
                                       amqp_url="memory://bench-assistant", lotl_url=pki.lotl_url,
                                       tsa_url=pki.tsa_url, trust_lists_cache_dir=str(folder / "tl"),
                                       validation_workers=2, log_level="WARNING")
        SERVICE.migrate(config)
        runtime = SERVICE.runtime(config)
        # The service checks the bench's tokens with the bench's key (identity's JWKS in production).
        runtime.verifier = security.TokenVerifier(security.JWKSCache("bench", fetch=lambda _url: keys.jwks()))
        document = folder / "dossier.pdf"
        content = sized_pdf(1_000_000)
        document.write_bytes(content)
        token = keys.token({"sub": "bench", "roles": ["supplier"]})
        with serving(SERVICE.create_app(config, runtime)) as base:
            service = SignatureService(f"{base}/signature", token)
            store = Keystore(modules=[SOFTHSM_MODULE])
            store.refresh()
            ref = next(i.ref for i in store.certificates() if i.certificate == pki.pki.cert("qesig"))

            def token_two_steps() -> None:
                outcome = sign_documents([document], ref, keystore=store, service=service,
                                         pin_provider=lambda _info: PIN, level="B-B")[0]
                assert outcome.status == "signed", outcome

            key, pem = key_and_pem(pki, "qesig")

            def software_two_steps() -> None:
                opened = service.open_session(content, "dossier.pdf", pem, format="pades", level="B-B")
                signed, _ = service.complete(opened["id"], base64.b64encode(
                    device_sign(key, base64.b64decode(opened["data_to_be_signed"]))).decode())
                assert signed.startswith(b"%PDF")

            signer = signers.SimpleSigner.load_pkcs12_data(pki.pki.p12("qesig"), None,
                                                          passphrase=pki.pki.password.encode())
            meta = signers.PdfSignatureMetadata(field_name="Signature1", subfilter=SigSeedSubFilter.PADES)

            def pyhanko_direct() -> None:
                out = asyncio.run(signers.async_sign_pdf(IncrementalPdfFileWriter(io.BytesIO(content)), meta,
                                                         signer=signer))
                assert out.getvalue().startswith(b"%PDF")

            rates = interleaved({"token": token_two_steps, "software": software_two_steps,
                                 "pyhanko": pyhanko_direct})
            (token_rate, token_count), (software_rate, software_count), (direct_rate, direct_count) = (
                rates["token"], rates["software"], rates["pyhanko"])
        runtime.db.dispose()
        env = {**os.environ, "ACHATS_ASSISTANT_PKCS11_MODULES": SOFTHSM_MODULE}
        starts = [start_time(env) for _ in range(5)]
        versions = [version_time(env) for _ in range(5)]
        zipapp = Path(__file__).resolve().parents[1] / "dist" / "achats-assistant.pyz"
        zipapp_versions = None
        if zipapp.is_file():  # make assistant-zipapp built it: its start once unpacked (SHIV_ROOT), median of 5
            zip_env = {**env, "SHIV_ROOT": str(folder / "shiv")}
            zipapp_versions = [zipapp_version_time(zipapp, zip_env) for _ in range(6)][1:]
    print(json.dumps({
        "bench": "assistant", "level": "PAdES-BASELINE-B", "document_bytes": len(content), "clients": 1,
        "token": "SoftHSM2", "token_two_steps_per_s": round(token_rate, 2), "token_signatures": token_count,
        "software_key_two_steps_per_s": round(software_rate, 2), "software_signatures": software_count,
        "pyhanko_direct_per_s": round(direct_rate, 2), "pyhanko_signatures": direct_count,
        "ratio_token_vs_pyhanko": round(token_rate / direct_rate, 2),
        "start_to_local_server_s": round(statistics.median(starts), 3),
        "start_version_s": round(statistics.median(versions), 3),
        "zipapp_start_version_s": round(statistics.median(zipapp_versions), 3) if zipapp_versions else None}))


if __name__ == "__main__":
    main()

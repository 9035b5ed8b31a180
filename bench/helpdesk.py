"""Benchmark of the helpdesk, through the service (gunicorn, 2 workers, PostgreSQL).

Prints one JSON line:
- ticket creations/s, each request carrying one 200 KB screenshot (multipart, checked by content, stored
  with the ticket, its history entry, its follow link and its outbox event in one transaction), closed
  loop with 8 clients; latency p50/p99;
- FAQ search over 1,000 entries (the 33 of the seed and 967 generated ones): latency p50/p99 of queries
  as typed (prefixes, accents, plurals) at a steady 50 requests/s (suggestions for a few hundred people
  typing at once) and at 200 requests/s, and the closed-loop rate.
Targets: >= 100 tickets/s, search p99 < 30 ms. The load generator runs on the same 2-core machine.
"""

from __future__ import annotations

import json
import os
import random
import struct
import sys
import threading
import time
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor

import requests

from achats.chassis.db import Database
from achats.chassis.migrations import migrate
from achats.helpdesk import catalogue
from achats.helpdesk.app import HERE
from achats.helpdesk.tickets import Actor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import fresh_database, gunicorn, percentile

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = 8
SEARCH_RATES = (50, 200)
FAQ_SIZE = 1_000
SEEDER = Actor(kind="agent", id="bench", name="Banc d'essai")
SCREENSHOT_BYTES = 200 * 1024
CATEGORY = str(uuid.uuid5(uuid.UUID("6f1f3a52-1d0e-4c1b-9a57-3c2b8f0e7d41"), "compte-entreprise"))
QUERIES = ["mot de passe oublié", "mot de pa", "Mots de passe", "coffre", "coffre-fort documents", "siret",
           "mon numéro SIRET a changé", "signature invalide", "certificat qualifié eidas", "compte bloqué",
           "copie de sauvegarde", "navigateur compatible", "date limite de dépôt", "supprimer mon compte",
           "plusieurs comptes même entreprise", "reinitialiser", "établissement modifier", "assistant marchés",
           "pièce jointe", "je change d'entreprise", "la signature est indéterminée", "formats", "facture",
           "comment déposer ma réponse", "java"]
SUBJECTS = ["compte", "mot de passe", "coffre-fort", "établissement", "signature", "certificat", "navigateur",
            "dépôt", "pli", "consultation", "attestation", "facture", "utilisateur", "identifiant", "courriel",
            "document", "réponse", "entreprise", "SIRET", "assistant", "sauvegarde", "session", "pièce jointe"]
VERBS = ["modifier", "supprimer", "ajouter", "vérifier", "télécharger", "déposer", "signer", "retrouver",
         "réinitialiser", "changer", "consulter", "transmettre", "valider", "installer", "configurer"]
CONTEXTS = ["depuis l'étranger", "après un déménagement", "sur un poste partagé", "avant la date limite",
            "pour un groupement", "en tant qu'administrateur", "sans droits administrateur", "avec un certificat RGS",
            "pour une consultation restreinte", "après une fusion", "pour un sous-traitant", "hors des heures"]


def screenshot(size: int) -> bytes:
    """A real PNG (1 pixel) padded to ``size`` bytes with random bytes: like a real screenshot, whose
    pixels are deflate-compressed, it does not compress any further."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    tail = chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")
    filler = size - len(head) - len(tail) - 12 - len(b"Comment\x00")
    return head + chunk(b"tEXt", b"Comment\x00" + random.Random(7).randbytes(filler)) + tail


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="{filename}"\r\n'
                 f"Content-Type: image/png\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def fill_faq(url: str) -> int:
    """Bring the FAQ to FAQ_SIZE active entries with generated questions and answers."""
    rng = random.Random(311)
    db = Database(url)
    try:
        with db.session() as session:
            categories = [c.id for c, _ in catalogue.list_categories(session)]
            seed_answers = [e.answer for e in catalogue.list_entries(session, category_id=None)]
        for n in range(FAQ_SIZE - len(seed_answers)):
            question = (f"Comment {rng.choice(VERBS)} {rng.choice(['mon', 'le', 'un'])} {rng.choice(SUBJECTS)} "
                        f"{rng.choice(CONTEXTS)} ({n}) ?")
            answer = " ".join(rng.sample(seed_answers, 2))
            # As an agent adds a question, one transaction each (and its audit entry).
            catalogue.create_entry(db.unit_of_work(), SEEDER, category_id=rng.choice(categories),
                                   question=question, answer=answer, keywords=" ".join(rng.sample(SUBJECTS, 3)))
        with db.session() as session:
            return len(catalogue.list_entries(session, category_id=None))
    finally:
        db.dispose()


def create_tickets(base: str, seconds: float) -> tuple[float, float, float, int]:
    body, content_type = multipart({"category_id": CATEGORY, "severity": "major", "frequency": "systematic",
                                    "message": "Le dépôt de mon attestation échoue : voir la copie d'écran.",
                                    "email": "bench@example.fr", "first_name": "Banc", "last_name": "Essai",
                                    "page": "/entreprise/coffre-fort"}, "ecran.png", screenshot(SCREENSHOT_BYTES))
    headers = {"Content-Type": content_type, "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) "
                                                           "Gecko/20100101 Firefox/128.0"}
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        session = requests.Session()
        mine = []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = session.post(f"{base}/helpdesk/tickets", data=body, headers=headers, timeout=30)
            mine.append(time.perf_counter() - started)
            assert response.status_code == 201, response.text
        with lock:
            latencies.extend(mine)

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return len(latencies) / elapsed, percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000, len(
        latencies)


def search_steady(base: str, seconds: float, rate: int) -> tuple[float, float, float, float]:
    local = threading.local()
    latencies: list[float] = []
    lock = threading.Lock()
    found = [0]

    def one(n: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        response = session.get(f"{base}/helpdesk/faq/search", params={"q": QUERIES[n % len(QUERIES)]}, timeout=10)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
        with lock:
            latencies.append(elapsed)
            found[0] += bool(response.json()["items"])

    total = int(rate * seconds)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for n in range(total):
            delay = began + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, n)
    achieved = total / (time.perf_counter() - began)
    return achieved, percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000, found[0] / total


def search_closed_loop(base: str, seconds: float) -> float:
    count = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(offset: int) -> None:
        session = requests.Session()
        done = 0
        while time.perf_counter() < deadline:
            query = QUERIES[(offset + done) % len(QUERIES)]
            assert session.get(f"{base}/helpdesk/faq/search", params={"q": query}, timeout=10).status_code == 200
            done += 1
        with lock:
            count[0] += done

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count[0] / seconds


def main() -> None:
    with fresh_database("helpdesk") as url:
        migrate(url, HERE / "migrations")
        entries = fill_faq(url)
        env = {"HELPDESK_DATABASE_URL": url, "HELPDESK_AMQP_URL": "memory://bench", "LOG_LEVEL": "WARNING",
               "HELPDESK_EXPOSE_DOCS": "false"}
        with gunicorn("achats.helpdesk.app:SERVICE", env) as (base, _process):
            # The search first: the tickets' 200 MB written afterwards would otherwise keep PostgreSQL busy
            # (checkpoints, autovacuum) during it.
            for query in QUERIES * 4:  # warm both workers
                requests.get(f"{base}/helpdesk/faq/search", params={"q": query}, timeout=10)
            steady = {rate: search_steady(base, SECONDS, rate) for rate in SEARCH_RATES}
            search_rate = search_closed_loop(base, 5)
            create_tickets(base, 2)
            tickets_per_s, create_p50, create_p99, created = create_tickets(base, SECONDS)
    print(json.dumps({
        "bench": "helpdesk",
        "ticket_creations_per_s": round(tickets_per_s, 1),
        "ticket_screenshot_kb": SCREENSHOT_BYTES // 1024,
        "ticket_clients": CLIENTS,
        "tickets_created": created,
        "ticket_p50_ms": round(create_p50, 1),
        "ticket_p99_ms": round(create_p99, 1),
        "faq_entries": entries,
        **{key: value for rate, (achieved, p50, p99, hits) in steady.items() for key, value in (
            (f"search_{rate}_per_s_achieved", round(achieved, 1)), (f"search_{rate}_per_s_p50_ms", round(p50, 2)),
            (f"search_{rate}_per_s_p99_ms", round(p99, 2)))},
        "search_queries_with_results": round(min(hits for *_, hits in steady.values()), 3),
        "search_closed_loop_per_s": round(search_rate, 1),
        "targets": {"ticket_creations_per_s": 100, "search_50_per_s_p99_ms": 30},
    }))


if __name__ == "__main__":
    main()

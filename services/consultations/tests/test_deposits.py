"""« Déposer »: files checked by content, the RFC 3161 deposit time, the deadline by the timestamp, the last
deposit counts, Idempotency-Key, nothing left by a refused or interrupted deposit."""

from __future__ import annotations

import hashlib
import socket
import uuid
from datetime import UTC, datetime, timedelta

from achats.chassis import clock
from achats.chassis.testing.server import serving

from consultations_support import (
    SERVICES,
    WORKS,
    closing_consultation,
    consultation_id,
    deposit,
    pdf,
    stored,
)

NOTHING = (0, 0, [])


def test_a_deposit_is_dated_by_the_timestamp_and_describes_its_files(consultations, tsa):
    stamped = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=42)
    tsa.at(stamped)  # the TSA's time, not ours, is the deposit time
    files = [("candidature", "dc1.pdf", pdf("dc1")), ("offre", "memoire.docx", _docx()),
             ("offre", "offre.pdf", pdf("prix"))]
    response = deposit(consultations, consultation_id(WORKS), 2, files=files)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["deposited_at"] == clock.iso(stamped)
    assert body["status"] == "current" and body["sealed"] is True and body["lot_number"] == 2
    assert body["reference"] == WORKS
    assert [(f["kind"], f["filename"], f["media_type"], f["sha256"]) for f in body["files"]] == [
        ("candidature", "dc1.pdf", "application/pdf", hashlib.sha256(pdf("dc1")).hexdigest()),
        ("offre", "memoire.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         hashlib.sha256(_docx()).hexdigest()),
        ("offre", "offre.pdf", "application/pdf", hashlib.sha256(pdf("prix")).hexdigest())]
    assert tsa.calls == 1
    assert response.headers["location"] == f"/consultations/deposits/{body['id']}"
    token = consultations.client.get(body["timestamp"]["token"], headers=consultations.auth())
    assert token.status_code == 200 and len(token.content) > 500


def _docx() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in (("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w:document/>")):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


def test_the_type_is_judged_by_content_and_a_refused_file_stores_nothing(consultations):
    renamed = deposit(consultations, consultation_id(WORKS), files=[
        ("offre", "offre.pdf", pdf()), ("offre", "prix.pdf", b"MZ\x90\x00 an executable named .pdf")])
    assert renamed.status_code == 415, renamed.text
    problem = renamed.json()
    assert problem["code"] == "deposit_file_rejected"
    assert problem["errors"] == [{"field": "offre", "message": problem["errors"][0]["message"]}]
    assert "« prix.pdf » : ce type de fichier n'est pas accepté" in problem["errors"][0]["message"]
    empty = deposit(consultations, consultation_id(WORKS), files=[("offre", "vide.pdf", b"")])
    assert empty.status_code == 422 and "est vide" in empty.json()["errors"][0]["message"]
    none = deposit(consultations, consultation_id(WORKS), files=[])  # no body at all: the contract refuses it
    assert none.status_code == 400 and none.headers["content-type"].startswith("application/problem+json")
    assert stored(consultations) == NOTHING


def test_a_file_too_large_is_refused_by_its_size(database_url, keys, tsa, tmp_path):
    from consultations_support import make_consultations

    small = make_consultations(database_url, keys, tsa=tsa, storage=tmp_path / "d", max_file_bytes=1000)
    try:
        response = deposit(small, consultation_id(WORKS), files=[("offre", "gros.pdf", pdf(size=1001))])
        assert response.status_code == 413, response.text
        assert "dépasse la taille maximale d'un fichier (1000 octets)" in response.json()["errors"][0]["message"]
        assert deposit(small, consultation_id(WORKS), files=[("offre", "juste.pdf", pdf(size=1000))]).status_code == 201
    finally:
        small.runtime.db.dispose()


def test_a_deposit_needs_a_company_user(consultations):
    assert deposit(consultations, consultation_id(WORKS), who=None).status_code == 401
    for who in ("agent", "admin"):
        refused = deposit(consultations, consultation_id(WORKS), who=who)
        assert refused.status_code == 403 and refused.json()["code"] == "company_required"
    assert deposit(consultations, consultation_id(WORKS), 9).json()["code"] == "lot_not_found"
    assert deposit(consultations, str(uuid.uuid4())).status_code == 404
    assert stored(consultations) == NOTHING


def test_one_second_after_the_deadline_by_the_timestamp_is_refused(consultations, tsa):
    deadline = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    closing = closing_consultation(consultations, deadline)
    # Our clock says five minutes to go; the TSA says one second late: the TSA wins.
    tsa.at(deadline + timedelta(seconds=1))
    late = deposit(consultations, closing)
    assert late.status_code == 409, late.text
    problem = late.json()
    assert problem["code"] == "deadline_passed"
    assert "après la date limite de remise des plis" in problem["detail"]
    assert "n'a pas été enregistré" in problem["detail"]
    assert stored(consultations) == NOTHING
    tsa.at(deadline)  # at the deadline itself: on time
    assert deposit(consultations, closing).status_code == 201


def test_the_deadline_passed_by_our_clock_needs_no_timestamp(consultations, tsa):
    closing = closing_consultation(consultations, datetime.now(UTC) - timedelta(seconds=1))
    refused = deposit(consultations, closing)
    assert refused.status_code == 409 and refused.json()["code"] == "deadline_passed"
    assert tsa.calls == 0


def test_the_tsa_down_refuses_the_deposit_and_stores_nothing(consultations, tsa):
    tsa.down = True
    refused = deposit(consultations, consultation_id(WORKS))
    assert refused.status_code == 503 and refused.json()["code"] == "tsa_unavailable"
    assert "n'a pas été enregistré" in refused.json()["detail"]
    assert stored(consultations) == NOTHING


def test_a_timestamp_signed_by_another_tsa_is_not_believed(consultations, tsa, tmp_path):
    from cryptography.hazmat.primitives.serialization import Encoding
    from tsa_standin import tsa_identity

    other, _key = tsa_identity("Une autre autorité d'horodatage")
    consultations.depot.tsa.pinned = other.public_bytes(Encoding.DER)
    refused = deposit(consultations, consultation_id(WORKS))
    assert refused.status_code == 503 and refused.json()["code"] == "tsa_unavailable"
    assert stored(consultations) == NOTHING


def test_until_the_deadline_the_last_deposit_counts(consultations):
    works = consultation_id(WORKS)
    first = deposit(consultations, works, 1).json()
    other_lot = deposit(consultations, works, 2).json()
    theirs = deposit(consultations, works, 1, who="pierre").json()
    second = deposit(consultations, works, 1, files=[("offre", "offre-v2.pdf", pdf("v2"))]).json()
    mine = consultations.client.get("/consultations/deposits", headers=consultations.auth()).json()
    by_id = {d["id"]: d for d in mine["items"]}
    assert set(by_id) == {first["id"], other_lot["id"], second["id"]}, "Pierre's company's deposit is not listed"
    assert by_id[first["id"]]["status"] == "replaced" and by_id[first["id"]]["replaced_by"] == second["id"]
    assert by_id[second["id"]]["status"] == "current" and by_id[other_lot["id"]]["status"] == "current"
    assert next(d["id"] for d in mine["items"]) == second["id"], "latest first"
    current = consultations.client.get("/consultations/deposits", params={"status": "current"},
                                       headers=consultations.auth()).json()
    assert {d["id"] for d in current["items"]} == {second["id"], other_lot["id"]}
    assert consultations.client.get(f"/consultations/deposits/{theirs['id']}",
                                    headers=consultations.auth()).status_code == 404
    assert consultations.client.get(f"/consultations/deposits/{theirs['id']}",
                                    headers=consultations.auth("pierre")).json()["status"] == "current"


def test_the_same_deposit_sent_twice_is_stored_once(consultations, tsa):
    works = consultation_id(WORKS)
    first = deposit(consultations, works, key="depot-123")
    again = deposit(consultations, works, key="depot-123")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["status"] == "current"
    assert stored(consultations)[0] == 1 and tsa.calls == 1
    other = deposit(consultations, works, key="depot-123", files=[("offre", "autre.pdf", pdf("autre"))])
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    # The key is the company's: another company may use the same string.
    assert deposit(consultations, works, who="pierre", key="depot-123").status_code == 201
    assert stored(consultations)[0] == 2


def test_a_failure_while_writing_leaves_nothing(consultations, monkeypatch):
    storage = consultations.depot.storage
    written = []
    original = storage.write

    def write_then_fail(folder, file_id, sealed):
        if written:
            raise OSError("disk full")
        written.append(file_id)
        original(folder, file_id, sealed)

    monkeypatch.setattr(storage, "write", write_then_fail)
    assert deposit(consultations, consultation_id(WORKS)).status_code == 500
    assert written, "the first file was written before the failure"
    assert stored(consultations) == NOTHING


def test_a_failure_at_commit_leaves_nothing(consultations, monkeypatch):
    from achats.consultations import deposits

    def broken(*_args, **_kwargs):
        raise RuntimeError("the outbox is broken")

    monkeypatch.setattr(deposits, "on_deposit", broken)
    assert deposit(consultations, consultation_id(SERVICES)).status_code == 500
    assert stored(consultations) == NOTHING


def test_an_upload_interrupted_halfway_leaves_nothing(consultations):
    """A real HTTP server, a client that sends half of a 2 MB body and hangs up."""
    from achats.consultations.app import SERVICE

    app = SERVICE.create_app(consultations.runtime.settings, consultations.runtime)
    boundary = "----achatsboundary"
    content = pdf(size=2_000_000)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"offre\"; filename=\"offre.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    token = consultations.auth()["Authorization"]
    with serving(app) as base:
        port = int(base.rsplit(":", 1)[1])
        head = (f"POST /consultations/consultations/{consultation_id(WORKS)}/lots/1/deposits HTTP/1.1\r\n"
                f"Host: 127.0.0.1\r\nAuthorization: {token}\r\nContent-Length: {len(body)}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(head + body[: len(body) // 2])
        import time
        time.sleep(1.0)
        assert stored(consultations) == NOTHING
        # The same service still takes a whole deposit afterwards.
        import requests
        whole = requests.post(f"{base}/consultations/consultations/{consultation_id(WORKS)}/lots/1/deposits",
                              headers={"Authorization": token}, files={"offre": ("offre.pdf", content)}, timeout=30)
        assert whole.status_code == 201, whole.text
    assert stored(consultations)[:2] == (1, 1)


def _at_once(count, action):
    """``action(i)`` from ``count`` threads released together; each result or exception."""
    import threading

    barrier, results = threading.Barrier(count), [None] * count

    def run(i):
        barrier.wait()
        try:
            results[i] = action(i)
        except Exception as exc:  # the test inspects it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_the_same_deposit_sent_four_times_at_once_is_stored_once(consultations):
    from achats.chassis.security import Principal
    from achats.consultations import deposits

    who = Principal(sub="u", roles=("supplier",), company_id="race-company", email="race@example.fr")
    uploads = [deposits.Upload("offre", "offre.pdf", pdf("race"))]
    results = _at_once(4, lambda _i: deposits.deposit(consultations.unit_of_work(), consultations.depot, who,
                                                      uuid.UUID(consultation_id(WORKS)), 1, uploads,
                                                      idempotency_key="same-key"))
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({row.id for row, _created in results}) == 1
    assert sum(created for _row, created in results) == 1
    rows, file_rows, files = stored(consultations)
    assert (rows, file_rows, len(files)) == (1, 1, 1)


def test_deposits_racing_for_one_lot_leave_exactly_one_current(consultations):
    from achats.chassis.security import Principal
    from achats.consultations import deposits

    who = Principal(sub="u", roles=("supplier",), company_id="race-company", email="race@example.fr")
    results = _at_once(4, lambda i: deposits.deposit(
        consultations.unit_of_work(), consultations.depot, who, uuid.UUID(consultation_id(WORKS)), 1,
        [deposits.Upload("offre", f"offre-{i}.pdf", pdf(f"v{i}"))]))
    assert all(not isinstance(r, Exception) for r in results), results
    with consultations.runtime.db.session() as session:
        from sqlalchemy import select

        from achats.consultations.models import Deposit
        statuses = sorted(session.execute(select(Deposit.status)).scalars())
        current = session.execute(select(Deposit).where(Deposit.status == "current")).scalar_one()
        latest = max(session.execute(select(Deposit)).scalars(), key=lambda d: (d.deposited_at, d.received_at))
    assert statuses == ["current", "replaced", "replaced", "replaced"]
    assert current.id == latest.id, "the last one by its timestamp counts"

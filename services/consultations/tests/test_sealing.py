"""Sealed answers: encrypted at rest under a per-consultation key wrapped by the master key, unreadable before
the deadline by anybody, readable after it by the company and the administrators, deleted 30 days later."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, text, update

from achats.chassis.problems import Problem
from achats.chassis.security import Principal
from achats.consultations import cli, deposits, sealing
from achats.consultations.models import ConsultationKey, Deposit, DepositFile

from consultations_support import MASTER_KEYS, WORKS, closing_consultation, consultation_id, deposit, pdf, stored

SECRET = "PRIX-TOTAL-HT-1234567-EUROS"


def _deposit(consultations, who="marie", consultation=None):
    response = deposit(consultations, consultation or consultation_id(WORKS), who=who,
                       files=[("offre", "offre.pdf", pdf(SECRET))])
    assert response.status_code == 201, response.text
    return response.json()


def _pass_deadline(consultations, deposit_id, ago=timedelta(minutes=1)):
    """The deadline of that deposit's round passes (as time would)."""
    with consultations.runtime.db.session() as session:
        session.execute(update(Deposit).where(Deposit.id == uuid.UUID(deposit_id))
                        .values(deadline=datetime.now(UTC) - ago))
        session.commit()


def test_a_direct_read_of_the_storage_or_the_database_shows_no_content(consultations):
    body = _deposit(consultations)
    (path,) = stored(consultations)[2]
    raw = path.read_bytes()
    assert raw.startswith(sealing.MAGIC) and SECRET.encode() not in raw and b"%PDF" not in raw
    with consultations.runtime.db.session() as session:
        dumped = repr(session.execute(text("SELECT * FROM deposit_files")).all())
        assert SECRET not in dumped
        key_row = session.get(ConsultationKey, uuid.UUID(body["consultation_id"]))
        file_row = session.get(DepositFile, uuid.UUID(body["files"][0]["id"]))
    assert not any(isinstance(v, bytes) for v in vars(file_row).values()), "no key material in the file's row"
    # The database's wrapped key alone opens nothing: it is not the data key.
    body_only = raw[len(sealing.MAGIC):]
    with pytest.raises(InvalidTag):
        AESGCM(key_row.wrapped_key[-32:]).decrypt(body_only[:12], body_only[12:], file_row.id.bytes)
    # With the master key of the configuration, it opens (this is what the service does after the deadline).
    master = sealing.MasterKeys.parse(MASTER_KEYS)
    data_key = sealing.unwrap(master, key_row.consultation_id, key_row.master_key_id, key_row.wrapped_key)
    assert sealing.decrypt(data_key, file_row.id, raw) == pdf(SECRET)
    # Another master key does not.
    other = sealing.MasterKeys.parse("k1:" + base64.b64encode(bytes(32)).decode())
    with pytest.raises(sealing.SealingError):
        sealing.unwrap(other, key_row.consultation_id, key_row.master_key_id, key_row.wrapped_key)


def test_nobody_reads_an_answer_before_the_deadline(consultations):
    body = _deposit(consultations)
    href = body["files"][0]["href"]
    for who in ("marie", "agent", "admin"):
        refused = consultations.client.get(href, headers=consultations.auth(who))
        assert refused.status_code == 403, who
        assert refused.json()["code"] == "answer_sealed"
        assert "scellé jusqu'à la date limite" in refused.json()["detail"]
    assert consultations.client.get(href, headers=consultations.auth("pierre")).status_code == 404
    # Not the handler only: the service layer itself refuses, to an administrator too.
    admin = Principal(sub="admin", roles=("platform_admin",))
    with pytest.raises(Problem) as refused:
        deposits.open_file(consultations.unit_of_work(), consultations.depot, admin, uuid.UUID(body["id"]),
                           uuid.UUID(body["files"][0]["id"]))
    assert refused.value.code == "answer_sealed"
    # The metadata stays visible: the deposit, its digests, its receipt.
    seen = consultations.client.get(f"/consultations/deposits/{body['id']}", headers=consultations.auth("admin"))
    assert seen.status_code == 200 and seen.json()["sealed"] is True


def test_after_the_deadline_the_company_and_administrators_open_it(consultations):
    body = _deposit(consultations)
    _pass_deadline(consultations, body["id"])
    href = body["files"][0]["href"]
    for who in ("marie", "admin"):
        opened = consultations.client.get(href, headers=consultations.auth(who))
        assert opened.status_code == 200, opened.text
        assert opened.content == pdf(SECRET)
    assert consultations.client.get(href, headers=consultations.auth("agent")).status_code == 403
    assert consultations.client.get(href, headers=consultations.auth("pierre")).status_code == 404
    listed = consultations.client.get("/consultations/deposits", headers=consultations.auth()).json()
    assert listed["items"][0]["sealed"] is False


def test_each_consultation_has_its_own_data_key(consultations):
    first = _deposit(consultations)
    other = closing_consultation(consultations, datetime.now(UTC) + timedelta(days=3))
    second = _deposit(consultations, consultation=other)
    with consultations.runtime.db.session() as session:
        keys = session.execute(select(ConsultationKey)).scalars().all()
    assert {str(k.consultation_id) for k in keys} == {first["consultation_id"], second["consultation_id"]}
    assert len({k.wrapped_key for k in keys}) == 2


def test_practice_answers_are_deleted_30_days_after_their_deadline_with_their_files(consultations):
    old = _deposit(consultations)
    recent = _deposit(consultations, who="pierre")
    real = closing_consultation(consultations, datetime.now(UTC) + timedelta(days=3))
    kept = _deposit(consultations, consultation=real)
    _pass_deadline(consultations, old["id"], timedelta(days=30, minutes=1))
    _pass_deadline(consultations, recent["id"], timedelta(days=29))
    _pass_deadline(consultations, kept["id"], timedelta(days=40))  # not a practice consultation: kept
    assert deposits.purge(consultations.unit_of_work(), consultations.depot) == {"deposits": 1, "orphan_folders": 0}
    rows, file_rows, files = stored(consultations)
    assert (rows, file_rows) == (2, 2)
    assert {p.parent.name for p in files} == {recent["id"], kept["id"]}
    assert consultations.client.get(f"/consultations/deposits/{old['id']}",
                                    headers=consultations.auth()).status_code == 404


def test_the_purge_removes_folders_left_without_a_row(consultations):
    import os
    import time

    storage = consultations.depot.storage
    staged = storage.staging(uuid.uuid4())
    (staged / "x").write_bytes(b"partial")
    orphan = storage.deposits / str(uuid.uuid4())
    orphan.mkdir(parents=True)
    (orphan / "y").write_bytes(b"sealed")
    young = storage.deposits / str(uuid.uuid4())
    young.mkdir()
    hour_ago = time.time() - 2 * deposits.ORPHAN_AGE
    for folder in (staged, orphan):
        os.utime(folder, (hour_ago, hour_ago))
    assert deposits.purge(consultations.unit_of_work(), consultations.depot)["orphan_folders"] == 2
    assert not staged.exists() and not orphan.exists() and young.exists()


def test_the_purge_command(consultations, monkeypatch, capsys):
    old = _deposit(consultations)
    _pass_deadline(consultations, old["id"], timedelta(days=31))
    s = consultations.runtime.settings
    for key, value in {"DATABASE_URL": s.database_url, "AMQP_URL": "memory://purge", "MASTER_KEYS": MASTER_KEYS,
                       "DEPOSIT_STORAGE": s.deposit_storage, "LOG_JSON": "true"}.items():
        monkeypatch.setenv(f"CONSULTATIONS_{key}", value)
    assert cli.main(["purge"]) == 0
    assert '"deposits": 1' in capsys.readouterr().out
    assert stored(consultations) == (0, 0, [])

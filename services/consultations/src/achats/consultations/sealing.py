"""Sealed answers: envelope encryption and the files' storage.

Each consultation has its own data key (AES-256), drawn at its first deposit and kept in the
``consultation_keys`` table only *wrapped* (AES-GCM) by a master key from the configuration
(``MASTER_KEYS`` or ``MASTER_KEY_FILE``): neither the database nor the storage alone can open a file, and
the file's row holds no key material at all. Each file is encrypted with AES-GCM (``cryptography``) under
its consultation's data key, a fresh 96-bit nonce, and the file's id as associated data (a file moved to
another id does not decrypt). Only the service layer decrypts, and only after the deadline (deposits.py).

Files are written into a staging folder first, then the whole deposit's folder is renamed into place
(one atomic rename) just before the database commit: a deposit interrupted at any point leaves no row,
and at worst a folder without row that ``sweep_orphans`` removes.
"""

from __future__ import annotations

import base64
import binascii
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.exc import IntegrityError

from achats.chassis import clock
from achats.chassis.db import UnitOfWork

from .models import ConsultationKey

MAGIC = b"ACHS1"  # the format of a sealed file: MAGIC, nonce (12 bytes), AES-GCM ciphertext and tag
NONCE = 12


class SealingError(Exception):
    """The key material is missing or does not open what it should: an operator's problem."""


@dataclass(frozen=True)
class MasterKeys:
    """``id:base64(32 bytes)`` pairs; the first wraps new data keys, every one unwraps."""

    keys: dict[str, bytes]
    current: str

    @classmethod
    def parse(cls, value: str) -> MasterKeys:
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            kid, _, encoded = item.partition(":")
            try:
                key = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise SealingError(f"master key {kid!r}: not base64") from None
            if not kid or len(key) != 32:
                raise SealingError(f"master key {kid!r}: expected id:base64 of 32 bytes")
            keys[kid] = key
            order.append(kid)
        if not order:
            raise SealingError("no master key: set MASTER_KEYS (id:base64 of 32 bytes) or MASTER_KEY_FILE")
        return cls(keys=keys, current=order[0])

    @classmethod
    def from_settings(cls, master_keys: str, master_key_file: str) -> MasterKeys:
        if master_keys:
            return cls.parse(master_keys)
        if not master_key_file:
            raise SealingError("no master key: set MASTER_KEYS (id:base64 of 32 bytes) or MASTER_KEY_FILE")
        path = Path(master_key_file)
        if not path.exists():  # the embedded mode: a key of its own, readable by this user only
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(f"k1:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}\n")
        return cls.parse(path.read_text().strip())

    @staticmethod
    def generate(kid: str = "k1") -> str:
        return f"{kid}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


def _aad(consultation_id: uuid.UUID) -> bytes:
    return b"consultation-data-key:" + consultation_id.bytes


def wrap(master: MasterKeys, consultation_id: uuid.UUID, data_key: bytes) -> tuple[str, bytes]:
    nonce = os.urandom(NONCE)
    sealed = AESGCM(master.keys[master.current]).encrypt(nonce, data_key, _aad(consultation_id))
    return master.current, nonce + sealed


def unwrap(master: MasterKeys, consultation_id: uuid.UUID, kid: str, wrapped: bytes) -> bytes:
    if kid not in master.keys:
        raise SealingError(f"the master key {kid!r} that wraps this consultation's key is not configured")
    try:
        return AESGCM(master.keys[kid]).decrypt(wrapped[:NONCE], wrapped[NONCE:], _aad(consultation_id))
    except InvalidTag:
        raise SealingError(f"the master key {kid!r} does not open this consultation's key") from None


def data_key(uow: UnitOfWork, master: MasterKeys, consultation_id: uuid.UUID) -> bytes:
    """The consultation's data key, drawn and stored wrapped at its first use, in a transaction of its own (a race
    between two first deposits is settled by the primary key: the loser reads the winner's key)."""
    for _ in range(3):
        with uow:
            row = uow.session.get(ConsultationKey, consultation_id)
            if row is not None:
                return unwrap(master, consultation_id, row.master_key_id, row.wrapped_key)
            key = AESGCM.generate_key(bit_length=256)
            kid, wrapped = wrap(master, consultation_id, key)
            uow.session.add(ConsultationKey(consultation_id=consultation_id, master_key_id=kid, wrapped_key=wrapped,
                                            created_at=clock.now()))
            try:
                uow.commit()
                return key
            except IntegrityError:
                uow.rollback()
    raise SealingError("could not store the consultation's data key")


def encrypt(key: bytes, file_id: uuid.UUID, content: bytes) -> bytes:
    nonce = os.urandom(NONCE)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, content, file_id.bytes)


def decrypt(key: bytes, file_id: uuid.UUID, sealed: bytes) -> bytes:
    if not sealed.startswith(MAGIC):
        raise SealingError("not a sealed file")
    body = sealed[len(MAGIC):]
    try:
        return AESGCM(key).decrypt(body[:NONCE], body[NONCE:], file_id.bytes)
    except InvalidTag:
        raise SealingError("the sealed file was altered or belongs to another key") from None


class Storage:
    """``<root>/deposits/<deposit id>/<file id>`` once committed; ``<root>/staging/<deposit id>`` before."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.deposits = self.root / "deposits"
        self.staging_root = self.root / "staging"

    def staging(self, deposit_id: uuid.UUID) -> Path:
        folder = self.staging_root / str(deposit_id)
        folder.mkdir(parents=True, exist_ok=False)
        return folder

    @staticmethod
    def write(folder: Path, file_id: uuid.UUID, sealed: bytes) -> None:
        path = folder / str(file_id)
        with open(path, "wb") as out:
            out.write(sealed)
            out.flush()
            os.fsync(out.fileno())

    def publish(self, staged: Path, deposit_id: uuid.UUID) -> Path:
        """Move a staged deposit into place in one rename (same file system)."""
        self.deposits.mkdir(parents=True, exist_ok=True)
        final = self.deposits / str(deposit_id)
        os.replace(staged, final)
        _fsync_dir(self.deposits)
        return final

    def path(self, deposit_id: uuid.UUID, file_id: uuid.UUID) -> Path:
        return self.deposits / str(deposit_id) / str(file_id)

    def read(self, deposit_id: uuid.UUID, file_id: uuid.UUID) -> bytes:
        return self.path(deposit_id, file_id).read_bytes()

    def discard(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    def remove(self, deposit_id: uuid.UUID) -> None:
        shutil.rmtree(self.deposits / str(deposit_id), ignore_errors=True)

    def folders(self) -> list[tuple[Path, float]]:
        """Every deposit folder, committed or staged, with its age in seconds."""
        now = time.time()
        found = []
        for parent in (self.deposits, self.staging_root):
            if parent.is_dir():
                found += [(p, now - p.stat().st_mtime) for p in parent.iterdir() if p.is_dir()]
        return found


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""A small pool of worker processes that run validations and signings within a time budget.

A pathological PDF (or a signature that makes a library loop) must not hang the service: each job
runs in a separate process that is killed, and replaced, when its budget is spent. Processes also
give the work real parallelism (connexion serves Flask handlers from 10 threads of one process).

Workers come from a fork server that has already imported pyHanko, so a replacement starts in
milliseconds. The trust material (trusted-list registry, extra anchors) is sent to a worker once per
version, not with every job.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import pickle
import queue
import tempfile
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

import structlog

from .trust.lists import TrustMaterial
from .validation.common import DocumentRejected

log = structlog.get_logger(__name__)


class SandboxTimeout(Exception):
    """The job spent its time budget; its process was killed."""


class SandboxBusy(Exception):
    """No worker became free in time."""


class SandboxCrashed(Exception):
    """The worker died (or failed unexpectedly) while running the job."""


# Documents travel to the workers through a file on a memory file system rather than the pipe: one copy
# in, one copy out, instead of pickling megabytes through a 64 KiB pipe.
SPILL_THRESHOLD = 256 * 1024
SPILL_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()  # noqa: S108 - private files


@dataclasses.dataclass(frozen=True)
class _Spilled:
    path: str


def _spill(value: Any, paths: list[str]) -> Any:
    if isinstance(value, bytes) and len(value) >= SPILL_THRESHOLD:
        handle, path = tempfile.mkstemp(prefix="achats-signature-", dir=SPILL_DIR)
        with os.fdopen(handle, "wb") as out:
            out.write(value)
        paths.append(path)
        return _Spilled(path)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _spill(getattr(value, f.name), paths) for f in dataclasses.fields(value)
                   if isinstance(getattr(value, f.name), bytes)}
        return dataclasses.replace(value, **changes) if changes else value
    return value


def _unspill(value: Any) -> Any:
    if isinstance(value, _Spilled):
        with open(value.path, "rb") as source:
            return source.read()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _unspill(getattr(value, f.name)) for f in dataclasses.fields(value)
                   if isinstance(getattr(value, f.name), _Spilled)}
        return dataclasses.replace(value, **changes) if changes else value
    return value


def _worker_main(conn: Connection) -> None:
    from .jobs import JOBS

    logging.basicConfig(level=logging.WARNING)
    material: TrustMaterial | None = None
    while True:
        try:
            job, kwargs, blob = conn.recv()
        except (EOFError, OSError):
            return
        if blob is not None:
            material = pickle.loads(blob)  # noqa: S301 - from our own parent process
        try:
            kwargs = {name: _unspill(value) for name, value in kwargs.items()}
            conn.send(("ok", JOBS[job](material, **kwargs)))
        except DocumentRejected as exc:
            conn.send(("rejected", (exc.code, exc.detail, exc.field, exc.status)))
        except Exception as exc:  # reported to the parent, which answers without leaking details
            logging.getLogger("achats.signature.sandbox").error("job %s failed: %s", job,
                                                                "".join(traceback.format_exception(exc))[-4000:])
            conn.send(("error", type(exc).__name__))


class _Worker:
    def __init__(self, context):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child,), daemon=True, name="signature-sandbox")
        self.process.start()
        child.close()
        self.material_id: str | None = None

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.join(2)
        finally:
            self.conn.close()


class Sandbox:
    """``run(job, material, timeout, **kwargs)`` from any thread; at most ``size`` jobs at once."""

    def __init__(self, size: int, *, queue_timeout: float = 10.0):
        self.size = max(1, size)
        self.queue_timeout = queue_timeout
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["achats.signature.jobs"])
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(self.size):
            self._idle.put(None)  # a slot; its process starts on first use
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.killed = 0

    def _blob(self, material: TrustMaterial) -> bytes:
        with self._lock:
            blob = self._blobs.get(material.id)
            if blob is None:
                blob = pickle.dumps(material, protocol=pickle.HIGHEST_PROTOCOL)
                self._blobs = {material.id: blob}  # only the current version is worth keeping
            return blob

    def run(self, job: str, material: TrustMaterial | None, timeout: float, **kwargs: Any) -> Any:
        try:
            worker = self._idle.get(timeout=self.queue_timeout)
        except queue.Empty:
            raise SandboxBusy() from None
        spilled: list[str] = []
        try:
            kwargs = {name: _spill(value, spilled) for name, value in kwargs.items()}
            if worker is None or not worker.process.is_alive():
                worker = _Worker(self._context)
            blob = None
            if material is not None and worker.material_id != material.id:
                blob = self._blob(material)
            started = time.monotonic()
            worker.conn.send((job, kwargs, blob))
            if material is not None:
                worker.material_id = material.id
            if not worker.conn.poll(timeout):
                log.warning("sandbox.timeout", job=job, seconds=round(time.monotonic() - started, 1))
                self._discard(worker)
                worker = None
                raise SandboxTimeout()
            status, value = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            self._discard(worker)
            worker = None
            raise SandboxCrashed() from None
        finally:
            self._idle.put(worker)
            for path in spilled:
                try:
                    os.unlink(path)
                except OSError:
                    pass
        if status == "ok":
            return value
        if status == "rejected":
            code, detail, field, http_status = value
            raise DocumentRejected(code, detail, field, http_status)
        raise SandboxCrashed(value)

    def _discard(self, worker: _Worker | None) -> None:
        if worker is not None:
            self.killed += 1
            worker.kill()

    def warm_up(self) -> None:
        """Start the fork server and one worker now (the first job otherwise pays for it)."""
        self.run("ping", None, 60.0)

    def close(self) -> None:
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                return
            if worker is not None:
                worker.kill()


_shared: dict[tuple, Sandbox] = {}
_shared_lock = threading.Lock()


def shared(size: int, queue_timeout: float) -> Sandbox:
    """One pool per process and configuration: every app instance of a process shares the workers."""
    with _shared_lock:
        key = (size, queue_timeout)
        if key not in _shared:
            _shared[key] = Sandbox(size, queue_timeout=queue_timeout)
        return _shared[key]


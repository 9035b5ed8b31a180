"""Limits: sizes, malformed/encrypted/truncated input, the time budget — a French 4xx, never a 500 or a hang."""

from __future__ import annotations

import io
import os

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer

from achats.signature.settings import MIB

from signature_support import sign


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    return body


def test_file_size_limit(build):
    service = build(max_file_bytes=100_000, max_signature_file_bytes=50_000, max_body_bytes=200_000 + MIB)
    response = service.client.post("/signature/verifications", files={"file": ("big.pdf", b"%PDF-1.7\n" + b"0" *
                                                                                   120_000)})
    body = problem(response, 413, "file_too_large")
    assert "taille maximale" in body["detail"]
    too_big_body = service.client.post("/signature/verifications", files={"file": ("huge.bin", b"0" * 2 * MIB)})
    problem(too_big_body, 413, "payload_too_large")


def test_settings_refuse_a_body_limit_below_the_file_limit():
    from achats.chassis.settings import SettingsError
    from achats.signature.app import SERVICE

    with pytest.raises(SettingsError, match="MAX_BODY_BYTES"):
        SERVICE.load_settings({}, database_url="sqlite://", amqp_url="memory://x", max_body_bytes=MIB)


def test_default_limits_allow_50_mb_uploads(service):
    settings = service.runtime.settings
    assert settings.max_file_bytes == 50 * MIB
    assert settings.max_body_bytes >= settings.max_file_bytes + settings.max_signature_file_bytes + MIB


@pytest.mark.parametrize(("content", "code"), [
    (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ngarbage, no xref, no trailer", "pdf_unreadable"),
    (b"%PDF-", "pdf_unreadable"),
])
def test_malformed_pdfs(service, content, code):
    body = problem(service.client.post("/signature/verifications", files={"file": ("x.pdf", content)}), 422, code)
    assert "PDF" in body["detail"]


def test_truncated_signed_pdf(service, pki, pdf):
    signed = sign(pki, "qesig", pdf)
    response = service.client.post("/signature/verifications", files={"file": ("cut.pdf", signed[: len(signed) // 2])})
    problem(response, 422, "pdf_unreadable")


def test_encrypted_pdf(service, pdf):
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf)))
    writer.encrypt("proprietaire", "utilisateur")
    out = io.BytesIO()
    writer.write(out)
    body = problem(service.client.post("/signature/verifications", files={"file": ("secret.pdf", out.getvalue())}),
                   422, "pdf_encrypted")
    assert "mot de passe" in body["detail"]


NOT_RECOGNISED = "Ce fichier n'est ni un PDF ni une signature électronique reconnue"


def _count_verifications(service) -> int:
    from sqlalchemy import func, select

    from achats.signature.models import Verification

    with service.runtime.db.session() as session:
        return session.execute(select(func.count()).select_from(Verification)).scalar_one()


@pytest.mark.parametrize(("name", "content"), [
    ("x.pdf", os.urandom(4096).replace(b"0", b"1")),  # never looks like DER (0x30), whatever the draw
    ("offre.pdf", b"Ceci est un simple fichier texte, sans signature.\n" * 20),
    ("offre.xml", b'<?xml version="1.0"?><offre><prix>100</prix></offre>'),
])
def test_a_file_neither_pdf_nor_signature_is_422_and_nothing_is_kept(service, monkeypatch, name, content):
    def no_job(*_args, **_kwargs):
        raise AssertionError("an unrecognised file must be refused before any validation job")

    monkeypatch.setattr(service.runtime.deps.sandbox, "run", no_job)
    before = _count_verifications(service)
    body = problem(service.client.post("/signature/verifications", files={"file": (name, content)}), 422,
                   "file_not_recognised")
    assert body["detail"].startswith(NOT_RECOGNISED)
    assert "réessayez" not in body["detail"].lower()
    assert body["errors"][0]["field"] == "file"
    assert _count_verifications(service) == before


def test_thirty_megabytes_of_zeros_are_refused_quickly(service, monkeypatch):
    import time

    monkeypatch.setattr(service.runtime.deps.sandbox, "run",
                        lambda *_a, **_k: (_ for _ in ()).throw(AssertionError("no validation job")))
    zeros = bytes(30 * MIB)
    started = time.monotonic()
    response = service.client.post("/signature/verifications", files={"file": ("zeros.pdf", zeros)})
    elapsed = time.monotonic() - started
    body = problem(response, 422, "file_not_recognised")
    assert body["detail"].startswith(NOT_RECOGNISED)
    assert elapsed < 10, f"{elapsed:.1f} s for 30 MB of zeros"
    assert _count_verifications(service) == 0


def test_the_head_of_a_file_decides_what_it_is():
    """Classifying a large upload looks at its first bytes, never at the whole of it."""
    from achats.signature import uploads

    class Head(bytes):
        """Fails when more than the head is read (a copy of the whole, a scan to the end)."""

        def __getitem__(self, item):
            if isinstance(item, slice) and (item.stop is None or item.stop > 1_000_000):
                raise AssertionError(f"read beyond the head: {item}")
            return bytes.__getitem__(self, item)

        def strip(self, *args):
            raise AssertionError("strip() of the whole upload")

    assert uploads.classify("file", "zeros.pdf", Head(bytes(30 * MIB))).kind == uploads.OTHER


def test_empty_and_missing_files(service):
    problem(service.client.post("/signature/verifications", files={"file": ("empty.pdf", b"")}), 422, "file_empty")
    assert service.client.post("/signature/verifications", data={"nothing": "here"}).status_code == 415
    body = problem(service.client.post("/signature/verifications", files={"signature": ("s.p7s", b"0")}), 400,
                   "validation_failed")
    assert body["errors"] == [{"field": "file", "message": "Ce champ est obligatoire."}]


def test_time_budget_kills_the_worker_and_the_service_goes_on(build, service, pki, pdf):
    signed = sign(pki, "qesig", pdf)
    hurried = build(validation_timeout=0.001)
    sandbox = hurried.runtime.deps.sandbox
    killed = sandbox.killed
    body = problem(hurried.client.post("/signature/verifications", files={"file": ("offre.pdf", signed)}), 422,
                   "processing_timeout")
    assert "temps maximal" in body["detail"]
    assert sandbox.killed == killed + 1
    # The same pool serves the next verification with a fresh worker.
    assert service.verify(signed)["signatures"][0]["verdict"]["code"] == "compliant"

"""Attachments: several per message, type judged by content, sizes and counts limited, nothing half-stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from achats.chassis.testing.samples import EXE, PDF, docx, plain_zip, png
from achats.helpdesk.attachments import sniff
from achats.helpdesk.models import Attachment, Ticket

from helpdesk_support import make_helpdesk

KIB = 1024


@pytest.mark.parametrize(("content", "expected"), [
    (png(), "image/png"), (b"\xff\xd8\xff\xe0" + b"\x00" * 10, "image/jpeg"), (b"GIF89a" + b"\x00" * 10, "image/gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 10, "image/webp"),
    (b"BM" + b"\x00" * 12 + b"\x28\x00\x00\x00" + b"\x00" * 20, "image/bmp"), (PDF, "application/pdf"),
    (docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("Erreur 500 à 10:42\r\nTrace : …\n".encode(), "text/plain"),
    (EXE, None), (b"\x7fELF\x02\x01\x01", None), (plain_zip(), None), (b"BM" + b"\x00" * 40, None),
    (b"texte\x00binaire", None), (b"\xff\xfe\x00d\x00", None), (b"   \n", None), (b"", None),
])
def test_types_are_judged_by_content(content, expected):
    assert sniff(content) == expected


def _count(helpdesk, model) -> int:
    with helpdesk.runtime.db.session() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def small(sqlite_url, keys):
    service = make_helpdesk(sqlite_url, keys, attachment_max_bytes=50 * KIB, attachments_per_message=2,
                            attachments_per_ticket=3, max_body_bytes=200 * KIB)
    yield service
    service.runtime.db.dispose()


def test_several_screenshots_and_documents(small):
    files = [("attachments", ("ecran 1.png", png(10 * KIB), "image/png")),
             ("attachments", ("C:\\Users\\marie\\rapport.pdf", PDF, "application/octet-stream"))]
    ticket = small.created(files=files, email="a@example.fr")
    [entry] = ticket["history"]
    assert [(a["filename"], a["content_type"]) for a in entry["attachments"]] == [
        ("ecran 1.png", "image/png"), ("rapport.pdf", "application/pdf")]


@pytest.mark.parametrize(("files", "status", "code"), [
    ([("attachments", ("gros.png", png(50 * KIB + 1), "image/png"))], 413, "attachment_too_large"),
    ([("attachments", (f"{n}.png", png(), "image/png")) for n in range(3)], 422, "too_many_attachments"),
    ([("attachments", ("capture.png", EXE, "image/png"))], 415, "attachment_type_refused"),
    ([("attachments", ("vide.png", b"", "image/png"))], 422, "attachment_empty"),
])
def test_refused_files_refuse_the_whole_request(small, files, status, code):
    response = small.create(files=files, email="a@example.fr")
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["errors"][0]["field"] == "attachments"
    assert (_count(small, Ticket), _count(small, Attachment)) == (0, 0)


def test_the_detail_names_the_file_and_the_limit(small):
    response = small.create(files=[("attachments", ("gros.png", png(60 * KIB), "image/png"))], email="a@example.fr")
    assert response.json()["detail"] == "Le fichier « gros.png » dépasse la taille maximale autorisée (50 Ko)."


def test_a_ticket_holds_a_limited_number_of_files(small):
    two = [("attachments", (f"{n}.png", png(), "image/png")) for n in range(2)]
    ticket = small.created(files=two, email="a@example.fr")
    reference, token = small.follow_token(ticket["id"])
    more = small.follow(reference, token, "/messages", method="post", data={"message": "Deux de plus"}, files=two)
    assert more.status_code == 422
    assert more.json()["code"] == "too_many_attachments"
    one = small.follow(reference, token, "/messages", method="post", data={"message": "Une de plus"}, files=two[:1])
    assert one.status_code == 201
    assert _count(small, Attachment) == 3


def test_the_body_limit_stops_huge_requests(small):
    files = [("attachments", ("a.png", png(45 * KIB), "image/png"))] * 2 + [
        ("attachments", ("b.bin", b"x" * 200 * KIB, "application/octet-stream"))]
    response = small.create(files=files, email="a@example.fr")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert _count(small, Ticket) == 0

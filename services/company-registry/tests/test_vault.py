"""The vault: content-checked uploads, limits, downloads, rights, and the expiring-documents job."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from achats.chassis.bus import outbox
from achats.chassis.testing.samples import EXE, PDF, docx, plain_zip
from achats.company_registry import jobs
from achats.company_registry.vault import sniff

from registry_support import MANUAL, make_registry


@pytest.mark.parametrize(("content", "expected"), [
    (PDF, "application/pdf"), (b"\x89PNG\r\n\x1a\n" + b"\x00" * 10, "image/png"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 10, "image/jpeg"),
    (docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (EXE, None), (b"\x7fELF\x02\x01", None), (plain_zip(), None), (b"#!/bin/sh\nrm -rf /", None), (b"", None),
])
def test_types_are_judged_by_content(content, expected):
    assert sniff(content) == expected


@pytest.fixture
def company(offline_registry):
    return offline_registry.register(MANUAL)["company"]


def upload(registry, company_id, headers, content=PDF, name="kbis.pdf", **fields):
    data = {"type": "kbis", **fields}
    return registry.client.post(f"/registry/companies/{company_id}/documents", headers=headers, data=data,
                                files={"file": (name, content, "application/pdf")})


def test_upload_list_download_delete(offline_registry, company):
    user = offline_registry.token("supplier", company_id=company["id"])
    created = upload(offline_registry, company["id"], user, label="Kbis 2026", valid_until="2026-12-31")
    assert created.status_code == 201, created.text
    document = created.json()
    assert (document["type"], document["label"], document["content_type"], document["size"]) == (
        "kbis", "Kbis 2026", "application/pdf", len(PDF))
    assert document["uploaded_by"]["email"] == "marie.curie@example.fr"
    listing = offline_registry.client.get(f"/registry/companies/{company['id']}/documents", headers=user).json()
    assert listing["count"] == 1
    assert listing["items"][0]["id"] == document["id"]
    download = offline_registry.client.get(f"/registry/companies/{company['id']}/documents/{document['id']}/content",
                                           headers=user)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert "kbis.pdf" in download.headers["content-disposition"]
    assert download.headers["x-content-type-options"] == "nosniff"
    deleted = offline_registry.client.delete(f"/registry/companies/{company['id']}/documents/{document['id']}",
                                             headers=user)
    assert deleted.status_code == 204
    assert offline_registry.client.get(f"/registry/companies/{company['id']}/documents",
                                       headers=user).json()["count"] == 0


def test_an_executable_renamed_pdf_is_refused_with_415(offline_registry, company):
    user = offline_registry.token("supplier", company_id=company["id"])
    response = upload(offline_registry, company["id"], user, content=EXE, name="attestation.pdf")
    assert response.status_code == 415
    assert response.json()["code"] == "document_type_refused"
    assert "Formats acceptés" in response.json()["detail"]


def test_oversized_documents_are_refused_with_413(sqlite_url, keys):
    registry = make_registry(sqlite_url, keys, "http://127.0.0.1:1/x", vault_max_bytes=1000)
    company = registry.register(MANUAL)["company"]
    user = registry.token("supplier", company_id=company["id"])
    response = upload(registry, company["id"], user, content=PDF + b"0" * 2000)
    assert response.status_code == 413
    assert response.json()["code"] == "document_too_large"
    assert upload(registry, company["id"], user).status_code == 201
    registry.runtime.db.dispose()


def test_bad_fields_are_refused_and_nothing_is_stored(offline_registry, company):
    user = offline_registry.token("supplier", company_id=company["id"])
    response = upload(offline_registry, company["id"], user, type="passport")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "type"
    assert offline_registry.client.get(f"/registry/companies/{company['id']}/documents",
                                       headers=user).json()["count"] == 0


def test_another_company_sees_nothing_of_the_vault(offline_registry, company):
    owner = offline_registry.token("supplier", company_id=company["id"])
    document = upload(offline_registry, company["id"], owner).json()
    other = offline_registry.token("supplier_admin", company_id=uuid.uuid4())
    base = f"/registry/companies/{company['id']}/documents"
    assert offline_registry.client.get(base, headers=other).status_code == 404
    assert offline_registry.client.get(f"{base}/{document['id']}/content", headers=other).status_code == 404
    assert offline_registry.client.delete(f"{base}/{document['id']}", headers=other).status_code == 404
    assert upload(offline_registry, company["id"], other).status_code == 404
    assert offline_registry.client.get(base, headers=owner).json()["count"] == 1


def test_a_support_agent_reads_the_company_but_not_its_vault(offline_registry, company):
    owner = offline_registry.token("supplier", company_id=company["id"])
    document = upload(offline_registry, company["id"], owner).json()
    agent = offline_registry.token("support_agent")
    base = f"/registry/companies/{company['id']}/documents"
    assert offline_registry.client.get(f"/registry/companies/{company['id']}", headers=agent).status_code == 200
    for path in (base, f"{base}/{document['id']}", f"{base}/{document['id']}/content"):
        refused = offline_registry.client.get(path, headers=agent)
        assert (refused.status_code, refused.json()["code"]) == (403, "vault_forbidden"), path
        assert refused.json()["detail"] == "Les agents du support n'ont pas accès au coffre-fort des entreprises."
    assert offline_registry.client.delete(f"{base}/{document['id']}", headers=agent).status_code == 403
    assert upload(offline_registry, company["id"], agent).status_code == 403
    # The administrator may (a manual company's decision can rest on its Kbis), and nothing was changed.
    admin = offline_registry.token("platform_admin")
    listed = offline_registry.client.get(base, headers=admin)
    assert (listed.status_code, listed.json()["count"]) == (200, 1)
    assert offline_registry.client.get(f"{base}/{document['id']}/content", headers=admin).content == PDF


def test_expiring_documents_are_announced_once(offline_registry, company):
    user = offline_registry.token("supplier", company_id=company["id"])
    soon = (date.today() + timedelta(days=10)).isoformat()
    later = (date.today() + timedelta(days=60)).isoformat()
    upload(offline_registry, company["id"], user, valid_until=soon, label="URSSAF", type="attestation_urssaf")
    upload(offline_registry, company["id"], user, valid_until=later)
    assert jobs.notify_expiring(offline_registry.runtime) == 1
    assert jobs.notify_expiring(offline_registry.runtime) == 0
    with offline_registry.runtime.db.session() as session:
        events = session.execute(select(outbox.c.type, outbox.c.body)
                                 .where(outbox.c.type == "company.document.expiring")).all()
    assert len(events) == 1
    assert '"days_left":10' in events[0].body
    assert '"email":"marie.curie@example.fr"' in events[0].body


def test_each_document_says_whether_it_expired_or_expires_soon(offline_registry, company):
    """The pages show the service's status: the horizon is the expiry notice's (EXPIRY_NOTICE_DAYS, 15)."""
    user = offline_registry.token("supplier", company_id=company["id"])
    today = date.today()
    for label, valid_until in (("Passé", today - timedelta(days=1)), ("Aujourd'hui", today),
                               ("Bientôt", today + timedelta(days=15)), ("Plus tard", today + timedelta(days=16)),
                               ("Sans date", None)):
        fields = {"label": label} | ({"valid_until": valid_until.isoformat()} if valid_until else {})
        assert upload(offline_registry, company["id"], user, **fields).status_code == 201
    items = offline_registry.client.get(f"/registry/companies/{company['id']}/documents", headers=user).json()["items"]
    status = {item["label"]: (item["expired"], item["expires_soon"]) for item in items}
    assert status == {"Passé": (True, False), "Aujourd'hui": (False, True), "Bientôt": (False, True),
                      "Plus tard": (False, False), "Sans date": (False, False)}

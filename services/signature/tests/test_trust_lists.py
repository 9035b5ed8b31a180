"""EU trusted lists: signatures verified, expired or badly signed lists refused, disk cache, schedule,
state over the API, extra « art. 2 » anchors."""

from __future__ import annotations

import time

import pytest

from achats.signature.trust.lists import load_certificates

from signature_support import make_store, sign


def states(snapshot) -> dict:
    return {s.territory: s for s in snapshot.lists}


def test_lists_are_loaded_and_shown(service, lists):
    body = service.client.get("/signature/trust-lists").json()
    assert body["status"] == "ok"
    by_territory = {entry["territory"]: entry for entry in body["lists"]}
    assert by_territory["EU"]["kind"] == "lotl" and by_territory["EU"]["status"] == "loaded"
    fr = by_territory["FR"]
    assert fr["status"] == "loaded" and fr["provider_count"] == 1 and fr["service_count"] == 2
    assert fr["next_update"] and fr["sha256"] and fr["sequence_number"] >= 1
    assert body["next_refresh_at"]
    providers = service.client.get("/signature/trust-lists/providers", params={"territory": "fr"}).json()
    assert providers["count"] == 1
    services = {s["name"]: s for s in providers["items"][0]["services"]}
    assert services["Achats Test CA Qualifiée"]["type"] == "CA/QC"
    assert services["Achats Test Horodatage Qualifié"]["type"] == "TSA/QTST"
    assert all(s["status"] == "granted" for s in services.values())
    paged = service.client.get("/signature/trust-lists/providers", params={"limit": 1}).json()
    assert len(paged["items"]) == 1 and paged["next_cursor"] is None


@pytest.mark.parametrize(("mode", "status"), [("tampered", "invalid_signature"), ("expired", "expired")])
def test_bad_national_list_is_refused_and_its_cas_untrusted(build, lists, pki, pdf, tmp_path, mode, status):
    lists.set_list_mode("fr", mode)
    store = make_store(pki, tmp_path / f"cache-{mode}")
    snapshot = store.refresh()
    assert states(snapshot)["FR"].status == status
    assert states(snapshot)["FR"].message  # French, for GET /trust-lists
    assert snapshot.material.registry.known_certificate_authorities == set()
    # Extra anchors keep the service usable; the CA of the refused list is no longer trusted.
    anchored = make_store(pki, tmp_path / f"anchored-{mode}",
                          anchors=load_certificates([str(pki.pki.cert_path("art2-ca"))]))
    anchored.refresh()
    service = build(lists=anchored)
    signature = service.verify(sign(pki, "qesig", pdf))["signatures"][0]
    assert signature["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND"


def test_badly_signed_lotl_refuses_everything(build, lists, pki, pdf, tmp_path):
    lists.set_list_mode("lotl", "tampered")
    service = build(lists=None)
    response = service.client.post("/signature/verifications", files={"file": ("o.pdf", sign(pki, "qesig", pdf))})
    assert response.status_code == 503
    assert response.json()["code"] == "trust_lists_unavailable"
    body = service.client.get("/signature/trust-lists").json()
    assert body["status"] == "unavailable"
    assert body["lists"][0]["status"] == "invalid_signature"


def test_list_signed_by_a_key_the_lotl_does_not_name(lists, pki, tmp_path):
    # The LOTL signer is trusted for the LOTL only: give the FR signer instead and nothing loads.
    store = make_store(pki, tmp_path / "cache", lotl_signers=load_certificates([str(pki.pki.cert_path(
        "tl-signer-fr"))]))
    assert states(store.refresh())["EU"].status == "invalid_signature"


def test_disk_cache_serves_when_the_source_is_down(lists, pki, tmp_path):
    cache = tmp_path / "cache"
    first = make_store(pki, cache).refresh()
    assert {s.source for s in first.lists} == {"download"}
    lists.set_list_mode("fr", "missing")
    lists.set_list_mode("lotl", "missing")
    restarted = make_store(pki, cache, refresh_interval=0).refresh()  # cache too old to be preferred
    fr = states(restarted)["FR"]
    assert fr.status == "loaded" and fr.source == "cache"
    assert "Copie précédente" in fr.message
    assert restarted.material.registry.known_certificate_authorities


def test_a_fresh_cache_is_used_without_downloading(lists, pki, tmp_path):
    cache = tmp_path / "cache"
    make_store(pki, cache).refresh()
    before = pki.calls("tl")["calls"]
    again = make_store(pki, cache).refresh()
    assert {s.source for s in again.lists} == {"cache"}
    assert pki.calls("tl")["calls"] == before


def test_refresh_on_schedule_picks_up_a_new_list(lists, pki, tmp_path):
    store = make_store(pki, tmp_path / "cache", refresh_interval=0.2)
    first = store.wait_ready(30)
    sequence = states(first)["FR"].sequence_number
    lists.set_list_mode("fr", "normal")  # the stand-in publishes a new sequence number
    deadline = time.monotonic() + 30
    while states(store.snapshot)["FR"].sequence_number == sequence and time.monotonic() < deadline:
        time.sleep(0.05)
    store.close()
    assert states(store.snapshot)["FR"].sequence_number > sequence
    assert store.snapshot.next_refresh_at is not None


def test_next_refresh_is_no_later_than_the_lists_next_update(lists, pki, tmp_path):
    snapshot = make_store(pki, tmp_path / "cache", refresh_interval=10 * 365 * 86400).refresh()
    assert snapshot.next_refresh_at <= min(s.next_update for s in snapshot.lists)


def test_manual_refresh_is_for_platform_administrators(service, lists):
    assert service.client.post("/signature/trust-lists/refresh").status_code == 401
    assert service.client.post("/signature/trust-lists/refresh", headers=service.token("supplier")).status_code == 403
    response = service.client.post("/signature/trust-lists/refresh", headers=service.token("platform_admin"))
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert {entry["source"] for entry in response.json()["lists"]} == {"download"}


def test_extra_anchor_for_an_equivalent_ca(build, pki, pdf, tmp_path):
    signed = sign(pki, "art2", pdf)
    without = build()
    assert without.verify(signed)["signatures"][0]["verdict"]["code"] == "to_verify"
    store = make_store(pki, tmp_path / "anchors", anchors=load_certificates([str(pki.pki.cert_path("art2-ca"))]))
    store.refresh()
    with_anchor = build(lists=store)
    signature = with_anchor.verify(signed)["signatures"][0]
    assert signature["indication"] == "TOTAL_PASSED"
    assert signature["qualification"]["equivalent_anchor"] is True
    assert signature["qualification"]["label"] == "N/A"
    assert signature["chain"][-1]["anchor_source"] == "configured"
    assert signature["verdict"]["code"] == "compliant"
    assert any("art. 2" in check for check in signature["verdict"]["human_checks"])
    body = with_anchor.client.get("/signature/trust-lists").json()
    assert body["extra_anchors"][0]["subject"].startswith("Nom commun : Achats Test CA Équivalente Art. 2")
    assert body["extra_anchors"][0]["subject_dn"].startswith("CN=Achats Test CA Équivalente Art. 2")

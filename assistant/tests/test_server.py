"""The browser link: the local server answers the platform's origin only, after a pairing accepted in the
assistant; a page of another origin gets nothing and cannot make it sign."""

from __future__ import annotations

import base64

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from achats.assistant.server import Assistant, AssistantServer

from assistant_support import PIN

PLATFORM = "https://marches.example"
EVIL = "https://evil.example"


@pytest.fixture
def link(keystore, service_client):
    asked, confirmations = [], []

    def pin(info):
        asked.append(info)
        return PIN

    def confirm(origin, code):
        confirmations.append((origin, code))
        return code == "482913"  # the person compares with the page's code

    assistant = Assistant(keystore=keystore, origin=PLATFORM, pin_provider=pin, confirm=confirm,
                          platform="http://127.0.0.1:9", signature=service_client)
    with AssistantServer(assistant, port=0) as server:
        yield server.url, asked, confirmations


def pair(url: str, code: str = "482913", origin: str = PLATFORM) -> requests.Response:
    return requests.post(f"{url}/v1/pairings", json={"code": code}, headers={"Origin": origin}, timeout=10)


def marie_ref(url, key, pki):
    listed = requests.get(f"{url}/v1/certificates", headers={"Origin": PLATFORM, "Authorization": f"Bearer {key}"},
                          timeout=10).json()["certificates"]
    return next(c["id"] for c in listed if c["holder"].startswith("Marie Curie"))


def test_the_platform_pairs_lists_and_signs(link, pki):
    url, asked, confirmations = link
    status = requests.get(f"{url}/v1/status", headers={"Origin": PLATFORM}, timeout=10)
    assert status.status_code == 200 and status.json()["paired"] is False
    assert status.headers["Access-Control-Allow-Origin"] == PLATFORM
    assert pair(url, "111111").status_code == 403  # refused in the assistant: not the page's code
    paired = pair(url)
    assert paired.status_code == 201
    key = paired.json()["key"]
    assert confirmations == [(PLATFORM, "111111"), (PLATFORM, "482913")]
    listed = requests.get(f"{url}/v1/certificates", headers={"Origin": PLATFORM, "Authorization": f"Bearer {key}"},
                          timeout=10).json()["certificates"]
    assert {c["qualified_issuer"]["status"] for c in listed} == {"listed"}  # both from the listed CA
    ref = marie_ref(url, key, pki)
    data = b"attributs signes CMS"
    signed = requests.post(f"{url}/v1/signatures", headers={"Origin": PLATFORM, "Authorization": f"Bearer {key}"},
                           json={"certificate": ref, "data_to_be_signed": base64.b64encode(data).decode(),
                                 "documents": ["memoire.pdf"]}, timeout=30)
    assert signed.status_code == 200, signed.text
    value = base64.b64decode(signed.json()["signature_value"])
    pki.pki.cert("qesig").public_key().verify(value, data, padding.PKCS1v15(), hashes.SHA256())
    assert [a.purpose for a in asked] == [{"origin": PLATFORM, "documents": ["memoire.pdf"]}]


def test_chrome_private_network_preflight_for_the_platform_only(link):
    url, _, _ = link
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Private-Network": "true",
                 "Access-Control-Request-Headers": "authorization, content-type"}
    ok = requests.options(f"{url}/v1/signatures", headers={"Origin": PLATFORM, **preflight}, timeout=10)
    assert ok.status_code == 204
    assert ok.headers["Access-Control-Allow-Origin"] == PLATFORM
    assert ok.headers["Access-Control-Allow-Private-Network"] == "true"
    evil = requests.options(f"{url}/v1/signatures", headers={"Origin": EVIL, **preflight}, timeout=10)
    assert evil.status_code == 403 and evil.content == b""
    assert "Access-Control-Allow-Origin" not in evil.headers
    assert "Access-Control-Allow-Private-Network" not in evil.headers


def test_another_origin_gets_nothing_and_cannot_sign(link, pki):
    url, asked, confirmations = link
    key = pair(url).json()["key"]
    ref = marie_ref(url, key, pki)
    confirmations.clear()
    body = {"certificate": ref, "data_to_be_signed": base64.b64encode(b"x").decode()}
    for origin in (EVIL, "null", "https://marches.example.evil.example", "http://marches.example", None):
        headers = {"Authorization": f"Bearer {key}"}  # even with a stolen key
        if origin:
            headers["Origin"] = origin
        for method, path, kwargs in [("GET", "/v1/status", {}), ("GET", "/v1/certificates", {}),
                                     ("POST", "/v1/signatures", {"json": body}),
                                     ("POST", "/v1/pairings", {"json": {"code": "482913"}}),
                                     ("POST", "/v1/report", {"json": {}})]:
            answer = requests.request(method, f"{url}{path}", headers=headers, timeout=10, **kwargs)
            assert answer.status_code == 403 and answer.content == b"", (origin, path)
            assert "Access-Control-Allow-Origin" not in answer.headers
    assert asked == [] and confirmations == []  # no PIN asked, no pairing question shown


def test_dns_rebinding_is_refused(link):
    url, _, _ = link
    answer = requests.get(f"{url}/v1/status", headers={"Origin": PLATFORM, "Host": "evil.example"}, timeout=10)
    assert answer.status_code == 403


def test_without_pairing_the_platform_sees_status_only(link):
    url, asked, _ = link
    for method, path in [("GET", "/v1/certificates"), ("POST", "/v1/signatures"), ("POST", "/v1/report")]:
        answer = requests.request(method, f"{url}{path}", headers={"Origin": PLATFORM,
                                                                   "Authorization": "Bearer devine"},
                                  json={}, timeout=10)
        assert answer.status_code == 401
        assert answer.json()["code"] == "pairing_required" and "Associez" in answer.json()["detail"]
    assert asked == []


def test_errors_are_french_problems(link, pki, keystore):
    url, _, _ = link
    key = pair(url).json()["key"]
    headers = {"Origin": PLATFORM, "Authorization": f"Bearer {key}"}
    bad = requests.post(f"{url}/v1/signatures", headers=headers, json={"certificate": "x"}, timeout=10)
    assert bad.status_code == 400 and bad.headers["Content-Type"] == "application/problem+json"
    unknown = requests.post(f"{url}/v1/signatures", headers=headers, timeout=10,
                            json={"certificate": "p11-nope", "data_to_be_signed": "eA=="})
    assert unknown.status_code == 404 and unknown.json()["code"] == "certificate_not_found"
    expired = next(i for i in keystore.certificates() if i.certificate == pki.pki.cert("expired"))
    refused = requests.post(f"{url}/v1/signatures", headers=headers, timeout=10,
                            json={"certificate": expired.ref, "data_to_be_signed": "eA=="})
    assert refused.status_code == 422 and "a expiré" in refused.json()["detail"]
    assert pair(url, "12ab").json()["code"] == "pairing_code_invalid"

"""« Tester la configuration »: the assistant's report, with a test signature from the token verified by the
real signature service, and the reachability of the platform, the TSA and the OCSP responders."""

from __future__ import annotations

import platform as host

import requests

from achats.assistant import __version__
from achats.assistant.report import build_report
from achats.assistant.server import Assistant, AssistantServer

from assistant_support import PIN

PLATFORM = "https://marches.example"


def test_the_report_through_the_local_server(keystore, pki, service_client, signature_api):
    base = signature_api[0].rsplit("/signature", 1)[0]
    assistant = Assistant(keystore=keystore, origin=PLATFORM, pin_provider=lambda _info: PIN,
                          confirm=lambda _origin, _code: True, platform=base, signature=service_client,
                          tsa_url=pki.tsa_url)
    with AssistantServer(assistant, port=0) as server:
        key = requests.post(f"{server.url}/v1/pairings", json={"code": "123456"}, headers={"Origin": PLATFORM},
                            timeout=10).json()["key"]
        answer = requests.post(f"{server.url}/v1/report", json={"test_signature": True}, timeout=60,
                               headers={"Origin": PLATFORM, "Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["assistant_version"] == __version__ and report["os"] == host.system()
    assert [t["label"] for t in report["tokens"]] == ["t"]
    assert len(report["certificates"]) == 2
    signature = report["test_signature"]
    assert signature["status"] == "passed", signature
    assert signature["indication"] == "TOTAL_PASSED" and signature["qualification"] == "QESig"
    assert signature["verification_id"]
    reach = report["reachability"]
    assert reach["platform"]["reachable"] is True
    assert reach["timestamping"]["reachable"] is True and reach["timestamping"]["status"] == 200
    assert reach["revocation"] and all(r["reachable"] for r in reach["revocation"])
    assert all(r["url"].startswith(pki.pki_url) for r in reach["revocation"])
    # The servers run on this machine's clock: the skew measured is none, within the uncertainty it states (the
    # Date header's second, and the request's round trip however slow the machine is).
    clock = report["clock"]
    assert clock["ok"] is True and abs(clock["skew_seconds"]) <= clock["uncertainty_seconds"] + 0.05, clock


def test_what_is_down_is_said(keystore, pki, service_client):
    report = build_report(keystore=keystore, platform="http://127.0.0.1:9", signature=service_client,
                          tsa_url="http://127.0.0.1:9/tsa")
    assert report["reachability"]["platform"]["reachable"] is False
    assert report["reachability"]["timestamping"]["reachable"] is False
    assert report["test_signature"]["status"] == "skipped"  # no PIN provider: not asked


def test_a_wrong_pin_in_the_test_signature(keystore, service_client):
    report = build_report(keystore=keystore, platform="http://127.0.0.1:9", signature=service_client, tsa_url=None,
                          pin_provider=lambda _info: "9999")
    assert report["test_signature"]["status"] == "failed"
    assert report["test_signature"]["message"].startswith("Code PIN incorrect")

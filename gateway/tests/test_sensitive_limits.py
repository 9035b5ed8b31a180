"""Sensitive routes limited per target and per address (issue 13 item 13), the wait said in French."""

from __future__ import annotations

import re
import time

import requests

from achats.gateway.ratelimit import announced_wait, spoken_wait
from achats.gateway.targets import of_body

from gateway_support import running_gateway


def fresh_window(needed: float = 8.0) -> None:
    """The limits count per clock minute: start where the minute does not end during the test, and not in its
    first 1.5 s (a refusal there would wait a whole minute, announced « 1 minute », not in seconds)."""
    left = 60 - time.time() % 60
    if left < needed:
        time.sleep(left + 1.5)
    elif left > 58.5:
        time.sleep(left - 58.5)


def registration(number: int) -> dict:
    # Colleagues of one establishment: the same SIREN and SIRET, their own identifiant and e-mail.
    return {"company": {"source": "insee", "siren": "265701342"}, "establishment": {"siret": "26570134200148"},
            "user": {"last_name": "Curie", "first_name": "Marie", "email": f"collegue{number}@example.fr"},
            "credentials": {"login": f"collegue{number}", "password": "radium et polonium pour toujours"}}


def test_the_targets_are_read_from_json_and_form_bodies():
    assert of_body(b'{"credentials": {"login": " MCurie "}, "user": {"email": "M@Example.fr"}, '
                   b'"establishment": {"siret": "26570134200148"}}', "application/json") == (
        "login:mcurie", "email:m@example.fr")
    # A company is the target only when no account is named.
    assert of_body(b'{"establishment": {"siret": "265 701 342 00148"}}', "application/json") == (
        "siret:26570134200148",)
    assert of_body(b'{"login_or_email": "m@example.fr"}', "application/json") == ("email:m@example.fr",)
    assert of_body(b"grant_type=client_credentials&client_id=erp", "application/x-www-form-urlencoded") == (
        "client:erp",)
    # Not what it claims, or built to hurt: no target (the caller's own limit applies).
    assert of_body(b"\xff{", "application/json") == ()
    assert of_body(b"[" * 100_000, "application/json") == ()
    assert of_body(b'{"login": 12}', "application/json") == ()


def test_an_office_behind_one_address_registers_twenty_colleagues_but_one_account_is_protected():
    with running_gateway(trust_forwarded_for=True) as gateway:
        fresh_window()
        office = {"X-Forwarded-For": "203.0.113.7"}
        codes = [requests.post(f"{gateway.url}/api/echo/public", json=registration(n), headers=office).status_code
                 for n in range(20)]
        assert codes == [200] * 20
        # The same bytes reached the service.
        assert gateway.echo.seen[-1]["size"] == len(requests.models.complexjson.dumps(registration(19)))

        # One identifiant tried from everywhere: ten a minute, then refused whatever the address.
        login = {"login": "mcurie", "password": "essai"}
        codes = [requests.post(f"{gateway.url}/api/echo/public", json=login,
                               headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(11)]
        assert codes == [200] * 10 + [429]
        # Another account from the same addresses is not affected.
        assert requests.post(f"{gateway.url}/api/echo/public", json={"login": "pcurie", "password": "essai"},
                             headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 200


def test_the_address_ceiling_holds_against_many_targets():
    with running_gateway(trust_forwarded_for=True, rate_sensitive_address_per_minute=25) as gateway:
        fresh_window()
        robot = {"X-Forwarded-For": "192.0.2.66"}
        codes = [requests.post(f"{gateway.url}/api/echo/public", json={"login": f"victime{n}", "password": "x"},
                               headers=robot).status_code for n in range(27)]
        assert codes == [200] * 25 + [429, 429]
        # Other addresses go on.
        assert requests.post(f"{gateway.url}/api/echo/public", json={"login": "victime99", "password": "x"},
                             headers={"X-Forwarded-For": "192.0.2.67"}).status_code == 200


def test_the_refusal_says_in_french_how_long_to_wait_and_retry_after_agrees():
    with running_gateway() as gateway:
        fresh_window()
        for _ in range(10):
            requests.post(f"{gateway.url}/api/echo/public", json={"login": "mcurie", "password": "x"})
        refused = requests.post(f"{gateway.url}/api/echo/public", json={"login": "mcurie", "password": "x"})
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["code"] == "too_many_requests"
        found = re.fullmatch(r"Trop de demandes : réessayez dans (\d+)\xa0(secondes?)\.", problem["detail"])
        assert found, problem["detail"]
        wait = int(refused.headers["retry-after"])
        assert int(found.group(1)) == wait and 0 < wait < 60
        assert found.group(2) == ("seconde" if wait == 1 else "secondes")


def test_a_body_read_for_its_targets_still_keeps_to_the_route_limit():
    with running_gateway() as gateway:
        big = b'{"login": "' + b"x" * (1024 * 1024) + b'"}'
        refused = requests.post(f"{gateway.url}/api/echo/public", data=big,
                                headers={"Content-Type": "application/json"})
        assert refused.status_code == 413

        def chunks():
            for _ in range(20):
                yield b" " * 65536

        streamed = requests.post(f"{gateway.url}/api/echo/public", data=chunks(),
                                 headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413


def test_the_wait_in_french_words():
    assert [spoken_wait(announced_wait(s)) for s in (0.2, 1, 2, 40, 59.5, 60, 61, 150)] == [
        "1\xa0seconde", "1\xa0seconde", "2\xa0secondes", "40\xa0secondes", "1 minute", "1 minute",
        "2 minutes", "3 minutes"]
    assert [announced_wait(s) for s in (0.2, 40, 59.5, 61)] == [1, 40, 60, 120]

"""« Mot de passe oublié »: same answer for everyone, single-use 1 h link, all sessions end."""

from __future__ import annotations

from achats.identity.timing import Equalizer

from identity_support import PASSWORD, build_stack

NEW = "une nouvelle phrase de passe bien longue"


def test_same_answer_whether_or_not_the_account_exists(stack):
    stack.register()
    answers = [stack.client.post("/identity/password-resets", json={"login_or_email": who})
               for who in ("mcurie", "MARIE.CURIE@example.fr", "personne", "inconnu@example.fr")]
    assert {r.status_code for r in answers} == {202}
    assert len({r.text for r in answers}) == 1
    requested = stack.events("identity.password_reset.requested")
    assert len(requested) == 2
    assert requested[0]["reset_url"].startswith("https://marches.example.fr/compte/mot-de-passe/nouveau?token=")


def test_reset_link_changes_the_password_once_and_ends_every_session(stack):
    stack.register()
    session = stack.login()
    stack.client.post("/identity/password-resets", json={"login_or_email": "mcurie"})
    token = stack.link_token("identity.password_reset.requested", "reset_url")
    weak = stack.client.post("/identity/password-resets/confirm", json={"token": token, "password": "court"})
    assert (weak.status_code, weak.json()["code"]) == (422, "password_rejected")
    done = stack.client.post("/identity/password-resets/confirm", json={"token": token, "password": NEW})
    assert done.status_code == 204
    again = stack.client.post("/identity/password-resets/confirm", json={"token": token, "password": NEW + "x"})
    assert (again.status_code, again.json()["code"]) == (400, "link_invalid")
    assert stack.client.post("/identity/sessions", json={"login": "mcurie", "password": PASSWORD}).status_code == 401
    assert stack.login(password=NEW)
    assert stack.client.post("/identity/sessions/refresh",
                             json={"refresh_token": session["refresh_token"]}).status_code == 401
    (changed,) = stack.events("identity.password.changed")
    assert changed["email"] == "marie.curie@example.fr"


def test_a_new_request_cancels_the_previous_link_and_links_expire(database_url, tmp_path, standin):
    with build_stack(database_url, tmp_path, standin) as stack:
        stack.register()
        stack.client.post("/identity/password-resets", json={"login_or_email": "mcurie"})
        first = stack.link_token("identity.password_reset.requested", "reset_url")
        stack.client.post("/identity/password-resets", json={"login_or_email": "mcurie"})
        second = stack.link_token("identity.password_reset.requested", "reset_url")
        assert stack.client.post("/identity/password-resets/confirm",
                                 json={"token": first, "password": NEW}).status_code == 400
        assert stack.client.post("/identity/password-resets/confirm",
                                 json={"token": second, "password": NEW}).status_code == 204
    with build_stack(database_url, tmp_path, standin, reset_link_ttl=-1) as expired:
        expired.client.post("/identity/password-resets", json={"login_or_email": "mcurie"})
        token = expired.link_token("identity.password_reset.requested", "reset_url")
        response = expired.client.post("/identity/password-resets/confirm", json={"token": token, "password": NEW})
        assert response.status_code == 400
        assert "expiré" in response.json()["detail"]


def test_unknown_accounts_wait_as_long_as_known_ones():
    waited = []
    equalizer = Equalizer(initial=0.2, sleep=waited.append)
    import time

    equalizer.pad(time.perf_counter())
    assert 0.15 < waited[0] <= 0.22
    equalizer.observe(1.0)
    equalizer.pad(time.perf_counter())
    assert waited[1] > waited[0]  # learnt from the real path

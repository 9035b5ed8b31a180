"""Follow links: unguessable, hashed, expiring, revocable — and every failure looks like an unknown ticket."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select, update

from achats.helpdesk.models import FollowLink

from helpdesk_support import now


def _same_404(response) -> dict:
    assert response.status_code == 404, response.text
    body = response.json()
    body.pop("instance", None)  # the request's own path
    return body


def test_every_bad_link_answers_like_an_unknown_ticket(helpdesk):
    ticket = helpdesk.created(email="a.durand@example.fr")
    other = helpdesk.created(email="b.martin@example.fr")
    reference, token = helpdesk.follow_token(ticket["id"])
    _, other_token = helpdesk.follow_token(other["id"])
    assert helpdesk.follow(reference, token).status_code == 200

    unknown = _same_404(helpdesk.follow("00000000", token))
    assert unknown["code"] == "ticket_not_found"
    assert unknown["detail"] == "Cette demande d'assistance n'existe pas ou ce lien de suivi n'est plus valide."
    cases = {
        "missing": helpdesk.follow(reference, None),
        "wrong": helpdesk.follow(reference, token[:-2] + ("AA" if not token.endswith("AA") else "BB")),
        "another ticket's": helpdesk.follow(reference, other_token),
        "too long": helpdesk.follow(reference, "x" * 5000),
    }
    for case, response in cases.items():
        assert _same_404(response) == unknown, case
    # Writing and downloading through a bad link are refused the same way.
    assert _same_404(helpdesk.follow(reference, "nope", "/messages", method="post", data={"message": "x"},
                                     files=[("attachments", ("", b"", "application/octet-stream"))])) == unknown
    attachment = "4f1f3a52-1d0e-4c1b-9a57-3c2b8f0e7d41"
    assert _same_404(helpdesk.follow(reference, "nope", f"/attachments/{attachment}")) == unknown


def test_links_expire(helpdesk):
    ticket = helpdesk.created(email="a.durand@example.fr")
    reference, token = helpdesk.follow_token(ticket["id"])
    with helpdesk.runtime.db.unit_of_work() as uow:
        uow.session.execute(update(FollowLink).values(expires_at=now() - timedelta(seconds=1)))
        uow.commit()
    expired = helpdesk.follow(reference, token)
    assert _same_404(expired) == _same_404(helpdesk.follow("00000000", token))


def test_links_last_the_configured_days_after_each_mail(sqlite_url, keys):
    from helpdesk_support import make_helpdesk

    service = make_helpdesk(sqlite_url, keys, follow_link_days=3)
    try:
        ticket = service.created(email="a.durand@example.fr")
        with service.runtime.db.session() as session:
            [link] = session.execute(select(FollowLink)).scalars().all()
            lifetime = link.expires_at - link.created_at
        assert lifetime == timedelta(days=3)
        # Each mail brings its own new link; the earlier ones keep working.
        agent = service.auth("agent")
        service.post_form(f"/helpdesk/agent/tickets/{ticket['id']}/replies", headers=agent, message="Réponse")
        first = service.follow_token(ticket["id"])
        second = service.follow_token(ticket["id"], "helpdesk.ticket.answered")
        assert first[1] != second[1]
        assert service.follow(*first).status_code == service.follow(*second).status_code == 200
    finally:
        service.runtime.db.dispose()


def test_only_the_hash_of_a_token_is_stored(helpdesk):
    ticket = helpdesk.created(email="a.durand@example.fr")
    _, token = helpdesk.follow_token(ticket["id"])
    assert len(token) >= 43  # 256 random bits
    with helpdesk.runtime.db.session() as session:
        [link] = session.execute(select(FollowLink)).scalars().all()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(vars(link))


def test_the_requester_or_an_agent_revokes_every_link(helpdesk):
    marie = helpdesk.auth("marie")
    ticket = helpdesk.created(headers=marie)
    reference, token = helpdesk.follow_token(ticket["id"])
    assert helpdesk.client.delete(f"/helpdesk/tickets/{ticket['id']}/follow-links",
                                  headers=helpdesk.auth("pierre")).status_code == 404  # not Pierre's ticket
    assert helpdesk.follow(reference, token).status_code == 200
    assert helpdesk.client.delete(f"/helpdesk/tickets/{ticket['id']}/follow-links", headers=marie).status_code == 204
    assert _same_404(helpdesk.follow(reference, token)) == _same_404(helpdesk.follow("00000000", token))
    # The next mail carries a new, working link; an agent can revoke that one too.
    agent = helpdesk.auth("agent")
    helpdesk.post_form(f"/helpdesk/agent/tickets/{ticket['id']}/replies", headers=agent, message="Réponse")
    reference, fresh = helpdesk.follow_token(ticket["id"], "helpdesk.ticket.answered")
    assert helpdesk.follow(reference, fresh).status_code == 200
    assert helpdesk.client.get(f"/helpdesk/agent/tickets/{ticket['id']}", headers=agent).json()[
        "active_follow_links"] == 1
    assert helpdesk.client.delete(f"/helpdesk/tickets/{ticket['id']}/follow-links", headers=agent).status_code == 204
    assert helpdesk.follow(reference, fresh).status_code == 404
    history = helpdesk.client.get(f"/helpdesk/agent/tickets/{ticket['id']}", headers=agent).json()["history"]
    assert [e["kind"] for e in history].count("links_revoked") == 2
    # The requester never sees that internal bookkeeping.
    mine = helpdesk.client.get(f"/helpdesk/tickets/{ticket['id']}", headers=marie).json()["history"]
    assert "links_revoked" not in [e["kind"] for e in mine]


def test_follow_answers_are_not_cached(helpdesk):
    ticket = helpdesk.created(email="a.durand@example.fr")
    response = helpdesk.follow(*helpdesk.follow_token(ticket["id"]))
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["referrer-policy"] == "no-referrer"

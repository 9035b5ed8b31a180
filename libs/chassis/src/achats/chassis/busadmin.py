"""The event bus of one service, for the platform administrators (issue 17 item 7): its outbox backlog and its
dead-letter queue, and the replay of that queue — what ``achats-<service> dlq list|replay`` does, over HTTP.

Routes beside ``/readyz`` (outside the service's contract and its ``/<service>`` prefix, so the gateway does not
expose them): ``GET /admin/bus`` and ``POST /admin/bus/dead-letters/replay``, both for a bearer token with the role
``platform_admin`` (401 without a valid token, 403 otherwise, problem+json).
"""

from __future__ import annotations

import json
from typing import Any

import flask
from sqlalchemy import func, select

from . import security
from .bus.schema import outbox
from .bus.transport import QueueSpec
from .problems import PROBLEM_JSON, Problem

ROLE = "platform_admin"
FORBIDDEN = "Réservé aux administrateurs de la plateforme."


def _problem(problem: Problem) -> flask.Response:
    return flask.Response(json.dumps(problem.to_dict(instance=flask.request.path), ensure_ascii=False),
                          status=problem.status, mimetype=PROBLEM_JSON, headers=dict(problem.headers))


def _admin(verifier: security.TokenVerifier | None) -> None:
    """The caller's token verified (the service's own verifier) and holding ``platform_admin``."""
    header = flask.request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(status=401, code="unauthenticated", detail=security.DETAIL_MISSING,
                      headers={"WWW-Authenticate": "Bearer"})
    if verifier is None:
        raise Problem(status=503, code="authentication_unavailable", detail=security.DETAIL_JWKS_UNAVAILABLE)
    claims = verifier.verify(token)
    if ROLE not in security.Principal.from_claims(claims).roles:
        raise Problem(status=403, code="platform_admin_required", detail=FORBIDDEN)


def state(db, transport, spec: QueueSpec | None) -> dict:
    """The outbox's rows not yet published (how many, since when, the relay's last error) and the number of
    messages in the dead-letter queue (None when the service consumes no event)."""
    answer: dict[str, Any] = {"outbox": None, "dead_letters": None, "queue": spec.name if spec else None}
    if db is not None:
        with db.session() as session:
            pending, oldest, attempts = session.execute(
                select(func.count(), func.min(outbox.c.created_at), func.max(outbox.c.attempts))
                .where(outbox.c.published_at.is_(None))).one()
            error = session.execute(select(outbox.c.last_error).where(
                outbox.c.published_at.is_(None), outbox.c.last_error.is_not(None))
                .order_by(outbox.c.seq.desc()).limit(1)).scalar()
        answer["outbox"] = {"pending": pending, "oldest_pending_at": oldest.isoformat() if oldest else None,
                            "max_attempts": attempts or 0, "last_error": error}
    if spec is not None and transport is not None:
        answer["dead_letters"] = transport.dead_letter_count(spec)
    return answer


def install(app, *, runtime, spec: QueueSpec | None) -> None:
    """Add the two routes to a chassis app (``app``: the connexion FlaskApp; ``runtime``: its Runtime)."""
    db, transport = runtime.db, runtime.transport

    def bus_state():
        try:
            _admin(runtime.verifier)
            return flask.jsonify(state(db, transport, spec))
        except Problem as problem:
            return _problem(problem)

    def replay():
        try:
            _admin(runtime.verifier)
            if spec is None or transport is None:
                raise Problem(status=409, code="no_dead_letter_queue", detail=(
                    "Ce service ne consomme aucun événement : il n'a pas de file de messages en échec."))
            replayed = transport.replay_dead_letters(spec)
            return flask.jsonify({"replayed": replayed, **state(db, transport, spec)})
        except Problem as problem:
            return _problem(problem)

    app.add_url_rule("/admin/bus", "bus_state", bus_state, methods=["GET"])
    app.add_url_rule("/admin/bus/dead-letters/replay", "bus_replay", replay, methods=["POST"])

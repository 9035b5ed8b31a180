"""« Questions » (issue 19): the questions of the companies to the buyers of the consultations de test, unanswered
oldest first, and the answer form of each — for support agents (and administrators), who answer for the fictitious
buyers. Every read and the answer are the consultations service's (``/consultations/questions…``) with the user's
token: the service checks the role (its 403 is the 403 page), publishes the answer without the asker's name to every
company that downloaded the DCE, and has it mailed to the asker and the downloaders."""

from __future__ import annotations

import uuid

import flask

from .. import forms
from . import blueprint, call

PAGE_SIZE = 25


def _question(question_id: uuid.UUID) -> dict:
    response = call("consultations", "GET", f"/consultations/questions/{question_id}")
    if response.status_code == 404:
        flask.abort(404)
    if response.status_code != 200:
        flask.abort(503)
    return response.json()


@blueprint.get("/questions")
def questions():
    params = {"status": "pending", "limit": PAGE_SIZE}
    if flask.request.args.get("suite"):
        params["cursor"] = flask.request.args["suite"][:200]
    response = call("consultations", "GET", "/consultations/questions", params=params)
    if response.status_code != 200:
        flask.abort(503)
    page = response.json()
    return flask.render_template(
        "backoffice/questions.html", page=page, bo_page="backoffice.questions",
        answered=flask.request.args.get("repondu") == "1",
        next_url=flask.url_for("backoffice.questions", suite=page["next_cursor"]) if page.get("next_cursor") else None)


@blueprint.get("/questions/<uuid:question_id>")
def question(question_id: uuid.UUID):
    found = _question(question_id)
    return flask.render_template("backoffice/question.html", q=found, bo_page="backoffice.questions",
                                 values={"question": found["published_question"] or found["question"],
                                         "answer": found["answer"] or ""})


@blueprint.post("/questions/<uuid:question_id>")
def answer(question_id: uuid.UUID):
    form = flask.request.form
    values = {"question": form.get("question", ""), "answer": form.get("answer", "")}
    response = call("consultations", "POST", f"/consultations/questions/{question_id}/answer",
                    json={"answer": values["answer"], "question": values["question"]})
    if response.status_code == 200:
        return flask.redirect(flask.url_for("backoffice.questions", repondu="1"), code=303)
    if response.status_code == 404:
        flask.abort(404)
    problem = forms.problem_of(response)
    errors = problem.field_errors({"answer": "answer", "question": "question"})
    return flask.render_template("backoffice/question.html", q=_question(question_id), bo_page="backoffice.questions",
                                 values=values, errors=errors, error=None if errors else problem.detail), \
        response.status_code

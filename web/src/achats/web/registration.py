"""« M'inscrire »: the registration path of the guide, calling the registry and identity."""

from __future__ import annotations

import flask

blueprint = flask.Blueprint("registration", __name__)


@blueprint.get("/inscription")
def start():
    return flask.render_template("registration/start.html", siret=flask.request.args.get("siret", ""))

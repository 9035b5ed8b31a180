"""Handlers of the sample service: just enough to exercise the app factory."""

import hashlib
import io
import os

from achats.chassis.app import current_runtime
from achats.chassis.problems import Problem


def create_item(body):
    return {"name": body["name"], "service": current_runtime().settings.service}, 201


def list_items(limit=10):
    return {"items": [], "limit": limit, "pid": os.getpid()}, 200


def get_item(item_id):
    raise Problem(status=404, code="item_not_found", detail="Cet élément n'existe pas.")


def upload(body, file):
    content = file.read()
    return {"label": body["label"], "filename": file.filename, "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(), "in_memory": isinstance(file.stream, io.BytesIO)}, 201


def boom():
    raise RuntimeError("secret internal detail: password=hunter2")


def secret(token_info, user):
    return {"sub": user, "roles": token_info.get("roles")}, 200

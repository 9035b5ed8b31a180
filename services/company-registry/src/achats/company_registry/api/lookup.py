"""GET /registry/lookup/{number}."""

from achats.chassis.app import current_runtime

from .. import lookup as service


def get(number: str):
    return service.lookup(current_runtime().extras["insee"], number), 200

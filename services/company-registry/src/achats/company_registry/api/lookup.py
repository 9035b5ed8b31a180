"""GET /registry/lookup/{number}."""


from .. import deps
from .. import lookup as service


def get(number: str):
    return service.lookup(deps.current().insee, number), 200

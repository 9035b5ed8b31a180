"""GET /registry/search: companies by name, for a user who does not know the SIRET."""


from .. import deps
from .. import search as service


def get(q: str, postal_code: str | None = None, city: str | None = None, limit: int = 20):
    return service.search(deps.current().insee, q, postal_code=postal_code, city=city,
                          limit=limit), 200

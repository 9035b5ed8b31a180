"""GET /api/platform: which services answer behind the gateway."""

from concurrent.futures import ThreadPoolExecutor

from achats.chassis.app import current_runtime
from achats.chassis.http import ServiceClient, ServiceUnavailable


def _status(client: ServiceClient) -> str:
    try:
        return "ok" if client.get("/readyz").status_code == 200 else "indisponible"
    except ServiceUnavailable:
        return "indisponible"


def get():
    clients: dict[str, ServiceClient] = current_runtime().extras["upstreams"]
    with ThreadPoolExecutor(max_workers=max(1, len(clients))) as pool:
        statuses = dict(zip(clients, pool.map(_status, clients.values()), strict=True))
    services = [{"name": name, "url": client.base_url, "status": statuses[name]} for name, client in clients.items()]
    return {"name": "Plateforme des achats", "services": services}, 200

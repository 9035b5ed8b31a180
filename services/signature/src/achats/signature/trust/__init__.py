"""The EU trusted lists and the extra trust anchors, as the API shows them."""

from __future__ import annotations

from achats.chassis import clock

from ..validation.common import distinguished_names, name_fr
from .lists import ListState, TrustSnapshot


def _list(state: ListState) -> dict:
    return {"kind": state.kind, "territory": state.territory, "location": state.location, "status": state.status,
            "source": state.source, "sequence_number": state.sequence_number,
            "issued_at": clock.iso(state.issued_at), "next_update": clock.iso(state.next_update),
            "fetched_at": clock.iso(state.fetched_at), "sha256": state.sha256,
            "message": state.message, "provider_count": len(state.providers),
            "service_count": sum(len(services) for _name, services in state.providers)}


def describe(snapshot: TrustSnapshot) -> dict:
    anchors = [{"subject": name_fr(cert.subject), "subject_dn": distinguished_names(cert)[0],
                "sha256": cert.sha256.hex(),
                "not_after": clock.iso(cert.not_valid_after)} for cert in snapshot.material.anchors]
    return {"status": snapshot.status, "loaded_at": clock.iso(snapshot.loaded_at),
            "next_refresh_at": clock.iso(snapshot.next_refresh_at), "lists": [_list(s) for s in snapshot.lists],
            "extra_anchors": anchors}


def providers(snapshot: TrustSnapshot, territory: str | None = None) -> list[dict]:
    out = []
    for state in snapshot.lists:
        if not state.in_use or (territory and state.territory.upper() != territory.upper()):
            continue
        for name, services in state.providers:
            out.append({"territory": state.territory, "name": name,
                        "services": [{"name": s.name, "type": s.type, "status": s.status,
                                      "status_since": s.status_since} for s in services]})
    return out

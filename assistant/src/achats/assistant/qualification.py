"""Whether a certificate's issuer is a qualified CA of the EU trusted lists, asked of the signature service
(`GET /trust-lists/providers`, public). The service's list of providers names services, not certificates:
the issuer's common name is matched to the names of the CA/QC services (case and spaces aside). It is an
indication shown beside the certificate; the test signature's report (which checks the chain against the
lists' certificates) is the proof."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID

from .errors import AssistantError
from .service import SignatureService


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def qualified_services(service: SignatureService) -> dict[str, dict]:
    """CA/QC services of the lists in use, by normalised name."""
    found: dict[str, dict] = {}
    cursor = None
    for _page in range(50):
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = service._call("GET", "/trust-lists/providers", params=params).json()
        for provider in page.get("items", []):
            for entry in provider.get("services", []):
                if "CA/QC" in str(entry.get("type", "")):
                    found.setdefault(_norm(entry.get("name", "")), {
                        "provider": provider.get("name"), "territory": provider.get("territory"),
                        "service": entry.get("name"), "service_status": entry.get("status")})
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return found


def issuer_status(cert: x509.Certificate, services: dict[str, dict]) -> dict:
    names = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    entry = services.get(_norm(str(names[0].value))) if names else None
    if entry is None:
        return {"status": "not_found", "message": "Cet émetteur n'a pas été trouvé dans les listes de confiance "
                                                  "européennes (services « QCert for ESig ») : vérifiez que votre "
                                                  "certificat est qualifié (la signature de test le vérifie)."}
    granted = "granted" in str(entry["service_status"]).lower()
    return {"status": "listed" if granted else "withdrawn", **entry, "basis": "issuer_name",
            "message": f"Émetteur qualifié : {entry['provider']} ({entry['territory']}), liste de confiance "
                       "européenne." if granted else "Le service de cet émetteur n'est plus qualifié dans la liste "
                                                     "de confiance européenne."}


def annotate(certificates: list[dict], infos, service: SignatureService | None) -> list[dict]:
    """``certificates`` (as_dict) with ``qualified_issuer``; unknown when the service cannot be asked."""
    if service is None:
        return certificates
    try:
        services = qualified_services(service)
    except AssistantError as exc:
        for shown in certificates:
            shown["qualified_issuer"] = {"status": "unknown", "message": exc.message}
        return certificates
    for shown, info in zip(certificates, infos, strict=True):
        shown["qualified_issuer"] = issuer_status(info.certificate, services)
    return certificates

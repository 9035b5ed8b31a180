"""Qualification (eIDAS, from the trusted lists) and the verdict under the arrêté du 22 mars 2019.

A report states three things apart: (a) the ETSI validation result (indication, sub-indication),
(b) the eIDAS qualification of the signature from the trusted lists (DSS labels: QESig, AdESig-QC,
AdESig...), (c) whether the signature is acceptable in French public procurement, with what a person
must still check — the signer's identity and power to commit the company can never be automated.
"""

from __future__ import annotations

from datetime import datetime

from pyhanko.sign.validation.qualified.q_status import QualificationResult
from pyhanko.sign.validation.qualified.tsp import QcCertType

from ..trust.lists import TrustMaterial
from .common import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED, cert_id

COMPLIANT = "compliant"
NON_COMPLIANT = "non_compliant"
TO_VERIFY = "to_verify"
LABELS = {
    COMPLIANT: "Signature conforme à l'arrêté du 22 mars 2019",
    NON_COMPLIANT: "Signature non conforme",
    TO_VERIFY: "Signature à vérifier",
}

SUBINDICATION_REASONS = {
    "FORMAT_FAILURE": "La signature est mal formée.",
    "HASH_FAILURE": "Le document a été modifié après la signature : son empreinte ne correspond plus.",
    "SIG_CRYPTO_FAILURE": "La valeur de la signature est invalide (elle ne correspond pas au certificat).",
    "REVOKED": "Le certificat du signataire était révoqué au moment de la signature.",
    "EXPIRED": "Le certificat du signataire était expiré au moment de la signature.",
    "NOT_YET_VALID": "Le certificat du signataire n'était pas encore valide au moment de la signature.",
    "NO_CERTIFICATE_CHAIN_FOUND": "Le certificat n'est émis par aucune autorité des listes de confiance "
                                  "européennes ni par une autorité reconnue équivalente (art. 2).",
    "REVOKED_NO_POE": "Le certificat du signataire est révoqué et aucune preuve n'établit que la signature "
                      "est antérieure à la révocation.",
    "REVOKED_CA_NO_POE": "Un certificat de l'autorité de certification est révoqué.",
    "OUT_OF_BOUNDS_NO_POE": "Le certificat du signataire est expiré et aucune preuve n'établit que la "
                            "signature a été faite pendant sa validité.",
    "TRY_LATER": "Le statut de révocation du certificat n'a pas pu être obtenu : réessayez plus tard.",
    "NO_POE": "Aucune preuve d'existence suffisante pour valider la signature dans le temps.",
    "SIG_CONSTRAINTS_FAILURE": "La signature ne respecte pas les contraintes de validation.",
    "CHAIN_CONSTRAINTS_FAILURE": "Le certificat ne respecte pas les contraintes (usage de la clé, politique).",
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": "La chaîne de certification n'a pas pu être validée.",
    "CRYPTO_CONSTRAINTS_FAILURE": "Un algorithme cryptographique utilisé n'est plus considéré comme sûr.",
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": "Un algorithme cryptographique utilisé n'est plus considéré comme sûr.",
    "TIMESTAMP_ORDER_FAILURE": "Les horodatages de la signature sont incohérents.",
    "SIGNED_DATA_NOT_FOUND": "Le document signé est introuvable.",
    "GENERIC": "La signature n'a pas pu être validée.",
}


# Where one sub-indication covers situations a person must tell apart, the cause gives the reason.
CAUSE_REASONS = {
    "no_revocation_info": "Le certificat du signataire n'indique aucun service de révocation (ni répondeur OCSP, "
                          "ni liste de certificats révoqués) : son statut de révocation ne peut pas être vérifié, "
                          "et une nouvelle vérification n'y changera rien.",
    "self_signed": "Le signataire utilise un certificat auto-signé, aucune autorité de confiance ne l'a émis "
                   "(certificat auto-signé, aucune autorité de confiance) : rien ne rattache ce certificat à "
                   "une autorité de certification reconnue.",
}
CAUSE_CHECKS = {
    "no_revocation_info": "Demander à l'autorité de certification du signataire (ou au soumissionnaire) la preuve "
                          "que son certificat n'était pas révoqué à la date de signature, ou une signature avec un "
                          "certificat dont l'autorité publie un service de révocation.",
    "self_signed": "Un certificat auto-signé ne prouve pas l'identité du signataire : demander une signature avec "
                   "un certificat qualifié (ou d'une autorité reconnue équivalente, art. 2 de l'arrêté).",
}


def _reason(finding: dict) -> str:
    sub = finding["sub_indication"]
    return CAUSE_REASONS.get(finding.get("cause") or "") or SUBINDICATION_REASONS.get(sub,
                                                                                      SUBINDICATION_REASONS["GENERIC"])


def qualification(result: QualificationResult | None, indication: str, cert_info: dict, chain: list[dict],
                  material: TrustMaterial) -> dict:
    """DSS-style qualification of the signature, with the trusted-list entry that grants it."""
    anchor = next((c for c in chain if c["trust_anchor"]), None)
    equivalent = anchor is not None and anchor["anchor_source"] == "configured"
    listed = None
    if result is not None and result.service_definition is not None:
        for cert in result.service_definition.base_info.provider_certs:
            entries = material.services_by_cert.get(cert_id(cert))
            if entries:
                entry = entries[0]
                listed = {"country": entry.territory, "provider": entry.provider, "service": entry.name,
                          "service_type": entry.type, "status": entry.status, "status_since": entry.status_since}
                break
        if listed is None:
            base = result.service_definition.base_info
            listed = {"country": None, "provider": None, "service": base.service_name, "service_type": "CA/QC",
                      "status": "granted", "status_since": None}
    if result is not None and result.service_definition is not None:
        qualified = result.status.qualified
        qscd = result.status.qc_key_security.is_qscd
        cert_type = {QcCertType.QC_ESIGN: "esig", QcCertType.QC_ESEAL: "eseal",
                     QcCertType.QC_WEB: "web"}[result.status.qc_type]
        label = _label(qualified, qscd, cert_type, indication)
    else:
        qc = cert_info["qc_statements"]
        qualified, qscd = qc["compliance"], qc["compliance"] and qc["qscd"]
        cert_type = "eseal" if qc["type"] == "qct_eseal" else "web" if qc["type"] == "qct_web" else "esig"
        # Without a trusted list confirming it, what the certificate claims is not a qualification.
        label = "N/A"
    return {"label": label, "qualified_certificate": bool(qualified), "qscd": bool(qscd),
            "certificate_type": cert_type, "trusted_list": listed, "equivalent_anchor": equivalent,
            "confirmed_by_trusted_list": listed is not None}


def _label(qualified: bool, qscd: bool, cert_type: str, indication: str) -> str:
    if cert_type == "web":
        return "N/A"
    seal = cert_type == "eseal"
    if qualified and qscd:
        base = "QESeal" if seal else "QESig"
    elif qualified:
        base = "AdESeal-QC" if seal else "AdESig-QC"
    else:
        base = "AdESeal" if seal else "AdESig"
    if indication == TOTAL_PASSED:
        return base
    if indication == INDETERMINATE:
        return f"Indeterminate {base}"
    if qualified and qscd:
        return "Not AdES but QC with QSCD"
    return "Not AdES but QC" if qualified else "Not AdES"


def verdict(finding: dict) -> dict:
    """The arrêté's verdict for one signature, its reasons, and what a person must still check."""
    indication, sub = finding["indication"], finding["sub_indication"]
    qual = finding["qualification"]
    signer = finding["signer"]
    reasons: list[str] = []
    checks = [
        f"Vérifier l'identité du signataire ({signer['name'] or 'nom absent du certificat'}) et qu'il est "
        f"habilité à engager {signer['organization'] or 'l’entreprise'} (délégation de pouvoir, extrait Kbis)."]
    if qual["equivalent_anchor"]:
        checks.append("Le certificat est émis par une autorité reconnue équivalente par configuration "
                      "(art. 2 de l'arrêté) : conserver le justificatif de cette équivalence.")
    code = TO_VERIFY
    stamp = finding.get("timestamp")
    proven = _time(stamp["time"]) if stamp and stamp.get("valid") else None
    # A proven time (timestamp) first; else what the signer declared.
    moment = proven or _time(finding.get("claimed_signing_time"))
    revocation = finding["revocation"]
    revoked_at = _time(revocation.get("revoked_at"))
    not_after = _time(finding["certificate"]["not_after"])
    if indication == TOTAL_PASSED:
        if qual["equivalent_anchor"]:
            code = COMPLIANT
            reasons.append("Signature avancée avec un certificat d'une autorité reconnue équivalente (art. 2).")
        elif qual["label"] == "QESig":
            code = COMPLIANT
            reasons.append("Signature électronique qualifiée (certificat qualifié, clé sur un dispositif "
                           "qualifié).")
        elif qual["label"] == "AdESig-QC":
            code = COMPLIANT
            reasons.append("Signature électronique avancée reposant sur un certificat qualifié.")
        elif qual["label"] in ("QESeal", "AdESeal-QC"):
            reasons.append("Cachet électronique d'une personne morale, pas une signature d'une personne : "
                           "vérifier qu'il est accepté pour cette procédure.")
        else:
            code = NON_COMPLIANT
            reasons.append("Le certificat du signataire n'est pas un certificat qualifié au sens du "
                           "règlement eIDAS, comme l'exige l'arrêté du 22 mars 2019.")
    elif indication == TOTAL_FAILED:
        code = NON_COMPLIANT
        reasons.append(_reason(finding))
    else:
        reasons.append(_reason(finding))
        if finding.get("cause") in CAUSE_CHECKS:
            checks.append(CAUSE_CHECKS[finding["cause"]])
        if revoked_at is not None and moment is not None and moment >= revoked_at:
            code = NON_COMPLIANT
            reasons.append("La date de signature (déclarée ou prouvée) est postérieure à la révocation.")
        elif sub == "OUT_OF_BOUNDS_NO_POE" and not_after is not None and moment is not None and moment > not_after:
            code = NON_COMPLIANT
            reasons.append("La date de signature (déclarée ou prouvée) est postérieure à l'expiration du "
                           "certificat.")
        elif sub == "NO_CERTIFICATE_CHAIN_FOUND" and finding.get("cause") != "self_signed":
            checks.append("Demander au soumissionnaire le justificatif de l'équivalence de son autorité de "
                          "certification avec les exigences du règlement eIDAS (art. 2 de l'arrêté).")
    modifications = finding["integrity"].get("modifications")
    if code != NON_COMPLIANT and modifications == "other":
        code = TO_VERIFY
        reasons.append("Le document a été modifié après cette signature (au-delà de formulaires, "
                       "annotations ou signatures) : seule la version signée fait foi.")
    if finding.get("signed_file_is_zip"):
        checks.append("Le fichier signé est une archive ZIP : signer une archive ne vaut pas signature de "
                      "chacun des fichiers qu'elle contient.")
    return {"code": code, "label": LABELS[code], "reasons": reasons, "human_checks": checks}


def document_verdict(findings: list[dict]) -> dict:
    if not findings:
        return {"code": NON_COMPLIANT, "label": LABELS[NON_COMPLIANT],
                "reasons": ["Aucune signature électronique n'a été trouvée dans ce document. Si la signature "
                            "est dans un fichier séparé (.p7s, .xml), joignez-le au document."],
                "human_checks": []}
    codes = [f["verdict"]["code"] for f in findings]
    if all(c == COMPLIANT for c in codes):
        code = COMPLIANT
    elif NON_COMPLIANT in codes:
        code = NON_COMPLIANT
    else:
        code = TO_VERIFY
    counts = {c: codes.count(c) for c in (COMPLIANT, TO_VERIFY, NON_COMPLIANT) if codes.count(c)}
    parts = {COMPLIANT: "conforme(s)", TO_VERIFY: "à vérifier", NON_COMPLIANT: "non conforme(s)"}
    summary = ", ".join(f"{n} {parts[c]}" for c, n in counts.items())
    return {"code": code, "label": LABELS[code],
            "reasons": [f"{len(findings)} signature(s) : {summary}."],
            "human_checks": sorted({check for f in findings for check in f["verdict"]["human_checks"]})}


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None

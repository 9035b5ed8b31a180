"""The accusé de réception of a deposit: a PDF drawn like the DCE's documents (reportlab, invariant mode)."""

from __future__ import annotations

from .dce import PARIS, _Writer
from .models import Consultation, Deposit
from .signatures import LABELS

KIND_LABELS = {"candidature": "Candidature", "offre": "Offre"}


def _paris(moment) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M:%S")


def render(consultation: Consultation, deposit: Deposit) -> bytes:
    lot = next((lot for lot in consultation.lots if lot.number == deposit.lot_number), None)
    w = _Writer(consultation, "Accusé de réception")
    w.heading("Accusé de réception de votre dépôt", 16)
    w.paragraph(f"Consultation : {consultation.reference} — {consultation.title}")
    w.paragraph(f"Acheteur : {consultation.buyer}")
    w.paragraph(f"Lot n° {deposit.lot_number}" + (f" : {lot.title}" if lot else ""))
    w.paragraph(f"Déposé par : {deposit.user_name or deposit.user_id}"
                + (f" ({deposit.email})" if deposit.email else "") + f", entreprise {deposit.company_id}")
    w.paragraph(f"Numéro de dépôt : {deposit.id}")
    w.heading("Horodatage")
    w.paragraph(f"Date et heure de dépôt : le {_paris(deposit.deposited_at)} (heure de Paris), soit "
                f"{deposit.deposited_at.isoformat()} en temps universel, selon le jeton d'horodatage RFC 3161 "
                f"n° {deposit.timestamp_serial} délivré par {deposit.tsa_name}.")
    w.paragraph(f"Date limite de remise des plis : le {_paris(deposit.deadline)} (heure de Paris).")
    w.paragraph(f"Empreinte horodatée (SHA-256 du bordereau du dépôt) : {deposit.manifest_sha256}")
    w.heading("Fichiers déposés")
    for file in deposit.files:
        w.paragraph(f"{KIND_LABELS.get(file.kind, file.kind)} — {file.filename} ({file.size} octets) — "
                    f"{LABELS.get(file.signature_status, file.signature_status)}")
        w.paragraph(f"SHA-256 : {file.sha256}", size=8)
    if deposit.invalid_signatures_confirmed:
        w.paragraph("Le déposant a confirmé déposer des fichiers dont la signature n'est pas valide.")
    w.heading("Confidentialité")
    w.paragraph("Votre pli est chiffré et scellé jusqu'à la date limite : personne ne peut l'ouvrir avant, ni "
                "l'acheteur, ni les agents, ni les administrateurs de la plateforme. Vous pouvez le remplacer "
                "jusqu'à la date limite : seul le dernier pli déposé est ouvert.")
    if consultation.practice:
        w.paragraph("Consultation fictive (entraînement) : ce dépôt est supprimé 30 jours après la date limite.")
    return w.finish()

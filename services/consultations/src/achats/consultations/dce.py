"""The DCE (dossier de consultation des entreprises): real PDF documents generated from the consultation.

Three documents: the règlement de la consultation, the CCAP and the acte d'engagement, whose fields the
candidate fills in (PDF form fields). Generated on request with reportlab in its invariant mode: the same
consultation and the same deadline give the same bytes, so a document's SHA-256 identifies it.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from achats.chassis.db import UnitOfWork
from achats.chassis.problems import Problem
from achats.chassis.security import Principal

from . import catalogue
from .catalogue import CONTRACT_TYPES, PROCEDURES
from .models import Consultation

PARIS = ZoneInfo("Europe/Paris")
ZIP_NAME = "dce.zip"


@dataclass(frozen=True)
class Document:
    slug: str
    title: str
    filename: str


DOCUMENTS = [
    Document("reglement-consultation", "Règlement de la consultation", "RC"),
    Document("ccap", "Cahier des clauses administratives particulières", "CCAP"),
    Document("acte-engagement", "Acte d'engagement", "AE"),
]
BY_SLUG = {d.slug: d for d in DOCUMENTS}


def document(slug: str) -> Document:
    if slug not in BY_SLUG:
        raise Problem(status=404, code="document_not_found", detail="Ce document ne fait pas partie du DCE.")
    return BY_SLUG[slug]


def filename(consultation: Consultation, doc: Document) -> str:
    return f"{consultation.reference}_{doc.filename}.pdf"


def paris(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


class _Writer:
    """A4 pages with a header, wrapped paragraphs and a page break when the page is full."""

    def __init__(self, consultation: Consultation, title: str):
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=A4, invariant=1, pageCompression=1)
        self.canvas.setTitle(f"{title} — {consultation.reference}")
        self.canvas.setAuthor(consultation.buyer)
        self.canvas.setSubject(consultation.title)
        self.consultation = consultation
        self.title = title
        self.width, self.height = A4
        self.margin = 20 * mm
        self.page = 0
        self._new_page()

    def _new_page(self) -> None:
        if self.page:
            self.canvas.showPage()
        self.page += 1
        c = self.canvas
        c.setFont("Helvetica", 8)
        c.drawString(self.margin, self.height - 12 * mm,
                     f"{self.consultation.reference} — {self.title} — consultation fictive (entraînement)")
        c.drawRightString(self.width - self.margin, 10 * mm, f"Page {self.page}")
        self.y = self.height - 25 * mm

    def need(self, height: float) -> None:
        if self.y - height < 20 * mm:
            self._new_page()

    def heading(self, text: str, size: int = 13) -> None:
        self.need(size + 10)
        self.y -= 4
        self.canvas.setFont("Helvetica-Bold", size)
        self.canvas.drawString(self.margin, self.y, text)
        self.y -= size + 6

    def paragraph(self, text: str, size: int = 10) -> None:
        lines = simpleSplit(" ".join(text.split()), "Helvetica", size, self.width - 2 * self.margin)
        for line in lines:
            self.need(size + 4)
            self.canvas.setFont("Helvetica", size)
            self.canvas.drawString(self.margin, self.y, line)
            self.y -= size + 4
        self.y -= 4

    def field(self, name: str, label: str) -> None:
        """A labelled text field of the PDF form, for the candidate to fill in."""
        self.need(34)
        self.canvas.setFont("Helvetica", 10)
        self.canvas.drawString(self.margin, self.y, label)
        self.y -= 22
        self.canvas.acroForm.textfield(name=name, tooltip=label, x=self.margin, y=self.y,
                                       width=self.width - 2 * self.margin, height=18, fontSize=10,
                                       borderWidth=0.5)
        self.y -= 12

    def finish(self) -> bytes:
        self.canvas.save()
        return self.buffer.getvalue()


def _identity(w: _Writer, consultation: Consultation, deadline: datetime) -> None:
    w.paragraph(f"Acheteur : {consultation.buyer}")
    w.paragraph(f"Objet : {consultation.title}")
    w.paragraph(f"Référence : {consultation.reference}")
    w.paragraph(f"Type de marché : {CONTRACT_TYPES.get(consultation.contract_type, consultation.contract_type)}")
    w.paragraph(f"Procédure : {PROCEDURES.get(consultation.procedure, consultation.procedure)}")
    w.paragraph("Codes CPV : " + ", ".join(consultation.cpv_codes))
    w.paragraph(f"Date limite de remise des plis : le {paris(deadline)} (heure de Paris)")


def reglement(consultation: Consultation, deadline: datetime) -> bytes:
    w = _Writer(consultation, "Règlement de la consultation")
    w.heading("Règlement de la consultation (RC)", 16)
    _identity(w, consultation, deadline)
    w.heading("1. Objet de la consultation")
    w.paragraph(consultation.summary)
    w.heading("2. Allotissement")
    for lot in consultation.lots:
        w.paragraph(f"Lot n° {lot.number} : {lot.title} (CPV {', '.join(lot.cpv_codes)})")
    w.paragraph("Les candidats peuvent répondre à un ou plusieurs lots. Chaque lot fait l'objet d'un pli distinct.")
    w.heading("3. Contenu du pli")
    w.paragraph("Candidature : lettre de candidature (DC1 ou DUME), déclaration du candidat (DC2), attestations "
                "d'assurance, références de moins de trois ans.")
    w.paragraph("Offre : acte d'engagement complété et signé, mémoire technique, décomposition du prix.")
    w.heading("4. Conditions de remise des plis")
    w.paragraph("Les plis sont remis exclusivement par voie électronique sur la plateforme des achats, avant la "
                "date et l'heure limites indiquées ci-dessus. L'heure de dépôt retenue est celle de l'horodatage "
                "qualifié (RFC 3161) apposé par la plateforme. Un pli peut être remplacé jusqu'à la date limite : "
                "seul le dernier pli déposé est ouvert.")
    w.heading("5. Critères de jugement des offres")
    w.paragraph("Valeur technique : 60 %. Prix : 40 %.")
    w.heading("6. Avertissement")
    w.paragraph("Cette consultation est fictive. Elle permet de s'exercer à télécharger un DCE et à déposer une "
                "réponse ; aucun marché ne sera attribué.")
    return w.finish()


def ccap(consultation: Consultation, deadline: datetime) -> bytes:
    w = _Writer(consultation, "CCAP")
    w.heading("Cahier des clauses administratives particulières (CCAP)", 15)
    _identity(w, consultation, deadline)
    clauses = [
        ("Article 1 — Objet du marché", consultation.summary),
        ("Article 2 — Pièces contractuelles", "Par ordre de priorité : l'acte d'engagement, le présent CCAP, le "
         "cahier des clauses techniques particulières, le CCAG applicable, l'offre du titulaire."),
        ("Article 3 — Durée et délais", "Le marché prend effet à sa notification. Les délais d'exécution sont "
         "ceux de l'acte d'engagement."),
        ("Article 4 — Prix", "Les prix sont fermes et actualisables, établis hors taxes."),
        ("Article 5 — Paiement", "Délai global de paiement : 30 jours. Factures déposées sur Chorus Pro."),
        ("Article 6 — Pénalités", "Pénalité de retard : 1/1000e du montant du marché par jour calendaire."),
        ("Article 7 — Résiliation", "Conditions du CCAG applicable au type de marché."),
    ]
    for heading, text in clauses:
        w.heading(heading, 12)
        w.paragraph(text)
    return w.finish()


def acte_engagement(consultation: Consultation, deadline: datetime) -> bytes:
    w = _Writer(consultation, "Acte d'engagement")
    w.heading("Acte d'engagement (AE)", 16)
    _identity(w, consultation, deadline)
    w.heading("A. Le candidat")
    w.field("raison_sociale", "Raison sociale du candidat")
    w.field("siret", "Numéro SIRET")
    w.field("adresse", "Adresse du siège")
    w.field("signataire", "Nom, prénom et qualité du signataire")
    w.heading("B. Lots et prix")
    for lot in consultation.lots:
        w.field(f"lot_{lot.number}_prix_ht", f"Lot n° {lot.number} — {lot.title} : montant en euros hors taxes")
    w.heading("C. Engagement")
    w.paragraph("Le candidat s'engage, sur la base de son offre et pour son propre compte, à exécuter les "
                "prestations dans les conditions définies par les documents de la consultation.")
    w.field("lieu_date", "Fait à, le")
    w.paragraph("Signature électronique du représentant habilité du candidat.")
    return w.finish()


RENDERERS = {"reglement-consultation": reglement, "ccap": ccap, "acte-engagement": acte_engagement}


def render(consultation: Consultation, slug: str, deadline: datetime) -> bytes:
    return RENDERERS[document(slug).slug](consultation, deadline)


def zip_all(consultation: Consultation, deadline: datetime) -> bytes:
    buffer = io.BytesIO()
    stamp = deadline.astimezone(PARIS).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for doc in DOCUMENTS:
            info = zipfile.ZipInfo(filename(consultation, doc), date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, render(consultation, doc.slug, deadline))
    return buffer.getvalue()


# -- the use cases: a company's user downloads a document or the whole DCE, and the download is recorded --------

@dataclass(frozen=True)
class Download:
    content: bytes
    filename: str
    media_type: str


def downloader(who: Principal) -> str:
    """The company of a user attached to one; 403 for anyone else."""
    if not who.company_id:
        raise Problem(status=403, code="company_required",
                      detail="Le téléchargement du DCE est réservé aux comptes rattachés à une entreprise.")
    return who.company_id


def download_document(uow: UnitOfWork, who: Principal, consultation_id: uuid.UUID, slug: str) -> Download:
    company_id, doc = downloader(who), document(slug)
    with uow:
        consultation = catalogue.get(uow.session, consultation_id)
        content = render(consultation, doc.slug, catalogue.deadline(consultation))
        catalogue.record_download(uow.session, consultation, company_id=company_id, user_id=who.sub,
                                  email=who.email, document=doc.slug)
        uow.commit()
    return Download(content, filename(consultation, doc), "application/pdf")


def download_archive(uow: UnitOfWork, who: Principal, consultation_id: uuid.UUID) -> Download:
    """« Télécharger le DCE »: every document in one zip."""
    company_id = downloader(who)
    with uow:
        consultation = catalogue.get(uow.session, consultation_id)
        content = zip_all(consultation, catalogue.deadline(consultation))
        catalogue.record_download(uow.session, consultation, company_id=company_id, user_id=who.sub,
                                  email=who.email, document=ZIP_NAME)
        uow.commit()
    return Download(content, f"DCE_{consultation.reference}.zip", "application/zip")

"""The verification report as a PDF a supplier can download and keep (reportlab)."""

from __future__ import annotations

import io
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

VERDICT_COLOURS = {"compliant": colors.HexColor("#1b7a3a"), "to_verify": colors.HexColor("#b36b00"),
                   "non_compliant": colors.HexColor("#b00020")}
INDICATIONS = {"TOTAL_PASSED": "Validation réussie (TOTAL_PASSED)",
               "TOTAL_FAILED": "Validation en échec (TOTAL_FAILED)",
               "INDETERMINATE": "Résultat indéterminé (INDETERMINATE)",
               "NO_SIGNATURE_FOUND": "Aucune signature trouvée (NO_SIGNATURE_FOUND)"}
REVOCATION = {"good": "Non révoqué", "revoked": "Révoqué", "unknown": "Inconnu (service injoignable)",
              "not_checked": "Non vérifié",
              "no_revocation_info": "Aucun service de révocation indiqué par le certificat",
              "not_required": "Non requis (certificat exempté de vérification de révocation)"}


def _date(value: str | None) -> str:
    if not value:
        return "—"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.strftime("%d/%m/%Y %H:%M:%S UTC")


def _styles():
    sheet = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=sheet["BodyText"], fontName="Helvetica", fontSize=9, leading=11.5,
                          alignment=TA_LEFT)
    return {"title": ParagraphStyle("title", parent=sheet["Title"], fontName="Helvetica-Bold", fontSize=16),
            "h2": ParagraphStyle("h2", parent=sheet["Heading2"], fontName="Helvetica-Bold", fontSize=12,
                                 spaceBefore=10),
            "body": body, "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=9,
                                                  textColor=colors.grey),
            "label": ParagraphStyle("label", parent=body, fontName="Helvetica-Bold")}


def _table(rows: list[tuple[str, str]], styles) -> Table:
    data = [[Paragraph(escape(label), styles["label"]), Paragraph(value, styles["body"])] for label, value in rows]
    table = Table(data, colWidths=[52 * mm, 118 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("GRID", (0, 0), (-1, -1), 0.3, colors.lightgrey),
                               ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f4f7"))]))
    return table


def _verdict(verdict: dict, styles) -> Paragraph:
    colour = VERDICT_COLOURS.get(verdict["code"], colors.black).hexval()[2:]
    return Paragraph(f'<font color="#{colour}"><b>{escape(verdict["label"])}</b></font>', styles["body"])


def _lines(items: list[str]) -> str:
    return "<br/>".join(f"• {escape(item)}" for item in items) or "—"


def _signature_rows(signature: dict) -> list[tuple[str, str]]:
    signer, qual, revocation = signature["signer"], signature["qualification"], signature["revocation"]
    stamp = signature.get("timestamp")
    listed = qual.get("trusted_list")
    chain = " ← ".join(escape(c.get("name") or c["subject"]) for c in signature["chain"])
    validity = signature["certificate_validity"]
    integrity = signature["integrity"]
    integrity_text = "Intègre" if integrity["intact"] and integrity["signature_valid"] else "Altérée"
    if integrity.get("modifications") and integrity["modifications"] not in ("none",):
        integrity_text += f" (modifications après signature : {escape(integrity['modifications'])})"
    rows = [
        ("Format et niveau", escape(f"{signature['format']} — {signature['level']}")),
        ("Signataire", escape(signer["name"] or "—")),
        ("Adresse e-mail", escape(signer["email"] or "—")),
        ("Organisation", escape(" ".join(filter(None, [signer["organization"],
                                                         signer.get("organization_identifier")])) or "—")),
        ("N° de série du certificat", escape(signer["serial_number"])),
        ("Titulaire du certificat", escape(signature["certificate"]["subject"])),
        ("Émetteur", escape(signature["certificate"]["issuer"])),
        ("Chaîne de certification", chain or "—"),
        ("Date de signature déclarée", _date(signature["claimed_signing_time"])),
        ("Horodatage", (f"{_date(stamp['time'])} — {escape(stamp.get('tsa') or '')}"
                        f" ({'valide' if stamp['valid'] else 'invalide'})") if stamp else "Aucun"),
        ("Intégrité", integrity_text),
        ("Certificat valide à la date de signature",
         "Oui" if validity["valid_at_signing_time"] else "Non" if validity["valid_at_signing_time"] is False
         else "Indéterminé"),
        ("Révocation", escape(REVOCATION.get(revocation["status"], revocation["status"])
                              + (f" ({revocation['source'].upper()})" if revocation.get("source") else "")
                              + (f" le {_date(revocation['revoked_at'])}" if revocation.get("revoked_at") else ""))),
        ("Qualification eIDAS", escape(qual["label"])),
        ("Liste de confiance", escape(f"{listed['country']} — {listed['provider']} — {listed['service']}")
         if listed else ("Autorité reconnue équivalente (art. 2)" if qual["equivalent_anchor"] else "—")),
        ("Résultat ETSI", escape(INDICATIONS.get(signature["indication"], signature["indication"])
                                 + (f" / {signature['sub_indication']}" if signature["sub_indication"] else ""))),
    ]
    return rows


def render(report: dict) -> bytes:
    styles = _styles()
    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                                 bottomMargin=18 * mm, title="Rapport de vérification de signature électronique",
                                 author="Plateforme des achats")
    story = [Paragraph("Rapport de vérification de signature électronique", styles["title"]),
             Paragraph(escape(f"Vérification n° {report['id']} du {_date(report['verified_at'])}"), styles["body"]),
             Spacer(1, 4 * mm)]
    doc = report["document"]
    rows = [("Document", escape(doc["filename"] or "—")), ("Taille", f"{doc['size']:,} octets".replace(",", " ")),
            ("Empreinte SHA-256", f'<font face="Courier" size="7.5">{doc["sha256"]}</font>')]
    if report.get("signature_file"):
        rows.append(("Fichier de signature", escape(report["signature_file"]["filename"] or "—")))
    content = report.get("signed_content")
    if content:
        rows += [("Contenu signé", escape(f"{content['filename']} ({content['media_type']}, "
                                          f"{content['size']:,} octets)".replace(",", " "))),
                 ("Empreinte SHA-256 du contenu signé", f'<font face="Courier" size="7.5">{content["sha256"]}</font>')]
    rows += [("Signatures trouvées", str(report["signature_count"])),
             ("Résultat ETSI du document", escape(INDICATIONS.get(report.get("indication") or "",
                                                                  report.get("indication") or "—"))),
             ("Verdict", _verdict(report["verdict"],
                                                                                         styles).text),
             ("Motifs", _lines(report["verdict"]["reasons"]))]
    story.append(_table(rows, styles))
    for signature in report["signatures"]:
        story += [Paragraph(escape(f"Signature {signature['index']} — {signature['signer']['name'] or ''}"),
                            styles["h2"]),
                  _table([*_signature_rows(signature),
                          ("Verdict (arrêté du 22 mars 2019)", _verdict(signature["verdict"], styles).text),
                          ("Motifs", _lines(signature["verdict"]["reasons"] + signature.get("warnings", []))),
                          ("À vérifier par une personne", _lines(signature["verdict"]["human_checks"]))], styles)]
    story += [Spacer(1, 6 * mm), Paragraph(
        escape("Ce rapport distingue le résultat de la validation (ETSI EN 319 102-1), la qualification eIDAS "
               "d'après les listes de confiance européennes, et la conformité à l'arrêté du 22 mars 2019 relatif "
               "à la signature électronique des contrats de la commande publique. L'identité du signataire et son "
               "habilitation restent à vérifier par une personne. Le document vérifié n'est pas conservé : seule "
               "son empreinte l'est, avec le verdict et la date."), styles["small"])]
    document.build(story)
    return out.getvalue()

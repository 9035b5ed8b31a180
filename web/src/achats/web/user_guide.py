"""« Guide d'utilisation » (issue 16 item 4): the PDF the project builds from its own source text.

The text is ``guide/guide-utilisation.md`` (a small Markdown subset: ``#`` title, ``##`` chapters, ``###``
sections, paragraphs, ``- `` items, ``![caption](name.jpeg)`` the screenshots the browser tests take into
``web/docs/screenshots``). It is rendered by reportlab (already pinned in ``constraints.txt``) the first time it is
asked for, and kept under the assets folder by the SHA-256 of everything that goes into it (text, screenshots,
reportlab's version): the same source always gives the same file, a changed page text or screenshot a new one.
The labels the guide quotes in « … » are checked against the pages' catalog by ``tests/test_guide.py``.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import threading
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "guide" / "guide-utilisation.md"
# The browser tests' screenshots (web/docs/screenshots); absent in an installed wheel: the guide goes without.
SCREENSHOTS = HERE.parents[2] / "docs" / "screenshots"
FILENAME = "guide-utilisation.pdf"
_IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)\s]+)\)$")
_QUOTED = re.compile(r"«\s*(.+?)\s*»")
_lock = threading.Lock()


def quoted_labels(text: str | None = None) -> list[str]:
    """Every label the guide quotes in « … », in order."""
    return _QUOTED.findall(SOURCE.read_text(encoding="utf-8") if text is None else text)


def _images(text: str, screenshots: Path) -> list[Path]:
    return [screenshots / m.group(2) for line in text.splitlines() if (m := _IMAGE.match(line.strip()))]


def content_hash(screenshots: Path | None = None) -> str:
    import reportlab

    text = SOURCE.read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode())
    digest.update(reportlab.Version.encode())
    for image in _images(text, screenshots or SCREENSHOTS):
        digest.update(image.name.encode())
        if image.is_file():
            digest.update(image.read_bytes())
    return digest.hexdigest()


def ensure_built(folder: Path, screenshots: Path | None = None) -> Path:
    """The guide's PDF for the current source, built once into ``folder`` (``guide-<hash>.pdf``).

    A folder that cannot be written (the image's read-only assets, built with the screenshots by
    ``python -m achats.web.assets``) serves the guide it holds; with none there, one is built under the temporary
    folder."""
    screenshots = screenshots or SCREENSHOTS
    folder = Path(folder)
    target = folder / f"guide-{content_hash(screenshots)[:16]}.pdf"
    if target.is_file():
        return target
    if not screenshots.is_dir() and (built := sorted(folder.glob("guide-*.pdf")) if folder.is_dir() else []):
        # An installed package (no screenshots beside it): the guide built with them at asset-build time.
        return built[0]
    with _lock:
        if target.is_file():
            return target
        try:
            _write(target, lambda: render(SOURCE.read_text(encoding="utf-8"), screenshots))
        except OSError:
            existing = sorted(folder.glob("guide-*.pdf")) if folder.is_dir() else []
            if existing:
                return existing[0]
            fallback = Path(tempfile.gettempdir()) / "achats-guide" / target.name
            if not fallback.is_file():
                _write(fallback, lambda: render(SOURCE.read_text(encoding="utf-8"), screenshots))
            return fallback
    return target


def _write(target: Path, make) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Its own partial file: workers starting together may build the same guide at once.
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    partial.write_bytes(make())
    partial.replace(target)
    for old in target.parent.glob("guide-*.pdf"):
        if old != target:
            old.unlink(missing_ok=True)


def _inline(text: str) -> str:
    # French typography: no line break inside « … » nor before « : » and « ; ».
    for before, after in (("« ", "«\u00a0"), (" »", "\u00a0»"), (" :", "\u00a0:"), (" ;", "\u00a0;")):
        text = text.replace(before, after)
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escape(text))


def render(text: str, screenshots: Path | None = None) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        ListFlowable,
        ListItem,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
    )

    blue = colors.HexColor("#000091")
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName="Helvetica", fontSize=10.5, leading=14,
                          spaceAfter=6)
    title = ParagraphStyle("title", parent=base["Title"], fontName="Helvetica-Bold", textColor=blue, fontSize=22,
                           leading=28, spaceAfter=14)
    h1 = ParagraphStyle("h1", parent=base["Heading1"], fontName="Helvetica-Bold", textColor=blue, fontSize=17,
                        leading=22, spaceAfter=10)
    h2 = ParagraphStyle("h2", parent=base["Heading2"], fontName="Helvetica-Bold", textColor=blue, fontSize=13,
                        leading=17, spaceBefore=8, spaceAfter=6)
    caption = ParagraphStyle("caption", parent=body, fontName="Helvetica-Oblique", fontSize=9, leading=11,
                             textColor=colors.HexColor("#555555"), alignment=1, spaceAfter=10)
    toc = ParagraphStyle("toc", parent=body, leftIndent=8 * mm)

    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                                 bottomMargin=18 * mm, title="Guide d’utilisation — Plateforme des achats",
                                 author="Plateforme des achats", lang="fr-FR")
    width, height = document.width, document.height * 0.8
    story: list = []
    items: list[str] = []
    chapters = [line[3:].strip() for line in text.splitlines() if line.startswith("## ")]

    def flush_items():
        if items:
            story.append(ListFlowable([ListItem(Paragraph(_inline(i), body), leftIndent=12) for i in items],
                                      bulletType="bullet", start="•", leftIndent=12))
            items.clear()

    paragraph: list[str] = []

    def flush_paragraph():
        if paragraph:
            story.append(Paragraph(_inline(" ".join(paragraph)), body))
            paragraph.clear()

    first_chapter = True
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush_paragraph()
            flush_items()
            continue
        if line.startswith(("# ", "## ", "### ")) or _IMAGE.match(line) or line.startswith("- "):
            flush_paragraph()
            if not line.startswith("- "):
                flush_items()
        if line.startswith("# "):
            story.append(Paragraph(_inline(line[2:]), title))
        elif line.startswith("## "):
            if first_chapter:
                # The contents, after the introduction.
                flush_paragraph()
                story.append(Paragraph("Sommaire", h2))
                story.extend(Paragraph(f"{n}. {_inline(c)}", toc) for n, c in enumerate(chapters, 1))
                first_chapter = False
            story.append(PageBreak())
            story.append(Paragraph(f"{chapters.index(line[3:].strip()) + 1}. {_inline(line[3:])}", h1))
        elif line.startswith("### "):
            story.append(Paragraph(_inline(line[4:]), h2))
        elif m := _IMAGE.match(line):
            path = (screenshots or SCREENSHOTS) / m.group(2)
            if path.is_file():
                picture = Image(str(path))
                scale = min(width / picture.imageWidth, height / picture.imageHeight, 1.0)
                picture.drawWidth, picture.drawHeight = picture.imageWidth * scale, picture.imageHeight * scale
                picture.hAlign = "CENTER"
                story.append(KeepTogether([Spacer(1, 4), picture, Paragraph(_inline(m.group(1)), caption)]))
        elif line.startswith("- "):
            items.append(line[2:])
        else:
            paragraph.append(line)
    flush_paragraph()
    flush_items()

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(20 * mm, 10 * mm, "Plateforme des achats — Guide d’utilisation")
        canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, str(doc.page))
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()

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


def _styles() -> dict:
    """The guide's paragraph styles, in the State's blue (#000091) for the headings."""
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm

    blue = colors.HexColor("#000091")
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName="Helvetica", fontSize=10.5, leading=14,
                          spaceAfter=6)
    return {
        "body": body,
        "title": ParagraphStyle("title", parent=base["Title"], fontName="Helvetica-Bold", textColor=blue,
                                fontSize=22, leading=28, spaceAfter=14),
        "h1": ParagraphStyle("h1", parent=base["Heading1"], fontName="Helvetica-Bold", textColor=blue, fontSize=17,
                             leading=22, spaceAfter=10),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName="Helvetica-Bold", textColor=blue, fontSize=13,
                             leading=17, spaceBefore=8, spaceAfter=6),
        "caption": ParagraphStyle("caption", parent=body, fontName="Helvetica-Oblique", fontSize=9, leading=11,
                                  textColor=colors.HexColor("#555555"), alignment=1, spaceAfter=10),
        "toc": ParagraphStyle("toc", parent=body, leftIndent=8 * mm),
    }


class _Story:
    """The guide's source, line by line, as reportlab flowables: a title (``#``), chapters (``##``, numbered, each on
    a new page, the contents before the first), sections (``###``), paragraphs, bullet lists and screenshots
    (``![caption](file)``, scaled to the page, kept with their caption)."""

    def __init__(self, text: str, screenshots: Path, width: float, height: float) -> None:
        self.styles, self.screenshots, self.width, self.height = _styles(), screenshots, width, height
        self.chapters = [line[3:].strip() for line in text.splitlines() if line.startswith("## ")]
        self.flowables: list = []
        self.items: list[str] = []
        self.paragraph: list[str] = []
        self.contents_done = False
        for raw in text.splitlines():
            self.line(raw.strip())
        self.flush_paragraph()
        self.flush_items()

    def add(self, text: str, style: str) -> None:
        from reportlab.platypus import Paragraph

        self.flowables.append(Paragraph(text, self.styles[style]))

    def flush_items(self) -> None:
        from reportlab.platypus import ListFlowable, ListItem, Paragraph

        if self.items:
            self.flowables.append(ListFlowable(
                [ListItem(Paragraph(_inline(i), self.styles["body"]), leftIndent=12) for i in self.items],
                bulletType="bullet", start="•", leftIndent=12))
            self.items.clear()

    def flush_paragraph(self) -> None:
        if self.paragraph:
            self.add(_inline(" ".join(self.paragraph)), "body")
            self.paragraph.clear()

    def line(self, line: str) -> None:
        if not line:
            self.flush_paragraph()
            self.flush_items()
            return
        if line.startswith(("# ", "## ", "### ")) or _IMAGE.match(line) or line.startswith("- "):
            self.flush_paragraph()
            if not line.startswith("- "):
                self.flush_items()
        if line.startswith("# "):
            self.add(_inline(line[2:]), "title")
        elif line.startswith("## "):
            self.chapter(line[3:].strip())
        elif line.startswith("### "):
            self.add(_inline(line[4:]), "h2")
        elif m := _IMAGE.match(line):
            self.picture(m.group(2), m.group(1))
        elif line.startswith("- "):
            self.items.append(line[2:])
        else:
            self.paragraph.append(line)

    def chapter(self, name: str) -> None:
        from reportlab.platypus import PageBreak

        if not self.contents_done:  # the contents, after the introduction
            self.add("Sommaire", "h2")
            for number, chapter in enumerate(self.chapters, 1):
                self.add(f"{number}. {_inline(chapter)}", "toc")
            self.contents_done = True
        self.flowables.append(PageBreak())
        self.add(f"{self.chapters.index(name) + 1}. {_inline(name)}", "h1")

    def picture(self, filename: str, caption: str) -> None:
        from reportlab.platypus import Image, KeepTogether, Paragraph, Spacer

        path = self.screenshots / filename
        if not path.is_file():
            return
        picture = Image(str(path))
        scale = min(self.width / picture.imageWidth, self.height / picture.imageHeight, 1.0)
        picture.drawWidth, picture.drawHeight = picture.imageWidth * scale, picture.imageHeight * scale
        picture.hAlign = "CENTER"
        self.flowables.append(KeepTogether([Spacer(1, 4), picture, Paragraph(_inline(caption),
                                                                            self.styles["caption"])]))


def _footer(canvas, doc) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm

    canvas.saveState()
    canvas.setFont("Helvetica", 8)
    canvas.setFillColor(colors.HexColor("#555555"))
    canvas.drawString(20 * mm, 10 * mm, "Plateforme des achats — Guide d’utilisation")
    canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, str(doc.page))
    canvas.restoreState()


def render(text: str, screenshots: Path | None = None) -> bytes:
    """The guide's PDF from its Markdown source, with the screenshots the browser tests took."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                                 bottomMargin=18 * mm, title="Guide d’utilisation — Plateforme des achats",
                                 author="Plateforme des achats", lang="fr-FR")
    story = _Story(text, screenshots or SCREENSHOTS, document.width, document.height * 0.8)
    document.build(story.flowables, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()

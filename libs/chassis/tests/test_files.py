"""Files judged by their bytes, and safe names."""

import io
import zipfile

import pytest

from achats.chassis.files import safe_name, sniff


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(("content", "kind"), [
    (b"%PDF-1.7 ...", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n....", "image/png"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    (_zip({"mimetype": b"application/vnd.oasis.opendocument.text"}), "application/vnd.oasis.opendocument.text"),
    (_zip({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"}),
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("Erreur : connexion refusée\n".encode(), "text/plain"),
    (b"MZ\x90\x00\x03", None),  # a Windows executable, whatever its name
    (b"\x7fELF\x02", None),
    (_zip({"evil.exe": b"MZ"}), None),
    (b"text with a \x00 byte", None),
    (b"", None),
])
def test_kinds_are_judged_by_content(content, kind):
    assert sniff(content) == kind


def test_safe_names_keep_only_the_last_component_without_controls():
    assert safe_name('../../etc/pa"ss\r\nwd') == "passwd"
    assert safe_name("C:\\Users\\x\\capture.png") == "capture.png"
    assert safe_name("", default="piece-jointe") == "piece-jointe"


def test_download_headers_are_the_strictest_and_name_the_file_both_ways():
    from achats.chassis.files import content_disposition, download_headers

    headers = download_headers("Kbis été 2026.pdf", "application/pdf", 1234)
    assert headers == {
        "Content-Type": "application/pdf",
        "Content-Disposition": "attachment; filename=\"Kbis ete 2026.pdf\"; "
                               "filename*=UTF-8''Kbis%20%C3%A9t%C3%A9%202026.pdf",
        "Content-Length": "1234", "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}
    # A name cannot escape the header nor the folder; a name with nothing ASCII still has a fallback.
    assert content_disposition('../../etc/pa"ss;%.txt') == ("attachment; filename=\"pass__.txt\"; "
                                                           "filename*=UTF-8''pass%3B%25.txt")
    assert "\r" not in content_disposition("a\r\nSet-Cookie: x=1") and "\n" not in content_disposition("a\nb")
    assert content_disposition("числа.pdf").startswith('attachment; filename=".pdf"; filename*=UTF-8\'\'')
    assert content_disposition("") == "attachment; filename=\"document\"; filename*=UTF-8''document"

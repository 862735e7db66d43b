"""What a file really is, from its bytes (magic numbers), for the attachment allow-list.

Signatures: PDF `%PDF-`; PNG `89 50 4E 47 0D 0A 1A 0A`; JPEG `FF D8 FF`; MP4 (ISO base media) an
`ftyp` box at offset 4; legacy Office files the OLE2 compound-file header `D0 CF 11 E0 A1 B1 1A E1`;
Office Open XML and OpenDocument are ZIP archives, told apart by their parts (`word/`, `xl/`,
`ppt/`, or the OpenDocument `mimetype` entry).
"""

from __future__ import annotations

import zipfile
from typing import IO, Final

PDF: Final = "application/pdf"
PNG: Final = "image/png"
JPEG: Final = "image/jpeg"
MP4: Final = "video/mp4"
DOCX: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX: Final = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC: Final = "application/msword"
XLS: Final = "application/vnd.ms-excel"
PPT: Final = "application/vnd.ms-powerpoint"
ODT: Final = "application/vnd.oasis.opendocument.text"
ODS: Final = "application/vnd.oasis.opendocument.spreadsheet"
ODP: Final = "application/vnd.oasis.opendocument.presentation"

ALLOWED: Final[dict[str, str]] = {
    PDF: "PDF",
    PNG: "PNG-Bild",
    JPEG: "JPEG-Bild",
    MP4: "MP4-Video",
    DOCX: "Word-Dokument",
    XLSX: "Excel-Tabelle",
    PPTX: "PowerPoint-Präsentation",
    DOC: "Word-Dokument (alt)",
    XLS: "Excel-Tabelle (alt)",
    PPT: "PowerPoint-Präsentation (alt)",
    ODT: "OpenDocument-Text",
    ODS: "OpenDocument-Tabelle",
    ODP: "OpenDocument-Präsentation",
}

# Legacy Office files share one container format; the declared type decides among them.
_OLE2_TYPES: Final = frozenset({DOC, XLS, PPT})
_OOXML_PARTS: Final = {"word/": DOCX, "xl/": XLSX, "ppt/": PPTX}
_ODF_TYPES: Final = frozenset({ODT, ODS, ODP})


def sniff(file: IO[bytes], *, declared: str) -> tuple[str | None, str]:
    """(detected MIME type or None, a human label of what was found). Reads from the start."""
    file.seek(0)
    head = file.read(64)
    if head.startswith(b"%PDF-"):
        return PDF, ALLOWED[PDF]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG, ALLOWED[PNG]
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG, ALLOWED[JPEG]
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return MP4, ALLOWED[MP4]
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        kind = declared if declared in _OLE2_TYPES else DOC
        return kind, "Office-Datei (OLE2)"
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(file)
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<head", b"<script", b"<body")):
        return None, "HTML"
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<svg"):
        return None, "XML/SVG"
    if stripped.startswith(b"mz"):
        return None, "Programmdatei"
    return None, "unbekanntes Format"


def _sniff_zip(file: IO[bytes]) -> tuple[str | None, str]:
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                if mimetype in _ODF_TYPES:
                    return mimetype, ALLOWED[mimetype]
            if "[Content_Types].xml" in names:
                for prefix, kind in _OOXML_PARTS.items():
                    if any(n.startswith(prefix) for n in names):
                        return kind, ALLOWED[kind]
    except (zipfile.BadZipFile, OSError, ValueError):
        return None, "beschädigtes ZIP-Archiv"
    return None, "ZIP-Archiv"

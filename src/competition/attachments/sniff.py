"""What a file really is, from its bytes (magic numbers), for the attachment allow-list.

Signatures: PDF `%PDF-`; PNG `89 50 4E 47 0D 0A 1A 0A`; JPEG `FF D8 FF`; MP4 (ISO base media) an
`ftyp` box at offset 4; legacy Office files the OLE2 compound-file header `D0 CF 11 E0 A1 B1 1A E1`;
Office Open XML and OpenDocument are ZIP archives, told apart by their parts (`word/`, `xl/`,
`ppt/`, or the OpenDocument `mimetype` entry).

ZIP archives come from entrants and may be built to hurt whoever unpacks them (a 300 KB file can
unpack to 300 MB, or hold a million empty entries). So they are judged by their central directory
alone: the number of entries, each entry's declared size and compression ratio, and whether the
declared sizes fit the file at all. The only bytes ever decompressed are at most
`_MIMETYPE_READ` bytes of the OpenDocument `mimetype` entry, and only if it is stored or deflated
(zipfile inflates those in bounded steps; bzip2 and LZMA it expands a whole input chunk at once).
A declared size that lies does not help an attacker: zipfile never returns more than the declared
size, and we never ask for more than a few bytes. Archives beyond the limits get a `problem`, a
reason to refuse them whatever was declared; they are refused for the jurors' sake too, whose
office programs would unpack them in full. Embedded archives (an ODT inside a DOCX) are entries
like any other: their declared size and ratio count, their inside is never opened.

No sniffing library: `puremagic` 2.x needs Python 3.12 and identifies Office files by reading
`mimetype` and `[Content_Types].xml` whole with `ZipFile.read` (the bomb this module defends
against); `puremagic` 1.x and `filetype` (last release 2022) only see the first bytes of a ZIP,
so they cannot tell a Word file from any other archive without trusting the file name or the
order of its entries. The six signatures above are fixed by their formats and fit in a few lines;
the container checks, which are the part that needs care, would be ours either way.
"""

from __future__ import annotations

import io
import logging
import struct
import zipfile
from typing import IO, Final

import msgspec

logger = logging.getLogger("competition.attachments")

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

# Limits for ZIP containers. Office files stay far below them: a large presentation has a few
# thousand parts, and office XML packs about 10:1 (deflate cannot do better than ~1032:1, which is
# what bombs built from repeated bytes reach).
MAX_MEMBERS: Final = 10_000
# zipfile reads the whole central directory into memory and builds an object of ~500 bytes per
# entry; 2 MiB hold ~42,000 tiny entries (measured: 21 MB, 0.14 s), which is what an end record
# lying about the entry count can still make it build.
MAX_DIRECTORY_BYTES: Final = 2 * 1024**2
MAX_RATIO: Final = 200
# Small entries may pack better than MAX_RATIO (empty XML parts) and cannot hurt anyone.
RATIO_GRACE_BYTES: Final = 1024**2
MAX_UNPACKED_BYTES: Final = 2 * 1024**3
# The longest accepted OpenDocument type has 47 characters; a little slack for a trailing newline.
_MIMETYPE_READ: Final = 64

_CORRUPT: Final = "beschädigtes ZIP-Archiv"
_ZIP: Final = "ZIP-Archiv"
TOO_MANY_MEMBERS: Final = (
    f"Das ZIP-Archiv hat mehr als {MAX_MEMBERS // 1000}.000 Einträge (Merkmal einer ZIP-Bombe)."
)
DIRECTORY_TOO_LARGE: Final = (
    "Das Inhaltsverzeichnis des ZIP-Archivs ist größer als "
    f"{MAX_DIRECTORY_BYTES // 1024**2} MB (Merkmal einer ZIP-Bombe)."
)
SIZES_INCONSISTENT: Final = (
    "Die Größenangaben im ZIP-Archiv passen nicht zu seiner Dateigröße (Merkmal einer ZIP-Bombe)."
)
ENCRYPTED: Final = (
    "Das ZIP-Archiv enthält verschlüsselte Teile, die sich nicht prüfen lassen. "
    "Bitte die Datei ohne Kennwort speichern."
)
DUPLICATE_NAMES: Final = (
    "Das ZIP-Archiv enthält mehrere Teile mit demselben Namen; "
    "welcher davon gilt, ist nicht eindeutig."
)
UNSUPPORTED_COMPRESSION: Final = (
    "Der Eintrag „mimetype“ des ZIP-Archivs ist mit einem Verfahren komprimiert, "
    "das OpenDocument nicht vorsieht."
)


def ratio_exceeded(unpacked: int) -> str:
    return (
        f"Das ZIP-Archiv enthält einen Teil, der sich auf {_megabytes(unpacked)} entpacken würde, "
        f"mehr als das {MAX_RATIO}-Fache seiner gepackten Größe (ZIP-Bombe)."
    )


def total_exceeded(unpacked: int) -> str:
    return (
        f"Das ZIP-Archiv würde sich auf {_megabytes(unpacked)} entpacken, mehr als die erlaubten "
        f"{MAX_UNPACKED_BYTES // 1024**3} GB (ZIP-Bombe)."
    )


def _megabytes(size: int) -> str:
    return f"{size / 1024**2:.1f} MB".replace(".", ",")


class Sniffed(msgspec.Struct, frozen=True):
    """What the bytes are: a MIME type if it is one we know, a label for people, and — for
    archives built to hurt whoever unpacks them — the reason to refuse the file in any case."""

    kind: str | None
    label: str
    problem: str | None = None


def sniff(file: IO[bytes], *, declared: str) -> Sniffed:
    """Reads from the start; never raises for any content, and reads a bounded amount of it."""
    file.seek(0)
    head = file.read(64)
    if head.startswith(b"%PDF-"):
        return Sniffed(PDF, ALLOWED[PDF])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed(PNG, ALLOWED[PNG])
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed(JPEG, ALLOWED[JPEG])
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return Sniffed(MP4, ALLOWED[MP4])
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return Sniffed(declared if declared in _OLE2_TYPES else DOC, "Office-Datei (OLE2)")
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(file)
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<head", b"<script", b"<body")):
        return Sniffed(None, "HTML")
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<svg"):
        return Sniffed(None, "XML/SVG")
    if stripped.startswith(b"mz"):
        return Sniffed(None, "Programmdatei")
    return Sniffed(None, "unbekanntes Format")


def _sniff_zip(file: IO[bytes]) -> Sniffed:
    try:
        return _inspect_zip(file)
    except Exception as exc:
        # The file is complete and local, so whatever zipfile trips over (BadZipFile, zlib.error,
        # NotImplementedError for odd versions, struct.error, ...) is in the bytes and would be the
        # same on every retry: an answer, not a failure of the job.
        logger.info("unreadable zip archive", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
        return Sniffed(None, _CORRUPT)


def _inspect_zip(file: IO[bytes]) -> Sniffed:
    extent = _directory_extent(file)
    if extent is None:
        return Sniffed(None, _CORRUPT)
    entries, directory_bytes = extent
    # Before zipfile parses anything: it would build every entry of the directory in memory.
    if entries > MAX_MEMBERS:
        return Sniffed(None, _ZIP, TOO_MANY_MEMBERS)
    if directory_bytes > MAX_DIRECTORY_BYTES:
        return Sniffed(None, _ZIP, DIRECTORY_TOO_LARGE)
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    with zipfile.ZipFile(file) as archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:  # the end record's count may lie; the directory cannot
            return Sniffed(None, _ZIP, TOO_MANY_MEMBERS)
        problem = _container_problem(infos, size)
        if problem is not None:
            return Sniffed(None, _ZIP, problem)
        names = {info.filename for info in infos}
        if "mimetype" in names:
            info = archive.getinfo("mimetype")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                return Sniffed(None, _ZIP, UNSUPPORTED_COMPRESSION)
            with archive.open(info) as member:
                content = member.read(_MIMETYPE_READ)
            mimetype = content.decode("ascii", "replace").strip()
            if mimetype in _ODF_TYPES:
                return Sniffed(mimetype, ALLOWED[mimetype])
        if "[Content_Types].xml" in names:
            for prefix, kind in _OOXML_PARTS.items():
                if any(n.startswith(prefix) for n in names):
                    return Sniffed(kind, ALLOWED[kind])
    return Sniffed(None, _ZIP)


def _container_problem(infos: list[zipfile.ZipInfo], size: int) -> str | None:
    """A reason to refuse the archive from its central directory, without unpacking anything."""
    seen: set[str] = set()
    unpacked = packed = 0
    for info in infos:
        if info.flag_bits & 0x1:
            return ENCRYPTED
        if info.file_size > RATIO_GRACE_BYTES and info.file_size > MAX_RATIO * info.compress_size:
            return ratio_exceeded(info.file_size)
        if info.filename in seen:
            return DUPLICATE_NAMES
        seen.add(info.filename)
        unpacked += info.file_size
        packed += info.compress_size
    if unpacked > MAX_UNPACKED_BYTES:
        return total_exceeded(unpacked)
    # Entries whose packed sizes add up to more than the file share their bytes (the overlapping
    # entries of non-recursive bombs) or lie about them.
    if packed > size:
        return SIZES_INCONSISTENT
    return None


# End of central directory record, ZIP64 locator and ZIP64 record (APPNOTE.TXT 4.3.14-4.3.16).
_END = struct.Struct("<4s4H2LH")
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")


def _directory_extent(file: IO[bytes]) -> tuple[int, int] | None:
    """(entries, bytes) of the central directory as the end record declares them, or None when
    there is no end record. Found the way CPython's zipfile finds it (the last 22 bytes, else the
    last signature within the final 64 KiB; ZIP64 values when the locator and record sit right
    before it), so the limits apply to exactly what zipfile is about to read."""
    size = file.seek(0, io.SEEK_END)
    if size < _END.size:
        return None
    file.seek(size - _END.size)
    record = file.read(_END.size)
    end = size - _END.size
    if not (record[:4] == b"PK\x05\x06" and record[-2:] == b"\x00\x00"):
        start = max(size - (1 << 16) - _END.size, 0)
        file.seek(start)
        tail = file.read(size - start)
        found = tail.rfind(b"PK\x05\x06")
        record = tail[found : found + _END.size]
        if found < 0 or len(record) != _END.size:
            return None
        end = start + found
    fields = _END.unpack(record)
    entries, directory_bytes = max(fields[3], fields[4]), fields[5]
    if end >= _END64_LOCATOR.size + _END64.size:
        file.seek(end - _END64_LOCATOR.size)
        if file.read(_END64_LOCATOR.size)[:4] == b"PK\x06\x07":
            file.seek(end - _END64_LOCATOR.size - _END64.size)
            record64 = file.read(_END64.size)
            if record64[:4] == b"PK\x06\x06":
                fields64 = _END64.unpack(record64)
                entries, directory_bytes = max(fields64[6], fields64[7]), fields64[8]
    return entries, directory_bytes

"""The type sniffer on small crafted files, above all hostile ZIP archives: every one is answered
(never an exception, which would make the verification job retry) and none is unpacked."""

from __future__ import annotations

import io
import random
import struct
import tracemalloc
import zipfile
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from competition.attachments import sniff
from competition.attachments.sniff import DOCX, ODT, PDF, Sniffed
from tests.helpers import odt_bytes as odt
from tests.helpers import with_damaged_member


def docx(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("_rels/.rels", b"<Relationships/>")
        archive.writestr("word/document.xml", b"<w:document/>")
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def zeros_bomb(size: int, *, name: str = "mimetype") -> bytes:
    """An ODT whose first entry is `size` zero bytes, deflated (~1/1000 of that)."""
    buffer = io.BytesIO()
    entry = zipfile.ZipInfo(name)
    entry.compress_type = zipfile.ZIP_DEFLATED  # a ZipInfo of its own is stored by default
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(entry, "w") as member:
            for _ in range(size // 1024**2):
                member.write(bytes(1024**2))
        archive.writestr("content.xml", b"<office:document-content/>")
    return buffer.getvalue()


def run(data: bytes, declared: str = ODT) -> Sniffed:
    return sniff.sniff(io.BytesIO(data), declared=declared)


def run_traced(data: bytes) -> tuple[Sniffed, int]:
    """The result and the peak of memory allocated by Python while sniffing."""
    file = io.BytesIO(data)
    tracemalloc.start()
    try:
        found = sniff.sniff(file, declared=ODT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return found, peak


# Central directory file header (APPNOTE.TXT 4.3.12): fixed part of 46 bytes, then the name.
_FLAGS, _CRC, _PACKED, _UNPACKED, _NAME_LENGTH = 8, 16, 20, 24, 28


def directory_entry(data: bytes, name: str) -> int:
    """Offset of `name`'s central directory header."""
    position = data.find(b"PK\x05\x06")
    start: int = struct.unpack_from("<L", data, position + 16)[0]
    while data[start : start + 4] == b"PK\x01\x02":
        length = struct.unpack_from("<H", data, start + _NAME_LENGTH)[0]
        if data[start + 46 : start + 46 + length] == name.encode():
            return start
        extra, comment = struct.unpack_from("<2H", data, start + 30)
        start += 46 + length + extra + comment
    raise AssertionError(f"{name} not in the central directory")


def patched(data: bytes, name: str, **fields: int) -> bytes:
    """The archive with fields of `name`'s central directory entry overwritten (the lie)."""
    out = bytearray(data)
    entry = directory_entry(data, name)
    offsets = {"flags": (_FLAGS, "<H"), "crc": (_CRC, "<L"), "packed": (_PACKED, "<L")}
    offsets["unpacked"] = (_UNPACKED, "<L")
    for field, value in fields.items():
        offset, fmt = offsets[field]
        struct.pack_into(fmt, out, entry + offset, value)
    return bytes(out)


def end_record(data: bytes) -> tuple[int, int, int]:
    """(entries, directory size, directory offset) from the end of central directory record."""
    position = data.rfind(b"PK\x05\x06")
    _, _, _, _, entries, size, offset, _ = struct.unpack_from("<4s4H2LH", data, position)
    return entries, size, offset


def with_end_record(data: bytes, *, entries: int, size: int) -> bytes:
    position = data.rfind(b"PK\x05\x06")
    out = bytearray(data)
    struct.pack_into("<2HL", out, position + 8, entries, entries, size)
    return bytes(out)


def as_zip64(data: bytes, *, entries: int | None = None) -> bytes:
    """The archive with a ZIP64 end record (and locator) in front of a classic one that defers
    to it, declaring `entries` (default: the true count)."""
    position = data.rfind(b"PK\x05\x06")
    count, size, offset = end_record(data)
    declared = count if entries is None else entries
    record64 = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, declared, declared, size, offset
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, position, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return data[:position] + record64 + locator + end


def with_alias(data: bytes, name: str, alias: str) -> bytes:
    """A second central directory entry `alias` pointing at `name`'s bytes (overlapping entries,
    the trick of non-recursive zip bombs)."""
    assert len(alias) == len(name)
    entry = directory_entry(data, name)
    copy = data[entry : entry + 46] + alias.encode()
    position = data.rfind(b"PK\x05\x06")
    count, size, _ = end_record(data)
    grown = data[:position] + copy + data[position:]
    return with_end_record(grown, entries=count + 1, size=size + len(copy))


def many_members(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(count):
            archive.writestr(zipfile.ZipInfo(f"{i:x}"), b"")
    return buffer.getvalue()


# Office files and the plain signatures.


def test_odt_as_office_programs_write_it() -> None:
    assert run(odt()) == Sniffed(ODT, "OpenDocument-Text")


def test_odt_with_a_deflated_mimetype_entry() -> None:
    assert run(odt(mimetype_compression=zipfile.ZIP_DEFLATED)) == Sniffed(ODT, "OpenDocument-Text")


def test_odt_with_a_trailing_newline_in_mimetype() -> None:
    assert run(odt(extra=b"\n")) == Sniffed(ODT, "OpenDocument-Text")


def test_docx_by_its_parts() -> None:
    assert run(docx(), DOCX) == Sniffed(DOCX, "Word-Dokument")


def test_odt_behind_a_zip64_end_record() -> None:
    # The end-record lookup must agree with zipfile's, ZIP64 included.
    assert run(as_zip64(odt())) == Sniffed(ODT, "OpenDocument-Text")


def test_plain_signatures() -> None:
    assert run(b"%PDF-1.7\n", PDF) == Sniffed(PDF, "PDF")
    assert run(b"<!DOCTYPE html><p>", PDF) == Sniffed(None, "HTML")
    assert run(b"", PDF) == Sniffed(None, "unbekanntes Format")


# Bombs: refused from the central directory, without unpacking.


def test_mimetype_of_zeros_is_refused_unread() -> None:
    found, peak = run_traced(zeros_bomb(16 * 1024**2))
    assert found == Sniffed(
        None,
        "ZIP-Archiv",
        "Das ZIP-Archiv enthält einen Teil, der sich auf 16,0 MB entpacken würde, mehr als das "
        "200-Fache seiner gepackten Größe (ZIP-Bombe).",
    )
    assert peak < 256 * 1024, peak


def test_a_bomb_in_any_part_is_refused() -> None:
    # Never read by the sniffer, but the jurors' office programs would unpack it.
    data = docx(("word/media/image1.bmp", bytes(8 * 1024**2)))
    assert run(data, DOCX) == Sniffed(
        None,
        "ZIP-Archiv",
        "Das ZIP-Archiv enthält einen Teil, der sich auf 8,0 MB entpacken würde, mehr als das "
        "200-Fache seiner gepackten Größe (ZIP-Bombe).",
    )


def test_ratio_is_judged_above_the_grace_size_only() -> None:
    # 1 MiB of zeros packs ~1000:1 but is too small to hurt: an ordinary (if odd) document.
    data = docx(("word/media/blank.bin", bytes(1024**2)))
    assert run(data, DOCX) == Sniffed(DOCX, "Word-Dokument")


def test_declared_size_that_lies_upwards() -> None:
    data = patched(odt(), "content.xml", unpacked=3 * 1024**3)
    assert run(data) == Sniffed(
        None,
        "ZIP-Archiv",
        "Das ZIP-Archiv enthält einen Teil, der sich auf 3072,0 MB entpacken würde, mehr als das "
        "200-Fache seiner gepackten Größe (ZIP-Bombe).",
    )


def test_declared_size_that_lies_downwards_is_read_a_few_bytes_only() -> None:
    # The directory claims 1 MiB (below the ratio check) for 64 MiB of zeros: the read stays
    # bounded and what it finds is no OpenDocument type.
    data = patched(zeros_bomb(64 * 1024**2), "mimetype", unpacked=sniff.RATIO_GRACE_BYTES)
    found, peak = run_traced(data)
    assert found == Sniffed(None, "ZIP-Archiv")
    assert peak < 256 * 1024, peak


def test_declared_size_that_lies_and_a_checksum_that_does_not_match() -> None:
    # Claiming 47 bytes makes zipfile stop after 47 and check the CRC of the whole entry.
    data = patched(zeros_bomb(8 * 1024**2), "mimetype", unpacked=len(ODT))
    assert run(data) == Sniffed(None, "beschädigtes ZIP-Archiv")


def test_total_unpacked_size() -> None:
    parts = [(f"word/media/p{i}.bin", bytes(64 * 1024)) for i in range(3)]
    data = docx(*parts)
    for name, _ in parts:
        # Each below the ratio limit, 3 GiB together.
        data = patched(data, name, unpacked=1024**3, packed=1024**3 // 199)
    assert run(data, DOCX) == Sniffed(
        None,
        "ZIP-Archiv",
        "Das ZIP-Archiv würde sich auf 3072,0 MB entpacken, mehr als die erlaubten 2 GB "
        "(ZIP-Bombe).",
    )


def test_overlapping_entries() -> None:
    noise = random.Random(11).randbytes(100_000)  # does not pack: the entry fills the file
    data = with_alias(docx(("word/media/a.bin", noise)), "word/media/a.bin", "word/media/b.bin")
    assert run(data, DOCX) == Sniffed(None, "ZIP-Archiv", sniff.SIZES_INCONSISTENT)
    assert sniff.SIZES_INCONSISTENT == (
        "Die Größenangaben im ZIP-Archiv passen nicht zu seiner Dateigröße "
        "(Merkmal einer ZIP-Bombe)."
    )


def test_too_many_members() -> None:
    assert run(many_members(10_001)) == Sniffed(
        None, "ZIP-Archiv", "Das ZIP-Archiv hat mehr als 10.000 Einträge (Merkmal einer ZIP-Bombe)."
    )
    assert run(many_members(10_000)) == Sniffed(None, "ZIP-Archiv")


def test_too_many_members_behind_an_end_record_that_lies() -> None:
    data = many_members(10_001)
    _, size, _ = end_record(data)
    lying = with_end_record(data, entries=1, size=size)
    assert run(lying) == Sniffed(None, "ZIP-Archiv", sniff.TOO_MANY_MEMBERS)


def test_too_many_members_declared_by_zip64() -> None:
    assert run(as_zip64(odt(), entries=2**40)) == Sniffed(
        None, "ZIP-Archiv", sniff.TOO_MANY_MEMBERS
    )


def test_central_directory_too_large() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(40):
            archive.writestr(f"{i:02d}" + "x" * 60_000, b"")
    assert run(buffer.getvalue()) == Sniffed(
        None,
        "ZIP-Archiv",
        "Das Inhaltsverzeichnis des ZIP-Archivs ist größer als 2 MB (Merkmal einer ZIP-Bombe).",
    )


# Odd archives.


def test_encrypted_member() -> None:
    data = patched(odt(), "content.xml", flags=0x1)
    assert run(data) == Sniffed(
        None,
        "ZIP-Archiv",
        "Das ZIP-Archiv enthält verschlüsselte Teile, die sich nicht prüfen lassen. "
        "Bitte die Datei ohne Kennwort speichern.",
    )


def test_duplicate_names() -> None:
    buffer = io.BytesIO(odt())
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(buffer, "a") as archive,
    ):
        archive.writestr("mimetype", b"application/vnd.oasis.opendocument.text")
    assert run(buffer.getvalue()) == Sniffed(
        None,
        "ZIP-Archiv",
        "Das ZIP-Archiv enthält mehrere Teile mit demselben Namen; "
        "welcher davon gilt, ist nicht eindeutig.",
    )


def test_mimetype_compressed_with_bzip2() -> None:
    # zipfile expands bzip2 a whole input chunk at a time: never read, whatever it declares.
    assert run(odt(mimetype_compression=zipfile.ZIP_BZIP2)) == Sniffed(
        None,
        "ZIP-Archiv",
        "Der Eintrag „mimetype“ des ZIP-Archivs ist mit einem Verfahren komprimiert, das "
        "OpenDocument nicht vorsieht.",
    )


def test_archive_inside_an_archive_is_not_opened() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bericht.odt", odt())
    assert run(buffer.getvalue()) == Sniffed(None, "ZIP-Archiv")


def test_truncated_archive() -> None:
    data = odt()
    assert run(data[: len(data) // 2]) == Sniffed(None, "beschädigtes ZIP-Archiv")


def test_corrupt_deflate_stream_in_mimetype() -> None:
    data = with_damaged_member(odt(mimetype_compression=zipfile.ZIP_DEFLATED), "mimetype")
    assert run(data) == Sniffed(None, "beschädigtes ZIP-Archiv")


def test_wrong_checksum_in_mimetype() -> None:
    data = patched(odt(), "mimetype", crc=zlib.crc32(b"something else"))
    assert run(data) == Sniffed(None, "beschädigtes ZIP-Archiv")


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, 10_000),
)
def test_any_damage_is_answered(edits: list[tuple[int, int]], cut: int) -> None:
    """Overwritten bytes anywhere (headers, sizes, offsets, compressed data) and cut-off tails:
    always an answer, never an exception."""
    data = bytearray(odt(mimetype_compression=zipfile.ZIP_DEFLATED))
    for position, value in edits:
        data[position % len(data)] = value
    found = run(bytes(data[: len(data) - cut % len(data)]))
    # Which answer depends on the damage; each is one of these, kind and label together.
    assert (found.kind, found.label) in {
        (ODT, "OpenDocument-Text"),
        (None, "ZIP-Archiv"),
        (None, "beschädigtes ZIP-Archiv"),
        (None, "unbekanntes Format"),
    }


def test_zip_version_from_the_future() -> None:
    # zipfile raises NotImplementedError here, which the old code let through to a retry.
    out = bytearray(odt())
    struct.pack_into("<B", out, directory_entry(bytes(out), "content.xml") + 6, 99)
    assert run(bytes(out)) == Sniffed(None, "beschädigtes ZIP-Archiv")

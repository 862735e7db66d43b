"""Demo data for a local installation: the competition "Industrie. Neu. Denken. 2026" with its four
fields, weighted criteria, companies of the region with entries and attachments, an organiser and
jurors. Built through the same domain services the API uses; running it again changes nothing."""

from __future__ import annotations

import asyncio
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from competition.accounts.queries import get_account
from competition.accounts.service import ensure_account
from competition.attachments import schemas as attachment_schemas
from competition.attachments import service as attachments
from competition.auth import SESSION_SCOPES, Principal, principal_of
from competition.companies import schemas as company_schemas
from competition.companies import service as companies
from competition.competitions import defaults
from competition.competitions import queries as competition_queries
from competition.competitions import schemas as competition_schemas
from competition.competitions import service as competitions
from competition.config import Settings
from competition.db import create_pool, transaction
from competition.entries import schemas as entry_schemas
from competition.entries import service as entries
from competition.storage.s3 import Storage

DEMO_PASSWORD = "demo-passwort-2026"  # noqa: S105 - demo logins of a local installation only
SLUG = "industrie-neu-denken-2026"

ORGANISER = ("organisation@demo.industrie-neu-denken.de", "Olivia Organisatorin")
JURORS = (
    ("jury1@demo.industrie-neu-denken.de", "Prof. Jana Jurorin"),
    ("jury2@demo.industrie-neu-denken.de", "Dr. Jonas Juror"),
    ("jury3@demo.industrie-neu-denken.de", "Dipl.-Ing. Katrin Kühn"),
)


class DemoCompany(msgspec.Struct, frozen=True):
    owner: tuple[str, str]
    company: tuple[str, str, str, str, str]  # name, street, postal code, city, district
    employees: int
    entries: tuple[tuple[str, str, str], ...]  # category, title, summary


COMPANIES: tuple[DemoCompany, ...] = (
    DemoCompany(
        owner=("entrant@demo.industrie-neu-denken.de", "Erik Einreicher"),
        company=(
            "Muldental Präzisionsteile GmbH",
            "Auestraße 12",
            "08056",
            "Zwickau",
            "zwickau",
        ),
        employees=240,
        entries=(
            (
                "mobilitaet",
                "Achsträger aus Recycling-Aluminium",
                "Ein Leichtbau-Achsträger, der zu 80 % aus Sekundäraluminium besteht.",
            ),
            (
                "kreislaufwirtschaft",
                "Rücknahmesystem für Spritzgusswerkzeuge",
                "Werkzeuge werden aufbereitet statt verschrottet.",
            ),
        ),
    ),
    DemoCompany(
        owner=("chemnitz@demo.industrie-neu-denken.de", "Christine Chemnitzer"),
        company=(
            "Sachsen Sensorik AG",
            "Reichenhainer Straße 70",
            "09126",
            "Chemnitz",
            "chemnitz",
        ),
        employees=85,
        entries=(
            (
                "digitalisierung",
                "Digitaler Zwilling für Pressenstraßen",
                "Vorausschauende Wartung mit Sensordaten aus dem laufenden Betrieb.",
            ),
        ),
    ),
    DemoCompany(
        owner=("erzgebirge@demo.industrie-neu-denken.de", "Frank Erzer"),
        company=(
            "Erzgebirgische Energiesysteme GmbH",
            "Bahnhofstraße 3",
            "09456",
            "Annaberg-Buchholz",
            "erzgebirgskreis",
        ),
        employees=42,
        entries=(
            (
                "energie",
                "Abwärmenutzung in der Galvanik",
                "Die Abwärme der Bäder heizt Hallen und Büros.",
            ),
        ),
    ),
)


def _pdf(title: str) -> bytes:
    """A small, valid one-page PDF naming the entry."""
    text = title.encode("latin-1", "replace")
    stream = b"BT /F1 18 Tf 60 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out


async def _principal(conn: asyncpg.Connection, account_id: uuid.UUID) -> Principal:
    account = await get_account(conn, account_id=account_id)
    if account is None:
        raise RuntimeError(f"demo account {account_id} vanished while the demo was being seeded")
    return principal_of(account, via="session", scopes=SESSION_SCOPES)


def _competition() -> competition_schemas.CompetitionCreate:
    def name(de: str, en: str) -> competition_schemas.LocalizedName:
        return competition_schemas.LocalizedName(de=de, en=en)

    now = datetime.now(UTC)
    return competition_schemas.CompetitionCreate(
        slug=SLUG,
        title=name("Industrie. Neu. Denken. 2026", "Industry. Rethought. 2026"),
        description=competition_schemas.LocalizedText(
            de="Der Industriewettbewerb des Masterplans Südwestsachsen: Ideen und Projekte von "
            "Unternehmen aus Chemnitz, Zwickau, dem Erzgebirge, Mittelsachsen und dem Vogtland.",
            en="The industry competition of the Masterplan Südwestsachsen for companies from "
            "Chemnitz, Zwickau, the Ore Mountains, Central Saxony and the Vogtland.",
        ),
        submission_opens_at=now - timedelta(days=7),
        submission_closes_at=now + timedelta(days=30),
        reviews_per_entry=2,
        blind_judging=True,
        eligible_districts=[
            "chemnitz",
            "zwickau",
            "erzgebirgskreis",
            "mittelsachsen",
            "vogtlandkreis",
        ],
        categories=[
            competition_schemas.CategoryIn(slug=c.slug, name=name(c.de, c.en))
            for c in defaults.CATEGORIES
        ],
        criteria=[
            competition_schemas.CriterionIn(
                key=c.key, name=name(c.de, c.en), weight=c.weight, min=c.min, max=c.max
            )
            for c in defaults.CRITERIA
        ],
        tie_break=list(defaults.TIE_BREAK),
    )


async def seed(settings: Settings) -> str:
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    storage = Storage(settings)
    await storage.ensure_bucket()
    created = False
    try:
        async with transaction(pool) as conn:
            organiser_id, _ = await ensure_account(
                conn,
                email=ORGANISER[0],
                name=ORGANISER[1],
                password=DEMO_PASSWORD,
                organiser=True,
            )
            for email, juror_name in JURORS:
                await ensure_account(conn, email=email, name=juror_name, password=DEMO_PASSWORD)
            organiser = await _principal(conn, organiser_id)
            if await competition_queries.get_competition_by_slug(conn, slug=SLUG) is None:
                created = True
                competition_id = await competitions.create(conn, organiser, _competition())
                await competitions.change_phase(conn, organiser, competition_id, "open")
                uploads = await _companies_and_entries(conn, storage, competition_id)
        if created:
            await _upload_and_complete(pool, storage, uploads)
    finally:
        await pool.close()
    lines = [
        "Demo-Wettbewerb „Industrie. Neu. Denken. 2026“ "
        + ("angelegt." if created else "vorhanden."),
        f"Demo-Zugänge (Passwort für alle: {DEMO_PASSWORD}):",
        f"  {ORGANISER[0]:45} {ORGANISER[1]} (Organisation)",
    ]
    lines += [f"  {c.owner[0]:45} {c.owner[1]} ({c.company[0]})" for c in COMPANIES]
    lines += [f"  {email:45} {juror_name} (Jury)" for email, juror_name in JURORS]
    return "\n".join(lines)


async def _companies_and_entries(
    conn: asyncpg.Connection, storage: Storage, competition_id: uuid.UUID
) -> list[tuple[uuid.UUID, Principal, str, bytes]]:
    uploads = []
    for spec in COMPANIES:
        owner_id, _ = await ensure_account(
            conn, email=spec.owner[0], name=spec.owner[1], password=DEMO_PASSWORD
        )
        owner = await _principal(conn, owner_id)
        name, street, postal_code, city, district = spec.company
        company = await companies.create(
            conn,
            owner,
            company_schemas.CompanyCreate(
                name=name,
                street=street,
                postal_code=postal_code,
                city=city,
                district=district,
                employees=spec.employees,
            ),
        )
        for category, title, summary in spec.entries:
            entry_id = await entries.create(
                conn,
                owner,
                competition_id,
                entry_schemas.EntryCreate(
                    company_id=company.id,
                    category=category,
                    title=title,
                    summary=summary,
                    description=summary + " Ausführliche Beschreibung folgt im Anhang.",
                ),
            )
            data = _pdf(title)
            announced = await attachments.create(
                conn,
                storage,
                owner,
                entry_id,
                attachment_schemas.AttachmentCreate(
                    filename=f"{title}.pdf", content_type="application/pdf", size_bytes=len(data)
                ),
            )
            uploads.append((announced.id, owner, announced.upload.url, data))
    return uploads


async def _upload_and_complete(
    pool: asyncpg.Pool, storage: Storage, uploads: list[tuple[uuid.UUID, Principal, str, bytes]]
) -> None:
    """Upload as a browser would (presigned PUT), then complete; the worker verifies."""

    def put(url: str, data: bytes) -> None:
        request = urllib.request.Request(  # noqa: S310 - a presigned URL of our own store
            url, data=data, method="PUT", headers={"Content-Type": "application/pdf"}
        )
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310
            pass

    for attachment_id, owner, url, data in uploads:
        await asyncio.to_thread(put, url, data)
        async with transaction(pool) as conn:
            await attachments.complete(conn, storage, owner, attachment_id)

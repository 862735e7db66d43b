"""Migration 0010 gives mails written before it their competition: from their event (entry
submitted, published, assignments deployed, juror invited) or from the reminder's key. Mails about
accounts keep none. Run on a database of its own, named after the test database."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg

from competition.db import MIGRATIONS_DIR, migrate, migration_files
from tests.conftest import ADMIN_DSN, TEST_DB, recreate_database

SEED = """
INSERT INTO account (id, email, name) VALUES
    ('00000000-0000-4000-8000-000000000001', 'erika@firma.example', 'Erika');
INSERT INTO competition (id, slug, title, submission_opens_at, submission_closes_at,
                         reviews_per_entry, eligible_districts) VALUES
    ('00000000-0000-4000-8000-0000000000c1', 'alt-2025', '{"de": "A", "en": "A"}',
     now() - interval '30 days', now() - interval '1 day', 1, '{chemnitz}'),
    ('00000000-0000-4000-8000-0000000000c2', 'alt-2026', '{"de": "B", "en": "B"}',
     now() - interval '30 days', now() + interval '1 day', 1, '{chemnitz}');
INSERT INTO company (id, name, street, postal_code, city, district, employees) VALUES
    ('00000000-0000-4000-8000-0000000000f1', 'F', 'S', '09111', 'Chemnitz', 'chemnitz', 1);
INSERT INTO category (id, competition_id, slug, name, position) VALUES
    ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000c1', 'k',
     '{"de": "K", "en": "K"}', 0),
    ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-0000000000c2', 'k',
     '{"de": "K", "en": "K"}', 0);
INSERT INTO entry (id, competition_id, company_id, category_id, title, summary, description,
                   eligible, eligibility_reason) VALUES
    ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-0000000000c1',
     '00000000-0000-4000-8000-0000000000f1', '00000000-0000-4000-8000-0000000000a1',
     'T', 'S', 'D', true, 'ok'),
    ('00000000-0000-4000-8000-0000000000e2', '00000000-0000-4000-8000-0000000000c2',
     '00000000-0000-4000-8000-0000000000f1', '00000000-0000-4000-8000-0000000000a2',
     'T', 'S', 'D', true, 'ok');
INSERT INTO juror (id, competition_id, email, name) VALUES
    ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000c2',
     'jo@jury.example', 'Jo');
INSERT INTO assignment_run (id, competition_id, reviews_per_entry, seed) VALUES
    ('00000000-0000-4000-8000-0000000000d1', '00000000-0000-4000-8000-0000000000c1', 1, 1);
INSERT INTO event (id, kind, aggregate_id) VALUES
    ('00000000-0000-4000-8000-000000000101', 'entry.submitted',
     '00000000-0000-4000-8000-0000000000e1'),
    ('00000000-0000-4000-8000-000000000102', 'competition.published',
     '00000000-0000-4000-8000-0000000000c2'),
    ('00000000-0000-4000-8000-000000000103', 'assignments.deployed',
     '00000000-0000-4000-8000-0000000000d1'),
    ('00000000-0000-4000-8000-000000000104', 'juror.invited',
     '00000000-0000-4000-8000-0000000000b1'),
    ('00000000-0000-4000-8000-000000000105', 'account.registered',
     '00000000-0000-4000-8000-000000000001');
INSERT INTO email (idempotency_key, event_id, recipient, template, locale, subject, body_text,
                   message_id) VALUES
    ('k1', '00000000-0000-4000-8000-000000000101', 'a@x', 'entry_submitted', 'de', 's', 'b',
     '<1@x>'),
    ('k2', '00000000-0000-4000-8000-000000000102', 'a@x', 'announcement', 'de', 's', 'b',
     '<2@x>'),
    ('k3', '00000000-0000-4000-8000-000000000103', 'a@x', 'jury_assigned', 'de', 's', 'b',
     '<3@x>'),
    ('k4', '00000000-0000-4000-8000-000000000104', 'a@x', 'jury_invitation', 'de', 's', 'b',
     '<4@x>'),
    ('k5', '00000000-0000-4000-8000-000000000105', 'a@x', 'verify_email', 'de', 's', 'b',
     '<5@x>'),
    ('reminder-24h:00000000-0000-4000-8000-0000000000e2:a@x:entry_reminder_24h', NULL, 'a@x',
     'entry_reminder_24h', 'de', 's', 'b', '<6@x>'),
    ('jury-reminder-2026-03-01:00000000-0000-4000-8000-0000000000b1:a@x:jury_reminder', NULL,
     'a@x', 'jury_reminder', 'de', 's', 'b', '<7@x>');
"""


async def test_mails_from_before_the_migration_get_their_competition(tmp_path: Path) -> None:
    name = f"{TEST_DB}_backfill"
    dsn = await recreate_database(name)
    try:
        await _backfill(dsn, tmp_path)
    finally:
        admin = await asyncpg.connect(ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _backfill(dsn: str, tmp_path: Path) -> None:
    earlier = tmp_path / "migrations"
    earlier.mkdir()
    for path in migration_files():
        if path.name < "0010":
            shutil.copy(path, earlier / path.name)
    await migrate(dsn, directory=earlier)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(SEED)
        assert await migrate(dsn, directory=MIGRATIONS_DIR) == [
            p.name for p in migration_files() if p.name >= "0010"
        ]
        rows = await conn.fetch(
            "SELECT message_id, competition_id::text AS c FROM email ORDER BY message_id"
        )
    finally:
        await conn.close()
    c1, c2 = "00000000-0000-4000-8000-0000000000c1", "00000000-0000-4000-8000-0000000000c2"
    assert [(r["message_id"], r["c"]) for r in rows] == [
        ("<1@x>", c1),  # entry submitted → the entry's competition
        ("<2@x>", c2),  # published → the competition itself
        ("<3@x>", c1),  # assignments deployed → the run's competition
        ("<4@x>", c2),  # juror invited → the juror's competition
        ("<5@x>", None),  # an account's verification belongs to none
        ("<6@x>", c2),  # a deadline reminder → its entry's competition
        ("<7@x>", c2),  # a jury reminder → its juror's competition
    ]

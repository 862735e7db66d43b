"""SQL for data export, account deletion and retention."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

# A blind competition hides who takes part until its results are published.
_BLIND = "comp.blind_judging AND comp.phase NOT IN ('published', 'archived')"
RECORDED_BY_ORGANISERS = "von der Organisation eingetragen"


async def export(conn: asyncpg.Connection, *, account_id: uuid.UUID) -> dict[str, Any]:
    """Everything stored about one account, as plain JSON-ready data."""

    async def rows(sql: str) -> list[dict[str, Any]]:
        return [dict(r) for r in await conn.fetch(sql, account_id)]

    account = await conn.fetchrow(
        """SELECT id, email, name, locale, email_verified_at, is_organiser, is_admin,
                  privacy_version, privacy_accepted_at, created_at
           FROM account WHERE id = $1""",
        account_id,
    )
    return {
        "account": dict(account) if account else None,
        "companies": await rows(
            """SELECT c.id, c.name, c.street, c.postal_code, c.city, c.district, c.employees,
                      c.website, m.role
               FROM company c JOIN company_member m ON m.company_id = c.id
               WHERE m.account_id = $1 ORDER BY c.name"""
        ),
        "entries": await rows(
            """SELECT e.id, e.competition_id, e.title, e.summary, e.description, e.status,
                      e.submitted_at, e.created_at,
                      coalesce((SELECT json_agg(json_build_object(
                          'filename', a.filename, 'content_type', a.declared_type,
                          'size_bytes', a.size_bytes, 'status', a.status, 'sha256', a.sha256)
                          ORDER BY a.created_at)
                       FROM attachment a WHERE a.entry_id = e.id
                         AND a.status NOT IN ('deleted', 'expired')), '[]') AS attachments
               FROM entry e JOIN company_member m ON m.company_id = e.company_id
               WHERE m.account_id = $1 ORDER BY e.created_at"""
        ),
        # Conflicts as the juror may see them: while a blind competition's results are not
        # published, what the juror typed (once per declaration, not once per company it
        # matched) and, for conflicts the organisers recorded, neither a company nor their note.
        "jury": await rows(
            f"""SELECT j.competition_id, j.status, j.expertise, j.max_load, j.accepted_at,
                      CASE WHEN {_BLIND} THEN
                          coalesce((SELECT json_agg(json_build_object(
                              'company', d.declared_as, 'type', d.type, 'note', d.note,
                              'source', 'juror') ORDER BY d.first, d.declared_as, d.type)
                           FROM (SELECT x.declared_as, x.type, x.note,
                                        min(x.created_at) AS first
                                 FROM conflict x
                                 WHERE x.juror_id = j.id AND x.source = 'juror'
                                 GROUP BY x.declared_as, x.type, x.note) d), '[]')::jsonb
                        || coalesce((SELECT json_agg(json_build_object(
                              'company', '{RECORDED_BY_ORGANISERS}', 'type', x.type,
                              'note', NULL, 'source', 'organiser') ORDER BY x.created_at, x.id)
                           FROM conflict x
                           WHERE x.juror_id = j.id AND x.source = 'organiser'), '[]')::jsonb
                      ELSE
                          coalesce((SELECT json_agg(json_build_object(
                              'company', c.name, 'type', x.type, 'note', x.note,
                              'source', x.source) ORDER BY x.created_at, c.name, c.id)
                           FROM conflict x JOIN company c ON c.id = x.company_id
                           WHERE x.juror_id = j.id), '[]')::jsonb
                      END AS conflicts,
                      coalesce((SELECT json_agg(json_build_object(
                          'entry_id', a.entry_id, 'status', s.status, 'scores', s.scores,
                          'comment', s.comment, 'updated_at', s.updated_at))
                       FROM assignment a JOIN score_sheet s ON s.assignment_id = a.id
                       WHERE a.juror_id = j.id), '[]') AS score_sheets
               FROM juror j JOIN competition comp ON comp.id = j.competition_id
               WHERE j.account_id = $1"""
        ),
        "api_tokens": await rows(
            """SELECT name, scopes, created_at, last_used_at, revoked_at FROM api_token
               WHERE account_id = $1 ORDER BY created_at"""
        ),
        "emails": await rows(
            """SELECT template, subject, status, created_at, sent_at FROM email
               WHERE account_id = $1 ORDER BY created_at"""
        ),
        "actions": await rows(
            """SELECT at, action, subject_type, subject_id FROM audit_log
               WHERE actor_id = $1 ORDER BY id"""
        ),
    }


async def anonymise(conn: asyncpg.Connection, *, account_id: uuid.UUID) -> str:
    """Replace every personal datum of the account; keep the competition record consistent.
    Returns the former e-mail address (for invitations and sessions to clean up)."""
    old_email: str = await conn.fetchval("SELECT email FROM account WHERE id = $1", account_id)
    placeholder = f"geloescht-{account_id}@anonym.invalid"
    # A sole owner hands the company on to its longest-standing member, if there is one.
    await conn.execute(
        """UPDATE company_member m SET role = 'owner'
           FROM (SELECT DISTINCT ON (o.company_id) o.company_id, o.account_id
                 FROM company_member mine
                 JOIN company_member o ON o.company_id = mine.company_id AND o.account_id <> $1
                 WHERE mine.account_id = $1 AND mine.role = 'owner'
                   AND NOT EXISTS (SELECT 1 FROM company_member x
                                   WHERE x.company_id = mine.company_id
                                     AND x.role = 'owner' AND x.account_id <> $1)
                 ORDER BY o.company_id, o.added_at) heir
           WHERE m.company_id = heir.company_id AND m.account_id = heir.account_id""",
        account_id,
    )
    await conn.execute("DELETE FROM company_member WHERE account_id = $1", account_id)
    await conn.execute("DELETE FROM api_token WHERE account_id = $1", account_id)
    await conn.execute("DELETE FROM company_invitation WHERE email = $1", old_email)
    await conn.execute(
        """UPDATE juror SET email = $2, name = 'Gelöschtes Jurymitglied',
                  status = CASE WHEN status IN ('invited', 'active') THEN 'removed' ELSE status END
           WHERE account_id = $1 OR email = $3""",
        account_id,
        placeholder,
        old_email,
    )
    await conn.execute(
        """UPDATE email SET recipient = $2, subject = '[gelöscht]', body_text = '',
                  body_html = NULL
           WHERE account_id = $1 OR recipient = $3""",
        account_id,
        placeholder,
        old_email,
    )
    # Invitations this account sent carry its name to the invited addresses.
    await conn.execute(
        """UPDATE email SET subject = '[gelöscht]', body_text = '', body_html = NULL
           WHERE template = 'company_invitation' AND event_id IN (
               SELECT id FROM event
               WHERE kind = 'company.member_invited' AND payload->>'by' = $1)""",
        str(account_id),
    )
    await conn.execute(
        """UPDATE account SET email = $2, name = 'Gelöschtes Konto', password_hash = NULL,
                  is_organiser = false, is_admin = false, deleted_at = now()
           WHERE id = $1""",
        account_id,
        placeholder,
    )
    return old_email


async def blank_old_mail_bodies(conn: asyncpg.Connection, *, days: int) -> int:
    result: str = await conn.execute(
        """UPDATE email SET body_text = '', body_html = NULL
           WHERE status IN ('sent', 'failed') AND body_text <> ''
             AND created_at < now() - make_interval(days => $1)""",
        days,
    )
    return int(result.rsplit(maxsplit=1)[-1])


async def delete_stale_unverified(conn: asyncpg.Connection, *, days: int) -> int:
    result: str = await conn.execute(
        """DELETE FROM account a
           WHERE a.email_verified_at IS NULL AND a.deleted_at IS NULL
             AND a.created_at < now() - make_interval(days => $1)
             AND NOT EXISTS (SELECT 1 FROM company_member m WHERE m.account_id = a.id)
             AND NOT EXISTS (SELECT 1 FROM juror j WHERE j.account_id = a.id)
             AND NOT EXISTS (SELECT 1 FROM competition_organiser o WHERE o.account_id = a.id)""",
        days,
    )
    return int(result.rsplit(maxsplit=1)[-1])

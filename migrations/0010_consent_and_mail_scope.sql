-- Company membership only by consent: an invitation stays open until the invited person
-- accepts or declines it (or it expires); nobody becomes a member by being named.
ALTER TABLE company_invitation
    ADD COLUMN declined_at timestamptz;

-- Platform administrators: the operators who see the whole platform's mail outbox. A global
-- organiser (`is_organiser`, may create competitions) sees only the mail of the competitions
-- they organise.
ALTER TABLE account
    ADD COLUMN is_admin boolean NOT NULL DEFAULT false;

-- Which competition a mail belongs to, so organisers see only their competitions' mail. Mails
-- about accounts and companies belong to none and are seen by platform administrators only.
ALTER TABLE email
    ADD COLUMN competition_id uuid REFERENCES competition (id) ON DELETE SET NULL;

-- Mails written before this column existed: their competition follows from their event or,
-- for reminders, from the entry or juror in their idempotency key.
UPDATE email m SET competition_id = x.competition_id
FROM event ev
JOIN LATERAL (
    SELECT CASE
        WHEN ev.kind = 'entry.submitted'
            THEN (SELECT e.competition_id FROM entry e WHERE e.id = ev.aggregate_id)
        WHEN ev.kind = 'competition.published'
            THEN (SELECT c.id FROM competition c WHERE c.id = ev.aggregate_id)
        WHEN ev.kind = 'assignments.deployed'
            THEN (SELECT r.competition_id FROM assignment_run r WHERE r.id = ev.aggregate_id)
        WHEN ev.kind = 'juror.invited'
            THEN (SELECT j.competition_id FROM juror j WHERE j.id = ev.aggregate_id)
    END AS competition_id
) x ON true
WHERE m.event_id = ev.id AND m.competition_id IS NULL AND x.competition_id IS NOT NULL;

UPDATE email m SET competition_id = e.competition_id
FROM entry e
WHERE m.event_id IS NULL AND m.competition_id IS NULL
  AND m.template IN ('entry_reminder_72h', 'entry_reminder_24h')
  AND m.idempotency_key LIKE 'reminder-%'
  AND e.id::text = split_part(m.idempotency_key, ':', 2);

UPDATE email m SET competition_id = j.competition_id
FROM juror j
WHERE m.event_id IS NULL AND m.competition_id IS NULL
  AND m.template = 'jury_reminder'
  AND m.idempotency_key LIKE 'jury-reminder-%'
  AND j.id::text = split_part(m.idempotency_key, ':', 2);

CREATE INDEX email_competition ON email (competition_id, created_at);

-- Membership of a company is a conflict from the moment it starts (0007). An assignment made
-- before that moment is voided in the same transaction that starts the membership. It happens
-- here, on the insert, because membership starts on several paths (a company created, a member
-- added, an invitation redeemed, and whatever path comes next): none of them can forget it.
--
-- A voided assignment stays as a record for organisers (progress, assignment runs) and counts
-- nowhere else: no access for the juror, no load, no coverage, no score (its sheet can never
-- become final); the next incremental run gives the entry to someone else. An assignment whose
-- sheet is already final is not voided: it stays on record and conflicted, so it counts for
-- nothing either (access, coverage and results ask `juror_company_conflict`).

ALTER TABLE assignment
    ADD COLUMN voided_at timestamptz,
    ADD COLUMN void_reason text CHECK (void_reason IN ('member')),
    ADD CONSTRAINT assignment_void_complete CHECK ((voided_at IS NULL) = (void_reason IS NULL));

-- One standing assignment per juror and entry; voided ones are history beside it.
ALTER TABLE assignment DROP CONSTRAINT assignment_juror_id_entry_id_key;
CREATE UNIQUE INDEX assignment_standing ON assignment (juror_id, entry_id) WHERE voided_at IS NULL;
CREATE INDEX assignment_voided ON assignment (competition_id) WHERE voided_at IS NOT NULL;

CREATE FUNCTION void_assignments_of_new_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Deployments of the juror's competitions and this transaction wait for each other
    -- (deploy locks its competition too): a deployment either sees the membership and refuses,
    -- or its assignments are committed before the statements below, which void them.
    PERFORM 1 FROM competition c
    WHERE c.id IN (SELECT j.competition_id FROM juror j WHERE j.account_id = NEW.account_id)
    ORDER BY c.id
    FOR NO KEY UPDATE;
    -- A score save holds its assignment (FOR KEY SHARE) until it commits. Wait for it here,
    -- then decide in a new statement, whose snapshot sees a sheet that save has just made final.
    PERFORM 1 FROM assignment a
    JOIN juror j ON j.id = a.juror_id
    JOIN entry e ON e.id = a.entry_id
    WHERE j.account_id = NEW.account_id AND e.company_id = NEW.company_id
      AND a.voided_at IS NULL
    ORDER BY a.id
    FOR UPDATE OF a;
    WITH voided AS (
        UPDATE assignment a SET voided_at = now(), void_reason = 'member'
        FROM juror j, entry e
        WHERE j.id = a.juror_id AND e.id = a.entry_id
          AND j.account_id = NEW.account_id AND e.company_id = NEW.company_id
          AND a.voided_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM score_sheet s
                          WHERE s.assignment_id = a.id AND s.status = 'final')
        RETURNING a.id, a.competition_id, a.juror_id, a.entry_id
    )
    INSERT INTO audit_log (action, competition_id, subject_type, subject_id, data)
    SELECT 'assignment.voided', v.competition_id, 'assignment', v.id::text,
           jsonb_build_object('reason', 'member', 'juror_id', v.juror_id,
                              'entry_id', v.entry_id, 'company_id', NEW.company_id)
    FROM voided v;
    RETURN NULL;
END
$$;

CREATE TRIGGER company_member_voids_assignments AFTER INSERT ON company_member
    FOR EACH ROW EXECUTE FUNCTION void_assignments_of_new_member();

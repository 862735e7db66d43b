-- Every conflict a juror declares, kept as the juror typed it (blind competitions name companies
-- in free text), with what the server matched it to. A declaration that matched no company, or
-- one made after the assignment was deployed, waits for an organiser: an assignment cannot be
-- deployed while one is open.
CREATE TABLE conflict_declaration (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    juror_id            uuid NOT NULL REFERENCES juror (id) ON DELETE CASCADE,
    position            integer NOT NULL,
    company_id          uuid REFERENCES company (id) ON DELETE SET NULL,  -- chosen by id
    declared_as         text,                                            -- typed by the juror
    type                text NOT NULL CHECK (type IN ('employee', 'former_employee', 'customer',
                            'supplier', 'competitor', 'shareholder', 'advisor', 'family',
                            'other')),
    note                text,
    status              text NOT NULL CHECK (status IN ('matched', 'unmatched', 'pending',
                            'resolved', 'dismissed')),
    matched_company_ids uuid[] NOT NULL DEFAULT '{}',
    resolved_by         uuid REFERENCES account (id) ON DELETE SET NULL,
    resolved_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((company_id IS NULL) <> (declared_as IS NULL))
);
CREATE INDEX conflict_declaration_juror ON conflict_declaration (juror_id);

-- A juror's declaration and an organiser's record of the same conflict are two rows: the juror
-- replacing their declaration never removes what an organiser recorded.
ALTER TABLE conflict DROP CONSTRAINT conflict_juror_id_company_id_key;
ALTER TABLE conflict ADD CONSTRAINT conflict_juror_company_source UNIQUE (juror_id, company_id, source);

-- A juror who finds a conflict with one entry after deployment recuses from it: the assignment
-- stays as evidence, withdrawn, and is never given to that juror again.
ALTER TABLE assignment ADD COLUMN recused_at timestamptz, ADD COLUMN recusal_reason text;

-- The jury: jurors per competition, conflicts of interest, assignment runs, assignments, score
-- sheets.

CREATE TABLE juror (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    competition_id         uuid NOT NULL REFERENCES competition (id) ON DELETE CASCADE,
    account_id             uuid REFERENCES account (id) ON DELETE SET NULL,
    email                  text NOT NULL CHECK (email = lower(email)),
    name                   text NOT NULL,
    expertise              text[] NOT NULL DEFAULT '{}',
    max_load               integer CHECK (max_load > 0),
    status                 text NOT NULL DEFAULT 'invited'
                           CHECK (status IN ('invited', 'active', 'declined', 'removed')),
    invited_by             uuid REFERENCES account (id) ON DELETE SET NULL,
    invited_at             timestamptz NOT NULL DEFAULT now(),
    accepted_at            timestamptz,
    conflicts_confirmed_at timestamptz,
    last_reminded_on       date,
    UNIQUE (competition_id, email)
);
CREATE UNIQUE INDEX juror_account ON juror (competition_id, account_id) WHERE account_id IS NOT NULL;
CREATE INDEX juror_by_account ON juror (account_id);

CREATE TABLE conflict (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    juror_id    uuid NOT NULL REFERENCES juror (id) ON DELETE CASCADE,
    company_id  uuid NOT NULL REFERENCES company (id) ON DELETE CASCADE,
    type        text NOT NULL CHECK (type IN ('employee', 'former_employee', 'customer', 'supplier',
                     'competitor', 'shareholder', 'advisor', 'family', 'other')),
    note        text,
    declared_as text,
    source      text NOT NULL CHECK (source IN ('juror', 'organiser')),
    created_by  uuid REFERENCES account (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (juror_id, company_id)
);
CREATE INDEX conflict_company ON conflict (company_id);

CREATE TABLE assignment_run (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    competition_id    uuid NOT NULL REFERENCES competition (id) ON DELETE CASCADE,
    status            text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'done', 'infeasible', 'failed', 'deployed')),
    reviews_per_entry integer NOT NULL CHECK (reviews_per_entry BETWEEN 1 AND 20),
    seed              bigint NOT NULL,
    feasible          boolean,
    report            jsonb,
    stats             jsonb,
    proposal          jsonb,
    error             text,
    created_by        uuid REFERENCES account (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    deployed_at       timestamptz
);
CREATE INDEX assignment_run_competition ON assignment_run (competition_id, created_at);

CREATE TABLE assignment (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    competition_id uuid NOT NULL REFERENCES competition (id) ON DELETE CASCADE,
    juror_id       uuid NOT NULL REFERENCES juror (id) ON DELETE CASCADE,
    entry_id       uuid NOT NULL REFERENCES entry (id) ON DELETE CASCADE,
    run_id         uuid REFERENCES assignment_run (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (juror_id, entry_id)
);
CREATE INDEX assignment_entry ON assignment (entry_id);
CREATE INDEX assignment_competition ON assignment (competition_id);

CREATE TABLE score_sheet (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    assignment_id  uuid NOT NULL UNIQUE REFERENCES assignment (id) ON DELETE CASCADE,
    scores         jsonb NOT NULL DEFAULT '{}'::jsonb,
    comment        text NOT NULL DEFAULT '',
    status         text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'final')),
    version        integer NOT NULL DEFAULT 1,
    weighted_total double precision,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    finalised_at   timestamptz
);

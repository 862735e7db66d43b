-- Competitions with categories and criteria, companies with members, entries, attachments,
-- and the append-only audit log.

CREATE TABLE competition (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug                 text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    title                jsonb NOT NULL,
    description          jsonb NOT NULL DEFAULT '{"de": "", "en": ""}'::jsonb,
    phase                text NOT NULL DEFAULT 'draft' CHECK (phase IN
                         ('draft', 'open', 'closed', 'judging', 'deliberation', 'published', 'archived')),
    submission_opens_at  timestamptz NOT NULL,
    submission_closes_at timestamptz NOT NULL,
    auto_open            boolean NOT NULL DEFAULT false,
    reviews_per_entry    integer NOT NULL CHECK (reviews_per_entry BETWEEN 1 AND 20),
    blind_judging        boolean NOT NULL DEFAULT false,
    eligible_districts   text[] NOT NULL,
    tie_break            text[] NOT NULL DEFAULT ARRAY['median'],
    max_file_bytes       bigint NOT NULL DEFAULT 52428800 CHECK (max_file_bytes > 0),
    max_entry_bytes      bigint NOT NULL DEFAULT 209715200 CHECK (max_entry_bytes > 0),
    max_attachments      integer NOT NULL DEFAULT 10 CHECK (max_attachments > 0),
    version              integer NOT NULL DEFAULT 1,
    created_by           uuid REFERENCES account (id) ON DELETE SET NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (submission_closes_at > submission_opens_at)
);
CREATE INDEX competition_due ON competition (phase, submission_closes_at);

-- Who organises which competition. Global organisers (account.is_organiser) may create
-- competitions and become their organisers; rights are always per competition.
CREATE TABLE competition_organiser (
    competition_id uuid NOT NULL REFERENCES competition (id) ON DELETE CASCADE,
    account_id     uuid NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    added_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (competition_id, account_id)
);
CREATE INDEX competition_organiser_account ON competition_organiser (account_id);

CREATE TABLE category (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    competition_id uuid NOT NULL REFERENCES competition (id) ON DELETE CASCADE,
    slug           text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name           jsonb NOT NULL,
    position       integer NOT NULL,
    UNIQUE (competition_id, slug)
);

CREATE TABLE criterion (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    competition_id uuid NOT NULL REFERENCES competition (id) ON DELETE CASCADE,
    key            text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
    name           jsonb NOT NULL,
    weight         double precision NOT NULL CHECK (weight > 0),
    min_score      double precision NOT NULL,
    max_score      double precision NOT NULL,
    position       integer NOT NULL,
    UNIQUE (competition_id, key),
    CHECK (max_score > min_score)
);

CREATE TABLE company (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    street      text NOT NULL,
    postal_code text NOT NULL,
    city        text NOT NULL,
    district    text NOT NULL,
    employees   integer NOT NULL CHECK (employees >= 0),
    website     text,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE company_member (
    company_id uuid NOT NULL REFERENCES company (id) ON DELETE CASCADE,
    account_id uuid NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'member')),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, account_id)
);
CREATE INDEX company_member_account ON company_member (account_id);

-- Invitations by mail for addresses without an account; redeemed when that address is verified.
CREATE TABLE company_invitation (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    company_id  uuid NOT NULL REFERENCES company (id) ON DELETE CASCADE,
    email       text NOT NULL CHECK (email = lower(email)),
    invited_by  uuid REFERENCES account (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    accepted_at timestamptz,
    UNIQUE (company_id, email)
);

CREATE TABLE entry (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    competition_id     uuid NOT NULL REFERENCES competition (id) ON DELETE CASCADE,
    company_id         uuid NOT NULL REFERENCES company (id),
    category_id        uuid NOT NULL REFERENCES category (id),
    title              text NOT NULL,
    summary            text NOT NULL,
    description        text NOT NULL,
    status             text NOT NULL DEFAULT 'draft'
                       CHECK (status IN ('draft', 'submitted', 'withdrawn', 'disqualified')),
    version            integer NOT NULL DEFAULT 1,
    eligible           boolean NOT NULL,
    eligibility_reason text NOT NULL,
    submitted_at       timestamptz,
    withdrawn_at       timestamptz,
    created_by         uuid REFERENCES account (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX entry_competition ON entry (competition_id, status);
CREATE INDEX entry_company ON entry (company_id);

CREATE TABLE attachment (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    entry_id          uuid NOT NULL REFERENCES entry (id) ON DELETE CASCADE,
    object_key        text NOT NULL UNIQUE,
    filename          text NOT NULL,
    declared_type     text NOT NULL,
    size_bytes        bigint NOT NULL CHECK (size_bytes > 0),
    declared_sha256   text,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'uploaded', 'verified', 'rejected', 'deleted', 'expired')),
    sha256            text,
    sniffed_type      text,
    reject_reason     text,
    upload_expires_at timestamptz NOT NULL,
    created_by        uuid REFERENCES account (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    completed_at      timestamptz,
    verified_at       timestamptz,
    deleted_at        timestamptz,
    object_removed_at timestamptz
);
CREATE INDEX attachment_entry ON attachment (entry_id);
CREATE INDEX attachment_cleanup ON attachment (status, upload_expires_at)
    WHERE object_removed_at IS NULL AND status IN ('pending', 'deleted', 'expired');

-- The audit log: rows are inserted unchained by the request that acts; a sealer then chains them
-- in commit order (seq, prev_hash, hash), so writers never queue behind one another. Rows can be
-- sealed once and never changed or deleted afterwards; `competition audit verify` recomputes the
-- chain and names the first row that does not match.
CREATE TABLE audit_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id       uuid,
    action         text NOT NULL,
    competition_id uuid,
    subject_type   text NOT NULL,
    subject_id     text NOT NULL,
    data           jsonb NOT NULL DEFAULT '{}'::jsonb,
    seq            bigint UNIQUE,
    prev_hash      text,
    hash           text
);
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;
CREATE INDEX audit_log_competition ON audit_log (competition_id, at);

CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_log is append-only';
    END IF;
    IF OLD.seq IS NOT NULL
       OR NEW.id IS DISTINCT FROM OLD.id OR NEW.at IS DISTINCT FROM OLD.at
       OR NEW.actor_id IS DISTINCT FROM OLD.actor_id OR NEW.action IS DISTINCT FROM OLD.action
       OR NEW.competition_id IS DISTINCT FROM OLD.competition_id
       OR NEW.subject_type IS DISTINCT FROM OLD.subject_type
       OR NEW.subject_id IS DISTINCT FROM OLD.subject_id OR NEW.data IS DISTINCT FROM OLD.data THEN
        RAISE EXCEPTION 'audit_log rows cannot be changed';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
